// TooManyCooks (TMC), the peer of concur::futures on the fork-join
// workloads of bench/futures_bench.cpp: the same work written as TMC's own
// examples write it, with coroutines: tmc::spawn(...).fork() for one
// child and co_await, tmc::spawn_many for a group. TMC is header-only and
// not vendored: bench/peers/run.py compiles this file only when given a
// checkout of it (--tmc DIR or CONCUR_TMC_DIR), without hwloc
// (TMC_USE_HWLOC undefined), and reads it as the "TooManyCooks" peer of
// fib_forkjoin, skynet and nqueens.
//
// Threads. concur's pools have two workers, and the thread that submits the
// root task only waits for it. TMC counts threads the same way: an ex_cpu
// with set_thread_count(2) has two workers, and tmc::post_waitable() posts
// the root task to them and returns a std::future whose get() blocks
// without running tasks. Both use the two cores, no more. Without hwloc TMC
// pins no thread. Each benchmark makes its own executor (not the global
// tmc::cpu_executor()), so that none outlives its benchmark.
//
// One iteration is a whole workload, so iteration counts are fixed and
// small; each benchmark first runs an untimed small round. Wall-clock time
// (UseRealTime) throughout.
#define TMC_IMPL
#include <array>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <tmc/ex_cpu.hpp>
#include <tmc/spawn.hpp>
#include <tmc/spawn_many.hpp>
#include <tmc/sync.hpp>
#include <tmc/task.hpp>
#include <utility>

#include "benchmark/benchmark.h"
#include "futures_workloads.hpp"

namespace {

namespace wl = concur_bench::futures_workloads;

using std::int64_t;

using wl::check;

// Runs a root task on `executor` from this (outside) thread and waits.
int64_t run(tmc::ex_cpu& executor, tmc::task<int64_t> root) {
  return tmc::post_waitable(executor, std::move(root)).get();
}

// ---------------------------------------------------------------------------
// fib_forkjoin: fork fib(n - 1) with spawn().fork(), await fib(n - 2)
// inline, then await the child. Same cut-off as concur's (none: every call
// with n >= 2 forks).
tmc::task<int64_t> fib_tmc(int n) {
  if (n < wl::kFibSequentialBelow) co_return wl::fib_sequential(n);
  auto child = tmc::spawn(fib_tmc(n - 1)).fork();
  const int64_t mine = co_await fib_tmc(n - 2);
  const int64_t theirs = co_await std::move(child);
  co_return theirs + mine;
}

void fib_forkjoin_tmc(benchmark::State& state) {
  tmc::ex_cpu executor;
  executor.set_thread_count(wl::kWorkers).init();
  benchmark::DoNotOptimize(run(executor, fib_tmc(wl::kFibWarmupN)));
  for (auto _ : state) {
    check(state, run(executor, fib_tmc(wl::kFibN)), wl::kFibResult);
  }
}
BENCHMARK(fib_forkjoin_tmc)
    ->Name("fib_forkjoin/tmc")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// skynet: each node makes its ten children's tasks, spawns them with
// spawn_many and sums the array of their results.
tmc::task<int64_t> skynet_tmc(int64_t first, int64_t leaves) {
  if (leaves == 1) co_return first;
  const int64_t each = leaves / wl::kSkynetFanout;
  std::array<tmc::task<int64_t>, wl::kSkynetFanout> children;
  for (std::size_t i = 0; i < wl::kSkynetFanout; ++i) {
    children[i] = skynet_tmc(first + static_cast<int64_t>(i) * each, each);
  }
  const std::array<int64_t, wl::kSkynetFanout> sums =
      co_await tmc::spawn_many<wl::kSkynetFanout>(children.data());
  co_return std::accumulate(sums.begin(), sums.end(), int64_t{0});
}

void skynet_tmc_bench(benchmark::State& state) {
  tmc::ex_cpu executor;
  executor.set_thread_count(wl::kWorkers).init();
  benchmark::DoNotOptimize(
      run(executor, skynet_tmc(0, wl::kSkynetWarmupLeaves)));
  for (auto _ : state) {
    check(state, run(executor, skynet_tmc(0, wl::kSkynetLeaves)),
          wl::triangle(wl::kSkynetLeaves));
  }
}
BENCHMARK(skynet_tmc_bench)->Name("skynet/tmc")->UseRealTime()->Iterations(3);

// ---------------------------------------------------------------------------
// nqueens: each partial board makes one child task per safe column of its
// next row, each taking its own copy of the board (a by-value parameter,
// kept in the child's frame), spawns them with spawn_many (at most
// kNQueensN, so the results come back in an array) and sums their counts.
tmc::task<int64_t> nqueens_tmc(wl::QueensBoard board, int row, int n) {
  if (row == n) co_return 1;
  std::array<tmc::task<int64_t>, wl::kNQueensN> children;
  std::size_t count = 0;
  for (int column = 0; column < n; ++column) {
    if (!wl::queen_safe(board, row, column)) continue;
    board[static_cast<std::size_t>(row)] = static_cast<char>(column);
    children[count++] = nqueens_tmc(board, row + 1, n);
  }
  // Only the first `count` results are set: spawn_many leaves the rest of
  // the array default-initialized (indeterminate, for int64_t).
  const std::array<int64_t, wl::kNQueensN> counts =
      co_await tmc::spawn_many<wl::kNQueensN>(children.data(),
                                              children.data() + count);
  co_return std::accumulate(counts.begin(),
                            counts.begin() + static_cast<std::ptrdiff_t>(count),
                            int64_t{0});
}

void nqueens_tmc_bench(benchmark::State& state) {
  tmc::ex_cpu executor;
  executor.set_thread_count(wl::kWorkers).init();
  check(state,
        run(executor, nqueens_tmc(wl::QueensBoard{}, 0, wl::kNQueensWarmupN)),
        wl::kNQueensWarmupSolutions);
  for (auto _ : state) {
    check(state,
          run(executor, nqueens_tmc(wl::QueensBoard{}, 0, wl::kNQueensN)),
          wl::kNQueensSolutions);
  }
}
BENCHMARK(nqueens_tmc_bench)->Name("nqueens/tmc")->UseRealTime()->Iterations(3);

}  // namespace
