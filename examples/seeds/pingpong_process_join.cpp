// pingpong-process-join — the same two processes, each joined before the
// next starts: five Pings, then five Pongs.
//
// Ports seed 004's pingpang2.py:
//
//     counter = 0
//     def sub_task(string):
//         global counter
//         while counter < 5:
//             print(string, end='', flush=True)
//             counter += 1
//             sleep(0.01)
//
//     def main():
//         p1 = Process(target=sub_task, args=('Ping', ))
//         p2 = Process(target=sub_task, args=('Pong', ))
//         p1.start()
//         p1.join()
//         p2.start()
//         p2.join()
//
// The joins make the children run one after the other, as in
// pingpong-join, but there the second thread finds the shared counter at
// its end and prints nothing. Here each child counts on its own copy of
// the parent's counter, still 0 when Pong is forked, so Pong prints five
// words too ("each child process has its own memory: each has its own
// counter variable", as the seed says).
#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::multiprocessing::Process;

int counter = 0;

void sub_task(const char* string) {
  while (counter < 5) {
    tour::print("%s", string);
    ++counter;
    tour::sleep(10ms);
  }
}

int main() {
  Process p1(sub_task, "Ping");
  Process p2(sub_task, "Pong");
  p1.start();
  p1.join();
  p2.start();
  p2.join();
  tour::print(
      "\nThe parent's counter is still %d: each child counted on its"
      " own copy.\n",
      counter);
}
