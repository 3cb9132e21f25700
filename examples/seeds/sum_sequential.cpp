// sum-sequential — the sum of 1..100,000,000, one number after another.
//
// Ports seed 001's sequential sum (seed 004's multitask0.py is the same
// program with ten times as many numbers):
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
// takes several times that), and building it takes most of the program's
// run. The sum takes C++ some 30 ms where Python takes seconds, too short
// for one run to be a measure: the port sums the list ten times and keeps
// the fastest run, as sum-pool does, so that the two compare like with
// like. The compiler turns the loop into vector instructions, so memory,
// not the additions, sets the pace: the program prints the rate at which it
// read the list. The work is real: the tour's time scale does not apply,
// and the times are real seconds.
#include <chrono>
#include <cstdint>
#include <numeric>
#include <vector>

#include "tour.hpp"

int main() {
  std::vector<std::int64_t> number_list(100'000'000);
  std::iota(number_list.begin(), number_list.end(), 1);
  std::chrono::duration<double> fastest = tour::best_of(10, [&] {
    std::int64_t total = 0;
    for (std::int64_t number : number_list) total += number;
    return total;
  });
  double megabytes = number_list.size() * sizeof(std::int64_t) / 1e6;
  tour::print("Fastest run: %.4fs, reading the %.0f MB list at %.1f GB/s\n",
              fastest.count(), megabytes, megabytes / 1e3 / fastest.count());
  tour::report(fastest);
}
