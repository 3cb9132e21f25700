// subprocess-status — call a program with arguments and print its exit
// code.
//
// Ports seed 002's subprocess example:
//
//     print('$ nslookup www.python.org')
//     r = subprocess.call(['nslookup', 'www.python.org'])
//     print('Exit code:', r)
//
// nslookup is not on every machine, and a name lookup needs a network: the
// port asks getent (part of the C library's tools) for localhost, which
// always answers. Any other command may be named on the command line. The
// child writes straight to this program's stdout, which it inherits.
#include <string>
#include <vector>

#include "concur/subprocess.hpp"
#include "tour.hpp"

namespace sp = concur::subprocess;

int main(int argc, char** argv) {
  std::vector<std::string> command(argv + 1, argv + argc);
  if (command.empty()) command = {"getent", "hosts", "localhost"};
  std::string line = "$";
  for (const std::string& word : command) line += " " + word;
  tour::print("%s\n", line.c_str());
  try {
    const int code = sp::call(command);
    tour::print("Exit code: %d\n", code);
  } catch (const concur::OSError& e) {
    tour::print("cannot run %s: %s\n", command.front().c_str(), e.what());
    return 1;
  }
  return 0;
}
