// queue-writer-reader — a writer and a reader process on one Queue; the
// reader loops for ever, so the parent terminates it.
//
// Ports seed 004's queuecommu2.py (seed 002's write(q)/read(q) is the same,
// with os.getpid() and no main()):
//
//     def write(q):
//         print('Process to write: %s' % current_process().pid)
//         for value in ['A', 'B', 'C']:
//             print('Put %s to queue...' % value)
//             q.put(value)
//             time.sleep(random.random())
//
//     def read(q):
//         print('Process to read: %s' % current_process().pid)
//         while True:
//             value = q.get(True)
//             print('Get %s from queue.' % value)
//
//     q = Queue()
//     pwrite = Process(target=write, args=(q,))
//     pread = Process(target=read, args=(q,))
//     pwrite.start()
//     pread.start()
//     pwrite.join()
//     pread.terminate()
//
// Both children inherit the queue from the parent. The parent cannot wait
// for the reader, which never returns, so once the writer is done it sends
// the reader SIGTERM with terminate(). The port then joins the reader and
// prints its exitcode, -15: minus the signal that ended it, as in Python
// (the seeds do not look). The reader has usually printed "Get C" by then,
// since the writer sleeps after each put; a writer that drew a sleep of
// almost 0 can let the parent terminate the reader first, in Python too.
// Python warns that a process terminated while it uses a queue may break
// the queue for the others; concur's queue survives it (mp_queue.hpp).
// random.random() becomes a draw of tour::randint to the millisecond, in
// seed time; write and read, names POSIX has taken, become writer and
// reader. (Seed 004 writes `def main()` without its colon: as printed, it
// is a SyntaxError.)
#include <chrono>
#include <string>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::current_process;
using concur::multiprocessing::Process;
using concur::multiprocessing::Queue;

// Python's random.random(): seconds in [0, 1), to the millisecond.
std::chrono::duration<double> random_seconds() {
  return std::chrono::duration<double>(tour::randint(0, 999) / 1000.0);
}

void writer(Queue<std::string> q) {
  tour::print("Process to write: %d\n",
              static_cast<int>(*current_process().pid()));
  for (const char* value : {"A", "B", "C"}) {
    tour::print("Put %s to queue...\n", value);
    q.put(value);
    tour::sleep(random_seconds());
  }
}

void reader(Queue<std::string> q) {
  tour::print("Process to read: %d\n",
              static_cast<int>(*current_process().pid()));
  for (;;) {
    std::string value = q.get();
    tour::print("Get %s from queue.\n", value.c_str());
  }
}

int main() {
  Queue<std::string> q;
  Process pwrite(writer, q);
  Process pread(reader, q);
  pwrite.start();
  pread.start();
  pwrite.join();
  pread.terminate();
  pread.join();
  tour::print("The reader was terminated: exitcode %d.\n", *pread.exitcode());
}
