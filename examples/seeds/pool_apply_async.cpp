// pool-apply-async — Pool(5): eight tasks by apply_async, then close, join.
//
// Ports seed 004's pool.py (seed 002's long_time_task is the same program
// with five tasks):
//
//     def fun(num):
//         print('child process %s Running (%s)' % (num, os.getpid()))
//         start = time.time()
//         time.sleep(random.random() * 3)
//         end = time.time()
//         print('child process %s runs %0.2f seconds.' % (num, (end - start)))
//
//     print('Parent process %s.' % os.getpid())
//     p = Pool(5)
//     for i in range(8):
//         p.apply_async(fun, args=(i,))
//     print('Waiting for All child process finished...')
//     p.close()
//     p.join()
//     print('All child process finished.')
//
// Five worker processes run the eight tasks: the first five start at once,
// the other three as workers come free, so some PIDs appear twice. close()
// takes no more tasks; join() waits until the workers have run the ones
// sent and ended.
//
// A task is a plain function with arguments that can be sent to another
// process (the pool's workers were forked before the call). The random
// durations are drawn here, in the parent, and sent with each task: the
// workers are copies of this process, so each would draw the same numbers
// from its copy of the generator (Python reseeds its random module in every
// child; C++ leaves that to the program).
#include <unistd.h>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;

void fun(int num, double seconds) {
  tour::print("child process %d Running (%d)\n", num,
              static_cast<int>(::getpid()));
  tour::Stopwatch start;
  tour::sleep(seconds * 1s);
  tour::print("child process %d runs %0.2f seconds.\n", num, start.seconds());
}

int main() {
  tour::print("Parent process %d.\n", static_cast<int>(::getpid()));
  tour::Stopwatch start;
  mp::Pool p(5);
  for (int i = 0; i < 8; ++i) {
    // random.random() * 3, in hundredths of a second
    p.apply_async(fun, i, tour::randint(0, 300) / 100.0);
  }
  tour::print("Waiting for All child process finished...\n");
  p.close();
  p.join();
  tour::print("All child process finished.\n");
  tour::report(start);
}
