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
// their slices). The port times the work from the first submit to the
// total, ten times over the one list, and keeps the fastest run, as
// sum-sequential does: the sum takes tens of milliseconds, too short for
// one run to be a measure (and the first run also starts the pool's
// threads). Real work, real seconds: the tour's table shows the speed-up
// over sum-sequential. It stays below the number of cores: the additions
// are so cheap that reading the 800 MB sets the pace, and the cores share
// one memory bus (the program prints the rate it reached). Python's threads
// would gain nothing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <thread>
#include <vector>

#include "concur/futures.hpp"
#include "concur/os.hpp"
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
  const std::size_t cores = concur::os::process_cpu_count();
  ThreadPoolExecutor pool(static_cast<std::ptrdiff_t>(cores));
  std::chrono::duration<double> fastest = tour::best_of(10, [&] {
    std::vector<Future<std::int64_t>> futures;
    for (std::size_t index = 0; index < numbers.size(); index += 12'500'000) {
      futures.push_back(
          pool.submit(task_handler, numbers.subspan(index, 12'500'000)));
    }
    std::int64_t total = 0;
    for (Future<std::int64_t> f : as_completed(futures)) total += f.result();
    return total;
  });
  double megabytes = numbers.size_bytes() / 1e6;
  tour::print(
      "Fastest run: %.4fs, reading the %.0f MB list at %.1f GB/s"
      " (8 tasks on %zu threads)\n",
      fastest.count(), megabytes, megabytes / 1e3 / fastest.count(), cores);
  tour::print(
      "The gain over sum-sequential stays below the number of cores (%zu):"
      " the additions are so cheap that reading the list sets the pace, and"
      " the cores share one memory bus. Python's threads would gain nothing:"
      " under the GIL they take turns, which is why the seed uses 8"
      " processes.\n",
      cores);
  tour::report(fastest);
}
