// downloads-sequential — two "downloads", one after the other.
//
// Ports the first program of seeds 000 and 001 (and of 003, which fixes the
// time at 5 s):
//
//     def download_task(filename):
//         print('开始下载%s...' % filename)
//         time_to_download = randint(5, 10)
//         sleep(time_to_download)
//         print('%s下载完成! 耗费了%d秒' % (filename, time_to_download))
//
//     def main():
//         start = time()
//         download_task('Python从入门到住院.pdf')
//         download_task('Peking Hot.avi')
//         end = time()
//         print('总共耗费了%.2f秒.' % (end - start))
//
// The second download waits for the first, although they have nothing to do
// with each other: the total is the sum of the two. The other downloads-*
// scenarios run the same two downloads at once.
#include <string>

#include "tour.hpp"

using namespace std::chrono_literals;

void download_task(const std::string& filename) {
  tour::print("Start downloading %s...\n", filename.c_str());
  int time_to_download = tour::randint(5, 10);
  tour::sleep(time_to_download * 1s);
  tour::print("%s downloaded! Took %d s\n", filename.c_str(), time_to_download);
}

int main() {
  tour::Stopwatch start;
  download_task("Python from Beginner to Hospital.pdf");
  download_task("Peking Hot.avi");
  tour::print("Total: %.2f s.\n", start.seconds());
  tour::report(start);
}
