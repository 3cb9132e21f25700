// process-child — a child Process runs a function; the parent waits for it.
//
// Ports seed 004's processtest1.py (seed 002's run_proc('test') is the same
// program without the "hello" line, and ends with "Child process end."):
//
//     def fun(name):
//         print('Run child process %s (%s)...' % (name, os.getpid()))
//         print('hello', name)
//
//     if __name__=='__main__':
//         print('Parent process %s.' % os.getpid())
//         p = Process(target=fun, args=('zhang',))
//         print('Child process will start.', p.name)
//         p.start()
//         p.join()
//         print('Parent process fininshed.')
//
// The child's PID differs from the parent's: fork() made a new process,
// which runs fun() and ends. A Process made without a name is called
// Process-N, N counting the Process objects this process has made, as in
// Python. Python needs the `if __name__ == '__main__'` guard because a
// child started by spawn re-imports the program; a forked child starts
// inside start(), so C++ has nothing to guard.
#include <unistd.h>

#include <string>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::Process;

void fun(const std::string& name) {
  tour::print("Run child process %s (%d)...\n", name.c_str(),
              static_cast<int>(::getpid()));
  tour::print("hello %s\n", name.c_str());
}

int main() {
  tour::print("Parent process %d.\n", static_cast<int>(::getpid()));
  Process p(fun, "zhang");
  tour::print("Child process will start. %s\n", p.name().c_str());
  p.start();
  p.join();
  tour::print("Parent process finished.\n");
}
