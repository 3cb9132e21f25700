// queue-ping-pong — 1000 "Ping" from the parent and 1000 "Pong" from a
// child on one Queue; the parent joins the child, then gets all 2000.
//
// Ports seed 001's sub_task(queue):
//
//     def sub_task(queue):
//         print('子进程进程号:', os.getpid())
//         counter = 0
//         while counter < 1000:
//             queue.put('Pong')
//             counter += 1
//
//     if __name__ == '__main__':
//         print('当前进程号:', os.getpid())
//         queue = multiprocessing.Queue()
//         p = multiprocessing.Process(target=sub_task, args=(queue,))
//         p.start()
//         counter = 0
//         while counter < 1000:
//             queue.put('Ping')
//             counter += 1
//         p.join()
//         print('子任务已经完成.')
//         for _ in range(2000):
//             print(queue.get(), end='')
//
// Both processes put on the one queue, and the words come out in the order
// they were put: a thousand puts take less time than a fork, so usually
// in two blocks, one process's words and then the other's. Python's docs warn
// against this shape
// ("joining processes that use queues"): a Python put() hands the item to a
// feeder thread, which writes it to a pipe, and a child does not end until
// its feeder has written everything. Both feeders share a pipe of 64 KiB
// here, so if the items do not fit, the child waits for a reader and the
// parent's join() waits for the child: a deadlock. The seed's 2000 short
// words (some 46 KB pickled) fit; with 1500 from each side, Python 3.11 on
// Linux hangs. (The seed's own output shows the parent's PID, "Subtask
// finished." and 1000 Pings alone: the child never ran there, most likely
// under Windows' spawn from a notebook, and the parent then waits for ever
// for its 1001st item.)
//
// concur's Queue has no feeder thread: put() writes the item into shared
// memory and returns once it is there, so the child ends after its last
// put, and join() cannot wait on buffered items. The limit moves into
// put(): even with no maxsize, the queue's buffer is bounded (256 KiB by
// default, some 16,000 such words), and a put into a full buffer waits for
// a get. Past that, the puts would wait for ever here too, before the
// join; QueueOptions::buffer_bytes makes the buffer larger.
#include <unistd.h>

#include <string>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::Process;
using concur::multiprocessing::Queue;

void sub_task(Queue<std::string> queue) {
  tour::print("Child process PID: %d\n", static_cast<int>(::getpid()));
  for (int counter = 0; counter < 1000; ++counter) queue.put("Pong");
}

int main() {
  tour::print("Current process PID: %d\n", static_cast<int>(::getpid()));
  Queue<std::string> queue;
  Process p(sub_task, queue);
  p.start();
  for (int counter = 0; counter < 1000; ++counter) queue.put("Ping");
  p.join();
  tour::print("Subtask finished.\n");
  int pongs = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string word = queue.get();
    if (word == "Pong") ++pongs;
    tour::print("%s", word.c_str());
  }
  tour::print("\n(%d Ping and %d Pong)\n", 2000 - pongs, pongs);
}
