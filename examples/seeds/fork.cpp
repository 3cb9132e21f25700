// fork — fork(): one call, two returns; the child and the parent print
// their PIDs.
//
// Ports seed 002's os.fork():
//
//     print('Process (%s) start...' % os.getpid())
//     pid = os.fork()
//     if pid == 0:
//         print('I am child process (%s) and my parent is %s'
//               % (os.getpid(), os.getppid()))
//     else:
//         print('I (%s) just created a child process (%s).'
//               % (os.getpid(), pid))
//
// fork() copies the calling process: it returns 0 in the copy (the child)
// and the child's PID in the parent, and both go on from there. This is
// POSIX's fork itself, as os.fork is. The parent then waits for its child
// (the seed does not), so that the child's line is printed before the
// program ends and no zombie is left; the child leaves with _exit, as a
// forked child that is done should, without running the parent's exit
// handlers a second time. multiprocessing::Process wraps all of this.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "tour.hpp"

int main() {
  tour::print("Process (%d) start...\n", static_cast<int>(::getpid()));
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {
    tour::print("I am child process (%d) and my parent is %d\n",
                static_cast<int>(::getpid()), static_cast<int>(::getppid()));
    ::_exit(0);
  }
  tour::print("I (%d) just created a child process (%d).\n",
              static_cast<int>(::getpid()), static_cast<int>(pid));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
