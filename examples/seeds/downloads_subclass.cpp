// downloads-subclass — two downloads at once, each a Thread subclass.
//
// Ports the DownloadTask program of seeds 000 and 001:
//
//     class DownloadTask(Thread):
//         def __init__(self, filename):
//             super().__init__()
//             self._filename = filename
//
//         def run(self):
//             print('开始下载%s...' % self._filename)
//             time_to_download = randint(5, 10)
//             sleep(time_to_download)
//             print('%s下载完成! 耗费了%d秒' % (self._filename,
//             time_to_download))
//
//     t1 = DownloadTask('Python从入门到住院.pdf'); t1.start()
//     t2 = DownloadTask('Peking Hot.avi'); t2.start()
//     t1.join(); t2.join()
//
// start() calls the overridden run() on a new thread. The thread runs on the
// object itself, so the object must outlive run(): here both live in main()
// until after join(). (Seed 000 stores self.filename but reads
// self._filename, and both threads die with AttributeError; a C++ compiler
// rejects that program instead.)
#include <string>
#include <utility>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

class DownloadTask : public Thread {
 public:
  explicit DownloadTask(std::string filename)
      : filename_(std::move(filename)) {}

 protected:
  void run() override {
    tour::print("Start downloading %s...\n", filename_.c_str());
    int time_to_download = tour::randint(5, 10);
    tour::sleep(time_to_download * 1s);
    tour::print("%s downloaded! Took %d s\n", filename_.c_str(),
                time_to_download);
  }

 private:
  std::string filename_;
};

int main() {
  tour::Stopwatch start;
  DownloadTask t1("Python from Beginner to Hospital.pdf");
  t1.start();
  DownloadTask t2("Peking Hot.avi");
  t2.start();
  t1.join();
  t2.join();
  tour::print("Total: %.2f s.\n", start.seconds());
  tour::report(start);
}
