// process-subclass — a Process subclass that overrides run().
//
// Ports seed 004's processtest3.py:
//
//     class MySubProcess(multiprocessing.Process):
//         def __init__(self,name):
//             self.name = name
//             super().__init__()
//         def run(self):
//             print('Run child process %s (%s)...' % (self.name, os.getpid()))
//             print('hello', self.name)
//
//     if __name__=='__main__':
//         print('Parent process %s.' % os.getpid())
//         p = MySubProcess('zhang')
//         print('Child process will start.')
//         p.start()
//         p.join()
//         print('Parent process fininshed.')
//
// start() forks, and the child calls the overridden run() on its copy of
// the object. The name goes to the base class's constructor, in
// ProcessOptions. The seed means the same but sets self.name before
// calling super().__init__(), which then gives the process its default
// name: Python prints "Run child process MySubProcess-1 (...)" and
// "hello MySubProcess-1". The port prints the "zhang" the seed intended.
// (A concur Process made without a name is Process-N: C++ does not know
// the subclass's name there.)
#include <unistd.h>

#include <string>
#include <utility>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::Process;
using concur::multiprocessing::ProcessOptions;

class MySubProcess : public Process {
 public:
  explicit MySubProcess(std::string name)
      : Process(ProcessOptions{.name = std::move(name)}) {}

 protected:
  void run() override {
    tour::print("Run child process %s (%d)...\n", name().c_str(),
                static_cast<int>(::getpid()));
    tour::print("hello %s\n", name().c_str());
  }
};

int main() {
  tour::print("Parent process %d.\n", static_cast<int>(::getpid()));
  MySubProcess p("zhang");
  tour::print("Child process will start.\n");
  p.start();
  p.join();
  tour::print("Parent process finished.\n");
}
