// pool-map — a Pool in a scope, map over (3, 6, 9).
//
// Ports seed 004's poolmap.py:
//
//     def fun(num):
//         mysum = 0
//         for i in range(num):
//             print('(%s)process is running: %d' % (os.getpid(), i))
//             mysum += i
//         return mysum
//
//     with multiprocessing.Pool(4) as pool:
//         results = pool.map(fun, (3, 6, 9))
//         for item in results:
//             print(item)
//
// map() sends the three numbers to the workers (with Python's chunking,
// a chunk each here) and returns the three sums in the order of the
// inputs, whichever worker finished first; the lines the workers print
// interleave as they run. The Pool is a scoped object, as the `with` block
// makes it: the end of the scope terminates its workers, as Python's
// `with` does (map has already returned every result by then).
#include <unistd.h>

#include <array>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

namespace mp = concur::multiprocessing;

long fun(int num) {
  long mysum = 0;
  for (int i = 0; i < num; ++i) {
    tour::print("(%d)process is running: %d\n", static_cast<int>(::getpid()),
                i);
    mysum += i;
  }
  return mysum;
}

int main() {
  {
    mp::Pool pool(4);
    const auto results = pool.map(fun, std::array{3, 6, 9});
    for (long item : results) tour::print("%ld\n", item);
  }
}
