// fibonacci — the first 20 Fibonacci numbers from a generator.
//
// Ports seed 001:
//
//     def fib(num):
//         n, a, b = 0, 0, 1
//         while n < num:
//             yield b
//             a, b = b, a + b
//             n += 1
//
//     for x in fib(20):
//         print(x)
#include <utility>

#include "concur/generator.hpp"
#include "tour.hpp"

concur::Generator<long> fib(int num) {
  long a = 0;
  long b = 1;
  for (int n = 0; n < num; ++n) {
    co_yield b;
    a = std::exchange(b, a + b);
  }
}

int main() {
  for (long x : fib(20)) tour::print("%ld\n", x);
}
