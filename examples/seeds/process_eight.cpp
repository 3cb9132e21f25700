// process-eight — eight Processes, listed by active_children(), then joined.
//
// Ports seed 004's processtest2.py:
//
//     def fun(num):
//         print('process %d ' % num)
//
//     print('Parent process %s.' % os.getpid())
//     for i in range(8):
//         p = multiprocessing.Process(target=fun, args=(i+1,))
//         p.start()
//     for p in multiprocessing.active_children():
//         print('child process name is: '+p.name+' child process id:'
//               +str(p.pid))
//     print('Waiting for All Child process fininshed.')
//     for p in multiprocessing.active_children():
//         p.join()
//     print('Parent process fininshed.')
//
// Each Process object is dropped at the end of its loop turn, as `p` is
// rebound in Python: the child runs on, and the module keeps track of it.
// active_children() returns the children still running, reaping on the way
// those that have ended: a child that printed its line and ended before
// the listing is missing from it, as in Python, and how many are listed
// varies from run to run. The second call lists those still running then,
// and joining them is what is left to wait for; the others were reaped
// already. (Python lists them in no set order; concur in start order.)
#include <unistd.h>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::active_children;
using concur::multiprocessing::Process;

void fun(int num) { tour::print("process %d\n", num); }

int main() {
  tour::print("Parent process %d.\n", static_cast<int>(::getpid()));
  for (int i = 0; i < 8; ++i) {
    Process p(fun, i + 1);
    p.start();
  }
  for (Process& p : active_children()) {
    tour::print("child process name is: %s child process id: %d\n",
                p.name().c_str(), static_cast<int>(*p.pid()));
  }
  tour::print("Waiting for All Child process finished.\n");
  for (Process& p : active_children()) p.join();
  tour::print("Parent process finished.\n");
}
