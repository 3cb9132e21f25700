// pingpong-local — ping/pong where each thread counts on its own counter.
//
// Ports seed 004's pingpang_thread-local.py:
//
//     counter = local()
//     def sub_task(string):
//         counter = 0
//         while counter < 5:
//             print(string, end='', flush=True)
//             counter += 1
//             sleep(0.01)
//
// threading.local gives every thread its own value behind one name. (The
// seed assigns a plain local variable that hides its local(), to the same
// effect; here the thread-local really counts, to 10 as in the other
// ping/pong scenarios.) Each thread stops at its own 10: twenty words.
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;

// One int per thread, each starting at 0.
concur::threading::local<int> counter;

void sub_task(const char* string) {
  while (*counter < 10) {
    tour::print("%s", string);
    ++*counter;
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
