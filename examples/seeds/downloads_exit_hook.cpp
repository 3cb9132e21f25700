// downloads-exit-hook — two downloads on threads nobody joins, and an exit
// hook that prints the total time: first as the seed has it, then fixed.
//
// Ports the _thread program of seed 001 (seeds/001_80d604e01bbd67b7.txt):
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
// _thread's threads are not waited for at exit, so the seed's hook runs as
// soon as main() returns: it prints a total of almost nothing and the
// downloads are cut off. The port shows that with daemon threads, which
// Python's exit (and concur's) does not wait for either, and
// concur::atexit::register_ for atexit.register. Then the fix: ordinary
// (non-daemon) threads, which exit joins before it runs the atexit hooks,
// so the hook sees the whole run.
//
// A process exits once, so the seed's version runs in a child process
// (fork, as seed 001's os.fork example does) and the fix in this one.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "concur/atexit.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

void download_task(const std::string& filename) {
  tour::print("Start downloading %s...\n", filename.c_str());
  int time_to_download = tour::randint(5, 10);
  tour::sleep(time_to_download * 1s);
  tour::print("%s downloaded! Took %d s.\n", filename.c_str(),
              time_to_download);
}

void shutdown_hook(const tour::Stopwatch& start) {
  tour::print("Total: %.3f s.\n", start.seconds());
}

// main() of the seed, with its threads as daemons or not.
void start_downloads(bool daemon) {
  tour::Stopwatch start;
  Thread({.daemon = daemon}, download_task,
         "Python from Beginner to Hospital.pdf")
      .start();
  Thread({.daemon = daemon}, download_task, "Peking Hot.avi").start();
  concur::atexit::register_([start, daemon] {
    shutdown_hook(start);
    if (!daemon) tour::report(start);  // the tour's table times the fix
  });
}

int main() {
  tour::print("As the seed: threads nobody waits for (daemon threads)\n");
  if (const pid_t child = fork(); child == 0) {
    start_downloads(true);
    std::exit(0);  // the hook runs now; the downloads die with the process
  } else if (child > 0) {
    waitpid(child, nullptr, 0);
  }
  tour::print("\nFixed: non-daemon threads, joined at exit before the hook\n");
  start_downloads(false);
}
