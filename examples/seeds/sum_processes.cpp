// sum-processes — the sum of 1..100,000,000 in eight slices, one Process
// each, the totals collected through a Queue.
//
// Ports seed 001's eight-process sum (seed 004's multitask1.py), as the
// seed writes it (sum-pool does the same work on a thread pool):
//
//     def task_handler(curr_list, result_queue):
//         total = 0
//         for number in curr_list:
//             total += number
//         result_queue.put(total)
//
//     for _ in range(8):
//         p = Process(target=task_handler,
//                     args=(number_list[index:index + 12500000],
//                           result_queue))
//         index += 12500000
//         processes.append(p)
//         p.start()
//     start = time()
//     for p in processes:
//         p.join()
//     total = 0
//     while not result_queue.empty():
//         total += result_queue.get()
//     print(total)
//
// A Queue is a handle (copies refer to one queue), passed as Python passes
// it. Each child is forked with a copy of the parent's memory, so its slice is
// a std::span into the list it already has: nothing is copied at start (a
// Python child receives its slice as a copy). The children put their totals
// on a multiprocessing::Queue, which lives in shared memory; the parent
// takes eight of them (the seed's `while not empty()` reads the same once
// every child has been joined).
//
// Each run prints the seed's measure, from after the starts to the total,
// and what the starts took before it; the tour's table gets the whole, the
// starts included, the fastest of three runs. That whole is slower than
// sum-sequential: each child of a process holding an 800 MB list costs
// tens of milliseconds to fork and to end (its page tables are copied, then
// torn down), far more than its 4 ms of additions. Processes pay off for
// work that is long beside their start; for this sum, threads (sum-pool)
// are the tool in C++. Real seconds.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

namespace mp = concur::multiprocessing;

void task_handler(std::span<const std::int64_t> curr_list,
                  mp::Queue<std::int64_t> result_queue) {
  std::int64_t total = 0;
  for (std::int64_t number : curr_list) total += number;
  result_queue.put(total);
}

int main() {
  std::vector<std::int64_t> number_list(100'000'000);
  std::iota(number_list.begin(), number_list.end(), 1);
  const std::span<const std::int64_t> numbers(number_list);
  mp::Queue<std::int64_t> result_queue;
  auto fastest = std::chrono::duration<double>::max();
  for (int run = 1; run <= 3; ++run) {
    tour::Stopwatch all;
    std::vector<mp::Process> processes;
    for (std::size_t index = 0; index < numbers.size(); index += 12'500'000) {
      processes.emplace_back(task_handler, numbers.subspan(index, 12'500'000),
                             result_queue);
      processes.back().start();
    }
    const auto started = all.elapsed();
    tour::Stopwatch start;  // where the seed starts its clock
    for (auto& p : processes) p.join();
    std::int64_t total = 0;
    for (std::size_t i = 0; i < processes.size(); ++i) {
      total += result_queue.get();
    }
    const auto elapsed = start.elapsed();
    tour::print(
        "%lld  Execution time: %.4fs (run %d of 3; the 8 starts before it "
        "took %.4fs more)\n",
        static_cast<long long>(total), elapsed.count(), run, started.count());
    fastest = std::min(fastest, all.elapsed());
  }
  tour::print("Fastest run, starts included: %.4fs\n", fastest.count());
  tour::report(fastest);
}
