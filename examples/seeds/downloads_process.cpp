// downloads-process — two downloads at once, one Process each; each child
// prints its PID.
//
// Ports the Process version of seeds 000 and 001 (and 003's
// main_mulprocess):
//
//     def download_task(filename):
//         print('启动下载进程，进程号[%d].' % getpid())
//         print('开始下载%s...' % filename)
//         time_to_download = randint(5, 10)
//         sleep(time_to_download)
//         print('%s下载完成! 耗费了%d秒' % (filename, time_to_download))
//
//     def main():
//         start = time()
//         p1 = Process(target=download_task, args=('Python从入门到住院.pdf', ))
//         p1.start()
//         p2 = Process(target=download_task, args=('Peking Hot.avi', ))
//         p2.start()
//         p1.join()
//         p2.join()
//         end = time()
//         print('总共耗费了%.2f秒.' % (end - start))
//
// Process(target, args...) is Thread's counterpart: start() forks a child
// that calls the target, join() waits for it and reaps it. The two
// downloads overlap, as on two threads: the total is the longer one. (At
// the tour's scale, the few milliseconds that forking and reaping cost show
// as some 0.4 s of seed time over downloads-thread's total.)
//
// The port draws each duration in the parent, before starting the child,
// and passes it as an argument. A child runs on a copy of the parent's
// memory, tour::randint's engine included: with CONCUR_TOUR_SEED set, both
// children would start from the same engine and draw the same duration.
// (Python's random reseeds itself in a forked child, so its two draw
// different ones.) Drawn in the parent, in start order, they are also the
// durations downloads-sequential draws, so the tour compares like with
// like. The seeds' notebooks print only a total of a fraction of a second
// (000, 003): the children's output, and their downloads, never showed
// there, most likely because of Windows' spawn start method, under which a
// child cannot find a function defined in a notebook. Seed 001 quotes a run
// from a terminal, which this port prints.
#include <unistd.h>

#include <string>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::multiprocessing::Process;

void download_task(const std::string& filename, int time_to_download) {
  tour::print("Start download process, pid [%d].\n",
              static_cast<int>(::getpid()));
  tour::print("Start downloading %s...\n", filename.c_str());
  tour::sleep(time_to_download * 1s);
  tour::print("%s downloaded! Took %d s\n", filename.c_str(), time_to_download);
}

int main() {
  tour::Stopwatch start;
  Process p1(download_task, "Python from Beginner to Hospital.pdf",
             tour::randint(5, 10));
  p1.start();
  Process p2(download_task, "Peking Hot.avi", tour::randint(5, 10));
  p2.start();
  p1.join();
  p2.join();
  tour::print("Total: %.2f s.\n", start.seconds());
  tour::report(start);
}
