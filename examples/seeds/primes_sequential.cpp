// primes-sequential — the six PRIMES checked one after the other.
//
// Ports seed 004's PrimeNoWithfuture.py (the example of Python's
// concurrent.futures documentation):
//
//     PRIMES = [
//         112272535095293, #15 digits
//         112582705942171,
//         112272535095293,
//         115280095190773,
//         115797848077099,
//         1099726899285419] #16 digits
//
//     def is_prime(n):
//         if n < 2:
//             return False
//         if n == 2:
//             return True
//         if n % 2 == 0:
//             return False
//         sqrt_n = int(math.floor(math.sqrt(n)))
//         for i in range(3, sqrt_n + 1, 2):
//             if n % i == 0:
//                 return False
//         return True
//
//     def main():
//         start = time()
//         for n in PRIMES:
//             print('%d is prime? %s' % (n, is_prime(n)))
//         end = time()
//         print((end-start)/n)
//
// The seed divides by n, the last number checked, where it means
// len(PRIMES), as its concurrent version does: the port prints the time per
// number, and the total. The work is real computation, not a sleep: the
// tour's time scale does not apply, and the times printed are real seconds.
// primes-threads runs the same checks in a ThreadPoolExecutor.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iterator>

#include "tour.hpp"

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
  for (std::int64_t n : PRIMES) {
    tour::print("%lld is prime? %s\n", static_cast<long long>(n),
                is_prime(n) ? "True" : "False");
  }
  double seconds = start.elapsed().count();
  tour::print("%.4f s per number (%.3f s for all %zu)\n",
              seconds / std::size(PRIMES), seconds, std::size(PRIMES));
  tour::report(start);
}
