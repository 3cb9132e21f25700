// sum-sequential — the sum of 1..100,000,000, one number after another.
//
// Ports seed 001's sequential sum (seed 004 has the same program with ten
// times as many numbers):
//
//     def main():
//         total = 0
//         number_list = [x for x in range(1, 100000001)]
//         start = time()
//         for number in number_list:
//             total += number
//         print(total)
//         end = time()
//         print('Execution time: %.3fs' % (end - start))
//
// As in the seed, the list is built first and only the sum is timed. The
// list is a std::vector of 64-bit integers (800 MB; Python's list of ints
// takes several times that). The compiler turns the loop into vector
// instructions, so memory, not the additions, sets the pace. The work is
// real: the tour's time scale does not apply, and the times are real
// seconds. sum-pool splits the same sum across a ThreadPoolExecutor.
#include <chrono>
#include <cstdint>
#include <numeric>
#include <vector>

#include "tour.hpp"

int main() {
  std::int64_t total = 0;
  std::vector<std::int64_t> number_list(100'000'000);
  std::iota(number_list.begin(), number_list.end(), 1);
  tour::Stopwatch start;
  for (std::int64_t number : number_list) total += number;
  tour::print("%lld\n", static_cast<long long>(total));
  tour::print("Execution time: %.3fs\n", start.elapsed().count());
  tour::report(start);
}
