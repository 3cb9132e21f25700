// pingpong-process — Ping and Pong in two processes, each with its own
// copy of the counter; main() does not join them.
//
// Ports pingpang1.py of seeds 000, 001 and 004 (004 counts to 5):
//
//     counter = 0
//     def sub_task(string):
//         global counter
//         while counter < 10:
//             print(string, end='', flush=True)
//             counter += 1
//             sleep(0.01)
//
//     def main():
//         Process(target=sub_task, args=('Ping', )).start()
//         Process(target=sub_task, args=('Pong', )).start()
//
// Each child is forked with a copy of the parent's memory, and counts on
// its own copy of `counter`: ten Pings and ten Pongs, twenty words, where
// the same program on threads (pingpong-nojoin) shares one counter and
// prints ten words in all. The parent's counter stays 0. (At the tour's
// scale a fork takes longer than several of Ping's pauses, so Ping may
// print most of its words before Pong starts; at the seed's pace the two
// alternate.)
//
// main() returns while the children run. As in Python, the program does
// not end there: at normal exit concur joins every child that is not a
// daemon (multiprocessing.util's exit function), so all the words print,
// after main() has said it returns. The newline that ends the output must
// come after them, so it is printed by a std::atexit function registered
// before the first start(): C++ runs atexit functions last registered
// first, and concur installs its exit sequence, which joins the children,
// at that first start() (see concur/atexit.hpp).
#include <cstdlib>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::multiprocessing::Process;

int counter = 0;

void sub_task(const char* string) {
  while (counter < 10) {
    tour::print("%s", string);
    ++counter;
    tour::sleep(10ms);
  }
}

int main() {
  std::atexit([] {
    tour::print("\n[the children were joined at exit; counter is %d here]\n",
                counter);
  });
  Process(sub_task, "Ping").start();
  Process(sub_task, "Pong").start();
  tour::print("[main() returns]");
}
