// subprocess-programs — run each program named on the command line; say so
// when one cannot be run.
//
// Ports seed 001's subprocess loop:
//
//     if len(sys.argv) > 1:
//         for index in range(1, len(sys.argv)):
//             try:
//                 status = subprocess.call(sys.argv[index])
//             except FileNotFoundError:
//                 print('不能执行%s命令' % sys.argv[index])
//     else:
//         print('请使用命令行参数指定要执行的进程')
//
// subprocess::call starts the program (found through PATH, as the shell
// would) and waits for it. A program that does not exist raises
// FileNotFoundError in the parent, before anything runs: the failed exec's
// error travels back, rather than a child exiting with 127. Without
// arguments (as the tour runs it) the program runs a short default list:
// two programs every Linux system has, and one that does not exist.
#include <cstdio>
#include <string>
#include <vector>

#include "concur/subprocess.hpp"
#include "tour.hpp"

namespace sp = concur::subprocess;

int main(int argc, char** argv) {
  std::vector<std::string> programs(argv + 1, argv + argc);
  if (programs.empty()) {
    tour::print("(no programs named: running uname, true and a missing one)\n");
    programs = {"uname", "true", "concur-no-such-program"};
  }
  for (const std::string& program : programs) {
    try {
      const int status = sp::call({program});
      tour::print("%s exited with %d\n", program.c_str(), status);
    } catch (const concur::FileNotFoundError&) {
      tour::print("cannot run %s\n", program.c_str());
    }
  }
  return 0;
}
