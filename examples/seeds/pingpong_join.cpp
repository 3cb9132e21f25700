// pingpong-join — "Ping" and "Pong" threads on one shared counter, each
// joined before the next starts.
//
// Ports seed 004's pingpangThreadJoin.py with its join() calls restored,
// counting to 10 with pauses of 0.01 s, as the other ping/pong scenarios do
// (this seed counts to 5 with pauses of 0.001 s):
//
//     counter = 0
//     def sub_task(string):
//         global counter
//         while counter < 5:
//             print(string, end='')
//             counter += 1
//             sleep(0.001)
//
//     def main():
//         p1 = Thread(target=sub_task, args=('Ping', ))
//         p2 = Thread(target=sub_task, args=('Pong', ))
//         p1.start()
//     #     p1.join()
//         p2.start()
//     #     p2.join()
//
// Each join() sits between the starts, so Pong starts only once Ping has
// ended, and the threads run one after the other. They share the counter:
// Ping counts it to 10, and Pong, finding it there, prints nothing. (The
// same program on processes, seed 004's pingpang2.py, prints five of each,
// since each process has its own counter; it waits for concur's
// multiprocessing. pingpong-nojoin runs this one as printed, joins
// commented out.)
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

// A plain int, unlike pingpong-nojoin's atomic: the joins order the two
// threads, so they never touch it at the same time.
int counter = 0;

void sub_task(const char* string) {
  while (counter < 10) {
    tour::print("%s", string);
    ++counter;
    tour::sleep(10ms);
  }
}

int main() {
  Thread p1(sub_task, "Ping");
  Thread p2(sub_task, "Pong");
  p1.start();
  p1.join();
  p2.start();
  p2.join();
  tour::print(
      "\nPong started after Ping had ended, found the counter at %d, and"
      " printed nothing.\n",
      counter);
}
