// downloads-exit-hook — two downloads on threads nobody joins; an exit hook
// prints the total time.
//
// Ports the _thread program of seed 001:
//
//     def shutdown_hook(start):
//         end = time()
//         print('总共耗费了%.3f秒.' % (end - start))
//
//     def main():
//         start = time()
//         _thread.start_new_thread(download_task, ('Python从入门到住院.pdf',))
//         _thread.start_new_thread(download_task, ('Peking Hot.avi',))
//         atexit.register(shutdown_hook, start)
//
// The closest C++ analogs: a concur Thread started and its handle dropped,
// for start_new_thread, and std::atexit, for atexit.register. They do what
// the tutorial means rather than what _thread does: _thread's threads are
// not waited for at exit, so in Python the hook fires at once and the
// downloads are cut off. A non-daemon concur Thread, like a threading.Thread,
// is joined when main() returns, and the hook then sees the whole run.
#include <cstdlib>
#include <string>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

void download_task(const std::string& filename) {
  tour::print("Start downloading %s...\n", filename.c_str());
  int time_to_download = tour::randint(5, 10);
  tour::print("Time remaining: %d s.\n", time_to_download);
  tour::sleep(time_to_download * 1s);
  tour::print("%s downloaded!\n", filename.c_str());
}

// std::atexit takes no arguments, so `start` is a global, not a bound one.
tour::Stopwatch start;

void shutdown_hook() {
  tour::print("Total: %.3f s.\n", start.seconds());
  tour::report(start);
}

int main() {
  // Registered before the threads start, unlike in the seed. C++ runs exit
  // handlers in the reverse order of registration, and concur registers its
  // join of non-daemon threads at the first start(), so a hook registered
  // later would run before the downloads end. (Python runs every atexit
  // hook after that join, whenever it was registered.)
  std::atexit(shutdown_hook);
  Thread(download_task, "Python from Beginner to Hospital.pdf").start();
  Thread(download_task, "Peking Hot.avi").start();
}
