// pingpong-nojoin — the shared-counter ping/pong, and main() does not join.
//
// Ports seed 004's pingpangThreadJoin.py as printed, joins commented out:
//
//     def main():
//         p1 = Thread(target=sub_task, args=('Ping', ))
//         p2 = Thread(target=sub_task, args=('Pong', ))
//         p1.start()
//     #     p1.join()
//         p2.start()
//     #     p2.join()
//
// main() returns while the threads still run. As in Python, the program does
// not end there: non-daemon threads are joined at exit, so all ten words
// print, most of them after main() has said it returns. (A daemon thread
// would be cut off instead.)
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
  tour::print("[main() returns]");
}
