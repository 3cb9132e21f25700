// downloads-nojoin — the slip of the Thread version: only the second thread
// is started, and nothing is joined.
//
// Ports the first Thread program of seed 000:
//
//     def main():
//         start = time()
//         t1 = Thread(target=download, args=('python从入门到住院.pdf',) )
//         t2 = Thread(target=download, args=('Peking Hot.avi',))
//         t2.start()
//         end = time()
//         print('总共消耗了%.2f秒'% (end - start))
//
// which printed:
//
//     开始下载Peking Hot.avi。。。。总共消耗了0.01秒
//     Peking Hot.avi下载完成！消耗了5秒
//
// t1 is made but never started, so its download never happens. main()
// does not wait for t2, so the total is taken as soon as t2 has started,
// and printed before its download ends. (It may even come before t2's
// first line: Python's start() waits for the thread to begin running,
// concur's does not.) The program does not end with
// main(): t2 is not a daemon, so it is joined at exit, in Python as here,
// and its download finishes after the total. downloads-thread is the
// program as meant: both started, both joined.
#include <string>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

void download(const std::string& filename) {
  tour::print("Start downloading %s...\n", filename.c_str());
  int time_to_download = tour::randint(5, 10);
  tour::sleep(time_to_download * 1s);
  tour::print("%s downloaded! Took %d s\n", filename.c_str(), time_to_download);
}

int main() {
  tour::Stopwatch start;
  Thread t1(download, "Python from Beginner to Hospital.pdf");
  Thread t2(download, "Peking Hot.avi");
  t2.start();
  tour::print("Total: %.2f s\n", start.seconds());
  tour::report(start);
  tour::print("[main() returns: t1 never started; t2 is still downloading]\n");
}
