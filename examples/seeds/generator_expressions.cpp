// generator-expressions — a list built at once beside a generator that
// makes each value when asked.
//
// Ports seed 001:
//
//     seq = [x * x for x in range(10)]
//     gen = (x * x for x in range(10))
//     for x in gen:
//         print(x)
//     gen = (x ** y for x, y in zip(range(1, num), range(num - 1, 0, -1)))
//     while n < num:
//         print(next(gen))
//
// C++ has no generator expression; a small generator function is its
// spelling. (A capturing lambda that is a coroutine would be the closest,
// but g++ 12 miscompiles those, so concur's code has none.)
#include <vector>

#include "concur/generator.hpp"
#include "tour.hpp"

using concur::Generator;

// (x * x for x in range(n))
Generator<long> squares(int n) {
  for (int x = 0; x < n; ++x) co_yield static_cast<long>(x) * x;
}

// (x ** y for x, y in zip(range(1, num), range(num - 1, 0, -1)))
Generator<long> powers(int num) {
  for (int x = 1, y = num - 1; x < num && y > 0; ++x, --y) {
    long power = 1;
    for (int i = 0; i < y; ++i) power *= x;
    co_yield power;
  }
}

int main() {
  std::vector<long> seq;
  for (int x = 0; x < 10; ++x) seq.push_back(static_cast<long>(x) * x);
  tour::print("[");
  for (std::size_t i = 0; i < seq.size(); ++i) {
    tour::print("%s%ld", i == 0 ? "" : ", ", seq[i]);
  }
  tour::print("]\n");

  auto gen = squares(10);
  tour::print("a generator, %s\n", concur::state_name(gen.state()));
  for (long x : gen) tour::print("%ld\n", x);

  constexpr int kNum = 10;
  auto gen2 = powers(kNum);
  tour::print("a generator, %s\n", concur::state_name(gen2.state()));
  for (int n = 1; n < kNum; ++n) tour::print("%ld\n", gen2.next());
}
