// downloads-thread — two downloads at once, one Thread each, function target.
//
// Ports the Thread version of seeds 000 and 001:
//
//     def main():
//         start = time()
//         t1 = Thread(target=download, args=('Python从入门到住院.pdf',))
//         t1.start()
//         t2 = Thread(target=download, args=('Peking Hot.avi',))
//         t2.start()
//         t1.join()
//         t2.join()
//         end = time()
//         print('总共耗费了%.3f秒' % (end - start))
//
// Thread(target, args...) copies its arguments into the new thread, as
// std::thread does; start() runs it, join() waits for it. The total is the
// longer download, not the sum. (Seed 000 also shows the slip of starting
// only t2 and never joining: downloads-nojoin ports it.)
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
  t1.start();
  Thread t2(download, "Peking Hot.avi");
  t2.start();
  t1.join();
  t2.join();
  tour::print("Total: %.3f s\n", start.seconds());
  tour::report(start);
}
