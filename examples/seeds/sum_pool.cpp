// sum-pool — the sum of 1..100,000,000 in eight slices, on a
// ThreadPoolExecutor with a thread per core.
//
// Ports seed 001's eight-process sum (also in seed 004):
//
//     def task_handler(curr_list, result_queue):
//         total = 0
//         for number in curr_list:
//             total += number
//         result_queue.put(total)
//
//     def main():
//         processes = []
//         number_list = [x for x in range(1, 100000001)]
//         result_queue = Queue()
//         index = 0
//         for _ in range(8):  # 8 processes, each summing a slice
//             p = Process(target=task_handler,
//                         args=(number_list[index:index + 12500000],
//                               result_queue))
//             index += 12500000
//             processes.append(p)
//             p.start()
//         start = time()
//         for p in processes:
//             p.join()
//         total = 0
//         while not result_queue.empty():
//             total += result_queue.get()
//         print(total)
//         end = time()
//         print('Execution time: ', (end - start), 's', sep='')
//
// Python needs processes here: its threads take turns under the GIL and
// would be no faster than sequential. C++ threads run on every core at once,
// so the port uses a ThreadPoolExecutor with one thread per core (the
// number of CPU-bound tasks worth running at once, as seed 004 remarks).
// Each task sums a std::span, a view of its slice: threads share the list,
// where each process received a copy. The task returns its sum in a Future
// instead of putting it on a queue, and as_completed() hands the futures
// over as they finish, the order in which the seed's queue receives them.
//
// The seed starts its clock after the processes have started (and copied
// their slices); the port times everything after building the list, from
// the first submit to the total. Real work, real seconds: compare with
// sum-sequential in the tour's table. Reading 800 MB, the sum waits on
// memory as much as on the cores, so two cores gain less than 2x (1.5x
// on an idle two-core machine); Python's threads would gain nothing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <thread>
#include <vector>

#include "concur/futures.hpp"
#include "tour.hpp"

using concur::futures::as_completed;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;

std::int64_t task_handler(std::span<const std::int64_t> curr_list) {
  std::int64_t total = 0;
  for (std::int64_t number : curr_list) total += number;
  return total;
}

int main() {
  std::vector<std::int64_t> number_list(100'000'000);
  std::iota(number_list.begin(), number_list.end(), 1);
  const std::span<const std::int64_t> numbers(number_list);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  tour::Stopwatch start;
  ThreadPoolExecutor pool(cores);
  std::vector<Future<std::int64_t>> futures;
  for (std::size_t index = 0; index < numbers.size(); index += 12'500'000) {
    futures.push_back(
        pool.submit(task_handler, numbers.subspan(index, 12'500'000)));
  }
  std::int64_t total = 0;
  for (Future<std::int64_t> f : as_completed(futures)) total += f.result();
  tour::print("%lld\n", static_cast<long long>(total));
  tour::print("Execution time: %.3fs (8 tasks on %u threads)\n",
              start.elapsed().count(), cores);
  tour::report(start);
}
