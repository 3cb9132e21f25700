// primes-threads — the six PRIMES checked in a ThreadPoolExecutor, with map.
//
// Ports seed 004's PrimeWithfuture.py, the ThreadPoolExecutor version (the
// seed also runs it with a ProcessPoolExecutor); PRIMES and is_prime() are
// those of primes-sequential:
//
//     def main():
//         start = time()
//         with concurrent.futures.ThreadPoolExecutor() as pool:
//             for number, prime in zip(PRIMES, pool.map(is_prime, PRIMES)):
//                 print('%d is prime? %s' % (number, prime))
//         end = time()
//         print((end-start)/len(PRIMES))
//
// map() submits every call at once and yields the results in the order of
// PRIMES, whichever finishes first. The pool is a scoped object, as the
// `with` block makes it: leaving the block waits for the pool's threads.
// ThreadPoolExecutor() has Python's default size, min(32, cores + 4).
//
// In Python this version is no faster than the sequential one: the GIL lets
// one thread at a time run Python code, so CPU-bound work needs processes.
// C++ threads run on every core at once: on a machine with two cores this
// takes about half the time of primes-sequential (the tour's table shows
// the speed-up). The times are real seconds, not scaled.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <thread>

#include "concur/futures.hpp"
#include "concur/os.hpp"
#include "tour.hpp"

using concur::futures::ThreadPoolExecutor;

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

int main() {
  tour::Stopwatch start;
  {
    ThreadPoolExecutor pool;
    std::size_t i = 0;
    for (bool prime : pool.map(is_prime, PRIMES)) {
      tour::print("%lld is prime? %s\n", static_cast<long long>(PRIMES[i++]),
                  prime ? "True" : "False");
    }
  }
  double seconds = start.elapsed().count();
  tour::print("%.4f s per number (%.3f s for all %zu)\n",
              seconds / std::size(PRIMES), seconds, std::size(PRIMES));
  tour::print(
      "%zu cores: C++ threads check the numbers in parallel (Python's, held "
      "by the GIL, would not)\n",
      concur::os::process_cpu_count());
  tour::report(start);
}
