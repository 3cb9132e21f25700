// oneTBB, the peer of concur::futures on the task workloads of
// bench/futures_bench.cpp: the same work, written as oneTBB's documentation
// writes it, with tbb::task_group (run + wait). Built only where oneTBB is
// installed (Debian: libtbb-dev); bench/peers/run.py reads it as the
// "oneTBB" peer of pool_submit_1m, fib_forkjoin, skynet, nqueens and
// map_10m.
//
// Threads. concur's pools have two workers, and the thread that submits the
// work (or waits for the root task) only waits. oneTBB counts threads
// differently: the thread that calls task_group::wait() is one of the
// arena's threads and runs tasks itself. The fair equivalent of "two
// workers" is therefore an arena of concurrency 2 (tbb::task_arena(2): the
// calling thread plus one oneTBB worker), which is also what oneTBB gives
// by default on a two-core machine: both use the two cores, no more.
//
// One iteration is a whole workload, so iteration counts are fixed and
// small; each benchmark first runs an untimed small round. Wall-clock time
// (UseRealTime) throughout.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <vector>

#include "benchmark/benchmark.h"
#include "futures_workloads.hpp"

namespace {

namespace wl = concur_bench::futures_workloads;

using std::int64_t;

using wl::check;

// ---------------------------------------------------------------------------
// pool_submit_1m: a million task_group::run calls from one thread, each
// task storing its index in its own slot (oneTBB tasks return nothing; the
// slot is the future's value), then wait() and the sum of the slots. One
// operation is one task.
int64_t submit_round(tbb::task_arena& arena, std::vector<int64_t>& results,
                     int64_t tasks) {
  arena.execute([&] {
    tbb::task_group group;
    for (int64_t i = 0; i < tasks; ++i) {
      group.run([&results, i] { results[static_cast<std::size_t>(i)] = i; });
    }
    group.wait();
  });
  return std::accumulate(results.begin(), results.begin() + tasks, int64_t{0});
}

void pool_submit_tbb(benchmark::State& state) {
  tbb::task_arena arena(wl::kWorkers);
  std::vector<int64_t> results(static_cast<std::size_t>(wl::kSubmitTasks));
  submit_round(arena, results, wl::kWarmupTasks);
  for (auto _ : state) {
    check(state, submit_round(arena, results, wl::kSubmitTasks),
          wl::triangle(wl::kSubmitTasks));
  }
  state.counters["ops_per_iteration"] = wl::kSubmitTasks;
}
BENCHMARK(pool_submit_tbb)
    ->Name("pool_submit_1m/tbb")
    ->UseRealTime()
    ->Iterations(2);

// ---------------------------------------------------------------------------
// fib_forkjoin: the classic oneTBB fib with task_group: run fib(n - 1),
// compute fib(n - 2), wait. Same cut-off as concur's.
int64_t fib_tbb(int n) {
  if (n < wl::kFibSequentialBelow) return wl::fib_sequential(n);
  int64_t child = 0;
  tbb::task_group group;
  group.run([&child, n] { child = fib_tbb(n - 1); });
  const int64_t mine = fib_tbb(n - 2);
  group.wait();
  return child + mine;
}

void fib_forkjoin_tbb(benchmark::State& state) {
  tbb::task_arena arena(wl::kWorkers);
  arena.execute([] { benchmark::DoNotOptimize(fib_tbb(wl::kFibWarmupN)); });
  for (auto _ : state) {
    int64_t result = 0;
    arena.execute([&result] { result = fib_tbb(wl::kFibN); });
    check(state, result, wl::kFibResult);
  }
}
BENCHMARK(fib_forkjoin_tbb)
    ->Name("fib_forkjoin/tbb")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// skynet: each node runs its ten children in a task_group, waits, and sums
// what they stored.
int64_t skynet_tbb(int64_t first, int64_t leaves) {
  if (leaves == 1) return first;
  const int64_t each = leaves / wl::kSkynetFanout;
  std::array<int64_t, wl::kSkynetFanout> sums{};
  tbb::task_group group;
  for (std::size_t i = 0; i < wl::kSkynetFanout; ++i) {
    group.run([&sums, i, first, each] {
      sums[i] = skynet_tbb(first + static_cast<int64_t>(i) * each, each);
    });
  }
  group.wait();
  return std::accumulate(sums.begin(), sums.end(), int64_t{0});
}

void skynet_tbb_bench(benchmark::State& state) {
  tbb::task_arena arena(wl::kWorkers);
  arena.execute(
      [] { benchmark::DoNotOptimize(skynet_tbb(0, wl::kSkynetWarmupLeaves)); });
  for (auto _ : state) {
    int64_t result = 0;
    arena.execute([&result] { result = skynet_tbb(0, wl::kSkynetLeaves); });
    check(state, result, wl::triangle(wl::kSkynetLeaves));
  }
}
BENCHMARK(skynet_tbb_bench)->Name("skynet/tbb")->UseRealTime()->Iterations(3);

// ---------------------------------------------------------------------------
// nqueens: each partial board runs one task per safe column of its next
// row, each with its own copy of the board, in a task_group, waits, and
// sums what they stored.
int64_t nqueens_tbb(const wl::QueensBoard& board, int row, int n) {
  if (row == n) return 1;
  std::array<int64_t, wl::kNQueensN> counts{};
  tbb::task_group group;
  for (int column = 0; column < n; ++column) {
    if (!wl::queen_safe(board, row, column)) continue;
    wl::QueensBoard child = board;
    child[static_cast<std::size_t>(row)] = static_cast<char>(column);
    group.run([&counts, child, column, row, n] {
      counts[static_cast<std::size_t>(column)] = nqueens_tbb(child, row + 1, n);
    });
  }
  group.wait();
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

void nqueens_tbb_bench(benchmark::State& state) {
  tbb::task_arena arena(wl::kWorkers);
  int64_t warmup = 0;
  arena.execute([&warmup] {
    warmup = nqueens_tbb(wl::QueensBoard{}, 0, wl::kNQueensWarmupN);
  });
  check(state, warmup, wl::kNQueensWarmupSolutions);
  for (auto _ : state) {
    int64_t result = 0;
    arena.execute([&result] {
      result = nqueens_tbb(wl::QueensBoard{}, 0, wl::kNQueensN);
    });
    check(state, result, wl::kNQueensSolutions);
  }
}
BENCHMARK(nqueens_tbb_bench)->Name("nqueens/tbb")->UseRealTime()->Iterations(3);

// ---------------------------------------------------------------------------
// map_10m: twice() over 10M ints summed with parallel_reduce, grain
// kMapChunk (simple_partitioner: chunks of the map's size), in an arena of
// two.
void map_tbb(benchmark::State& state) {
  tbb::task_arena arena(wl::kWorkers);
  const std::vector<int> items = wl::map_items(wl::kMapItems);
  auto reduce = [&] {
    return tbb::parallel_reduce(
        tbb::blocked_range<std::size_t>(
            0, items.size(), static_cast<std::size_t>(wl::kMapChunk)),
        int64_t{0},
        [&](const tbb::blocked_range<std::size_t>& r, int64_t sum) {
          for (std::size_t i = r.begin(); i != r.end(); ++i) {
            sum += wl::twice(items[i]);
          }
          return sum;
        },
        std::plus<>(), tbb::simple_partitioner());
  };
  arena.execute(reduce);
  for (auto _ : state) {
    check(state, arena.execute(reduce), 2 * wl::triangle(wl::kMapItems));
  }
  state.counters["ops_per_iteration"] = static_cast<double>(wl::kMapItems);
}
BENCHMARK(map_tbb)->Name("map_10m/tbb")->UseRealTime()->Iterations(5);

}  // namespace
