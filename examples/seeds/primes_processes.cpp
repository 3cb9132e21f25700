// primes-processes — the six PRIMES in a ProcessPoolExecutor, with map; the
// same function then runs them on a ThreadPoolExecutor.
//
// Ports seed 004's PrimeWithfuture.py as the seed writes it, with processes
// (primes-threads ports its thread version):
//
//     def main():
//         start = time()
//         with concurrent.futures.ProcessPoolExecutor() as pool:
//             for number, prime in zip(PRIMES, pool.map(is_prime, PRIMES)):
//                 print('%d is prime? %s' % (number, prime))
//         end = time()
//         print((end-start)/len(PRIMES))
//
// check_primes() is written once, against the futures::Executor concept
// (submit, map, shutdown), and run on both pools. A ProcessPoolExecutor
// forks its workers at the first call and sends each number to one of them;
// is_prime travels as its address, valid in every process forked from this
// program. In Python processes are the only way to use every core for this
// work; in C++ threads do it too, without copying anything, so the two
// pools take about the same time here, both about half of
// primes-sequential's on two cores (the process pool also pays for its
// forks). The times are real seconds; the tour's table shows the process
// pool's speed-up.
#include <cmath>
#include <cstdint>
#include <iterator>

#include "concur/futures.hpp"
#include "concur/os.hpp"
#include "tour.hpp"

namespace futures = concur::futures;

constexpr std::int64_t PRIMES[] = {
    112272535095293,  // 15 digits
    112582705942171,  //
    112272535095293,  //
    115280095190773,  //
    115797848077099,  //
    1099726899285419  // 16 digits
};

bool is_prime(std::int64_t n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  auto sqrt_n = static_cast<std::int64_t>(std::floor(std::sqrt(n)));
  for (std::int64_t i = 3; i <= sqrt_n; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

// The seed's main(), for any executor; returns the real time it took.
template <futures::Executor Pool>
std::chrono::duration<double> check_primes(const char* kind) {
  tour::print("--- %s\n", kind);
  tour::Stopwatch start;
  {
    Pool pool;
    std::size_t i = 0;
    for (bool prime : pool.map(is_prime, PRIMES)) {
      tour::print("%lld is prime? %s\n", static_cast<long long>(PRIMES[i++]),
                  prime ? "True" : "False");
    }
  }
  const auto elapsed = start.elapsed();
  tour::print("%.4f s per number (%.3f s for all %zu)\n",
              elapsed.count() / std::size(PRIMES), elapsed.count(),
              std::size(PRIMES));
  return elapsed;
}

int main() {
  const auto processes =
      check_primes<futures::ProcessPoolExecutor>("ProcessPoolExecutor()");
  check_primes<futures::ThreadPoolExecutor>("ThreadPoolExecutor()");
  tour::print(
      "%zu cores: both pools check the numbers in parallel (in Python only "
      "the process pool would)\n",
      concur::os::process_cpu_count());
  tour::report(processes);
}
