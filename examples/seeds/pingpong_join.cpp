// pingpong-join — "Ping" and "Pong" threads share one counter; main joins.
//
// Ports seed 004's pingpangThreadJoin.py with its join() calls restored,
// counting to 10 as the Process version in seeds 000 and 001 does:
//
//     counter = 0
//     def sub_task(string):
//         global counter
//         while counter < 10:
//             print(string, end='', flush=True)
//             counter += 1
//             sleep(0.01)
//
//     p1 = Thread(target=sub_task, args=('Ping', ))
//     p2 = Thread(target=sub_task, args=('Pong', ))
//     p1.start(); p2.start()
//     p1.join(); p2.join()
//
// Threads share memory: both count on the one counter, so ten words print
// in all. (The seeds' Process version prints ten of each, since each process
// has its own counter; it comes with the multiprocessing scenarios.)
#include <atomic>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

// Atomic, so that two threads touching it is not undefined behaviour in C++.
// The test and the increment are still two steps, as in Python: now and then
// both threads pass the test at 9 and eleven words print.
std::atomic<int> counter = 0;

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
  p2.start();
  p1.join();
  p2.join();
  tour::print("\n");
}
