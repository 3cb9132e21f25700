// libfork, the peer of concur::futures on the fork-join workloads of
// bench/futures_bench.cpp: the same work written as libfork's own
// benchmarks write it, with coroutines: lf::fork a child into its result,
// lf::call one inline, co_await lf::join. libfork is header-only and not
// vendored: bench/peers/run.py compiles this file only when given a
// checkout of it (--libfork DIR or CONCUR_LIBFORK_DIR), and reads it as the
// "libfork" peer of fib_forkjoin, skynet and nqueens.
//
// Threads. concur's pools have two workers, and the thread that submits the
// root task only waits for it. libfork counts threads the same way:
// lf::sync_wait() hands the root task to the pool and blocks on its result
// without running tasks, so lf::lazy_pool(2), two workers, is the fair
// equivalent; both use the two cores, no more. lazy_pool is libfork's pool
// whose idle workers sleep, as concur's do; its busy_pool spins instead.
// Without hwloc (LF_USE_HWLOC undefined) it pins no thread.
//
// One iteration is a whole workload, so iteration counts are fixed and
// small; each benchmark first runs an untimed small round. Wall-clock time
// (UseRealTime) throughout.
#include <array>
#include <cstddef>
#include <cstdint>
#include <libfork.hpp>
#include <numeric>

#include "benchmark/benchmark.h"
#include "futures_workloads.hpp"

namespace {

namespace wl = concur_bench::futures_workloads;

using std::int64_t;

using wl::check;

// ---------------------------------------------------------------------------
// fib_forkjoin: fork fib(n - 1), call fib(n - 2) inline, join. Same
// cut-off as concur's (none: every call with n >= 2 forks).
constexpr auto fib_libfork = [](auto fib, int n) -> lf::task<int64_t> {
  if (n < wl::kFibSequentialBelow) co_return wl::fib_sequential(n);
  int64_t child = 0;
  int64_t mine = 0;
  co_await lf::fork(&child, fib)(n - 1);
  co_await lf::call(&mine, fib)(n - 2);
  co_await lf::join;
  co_return child + mine;
};

void fib_forkjoin_libfork(benchmark::State& state) {
  lf::lazy_pool pool(wl::kWorkers);
  benchmark::DoNotOptimize(lf::sync_wait(pool, fib_libfork, wl::kFibWarmupN));
  for (auto _ : state) {
    check(state, lf::sync_wait(pool, fib_libfork, wl::kFibN), wl::kFibResult);
  }
}
BENCHMARK(fib_forkjoin_libfork)
    ->Name("fib_forkjoin/libfork")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// skynet: each node forks its ten children into an array of sums, joins,
// and adds them up.
constexpr auto skynet_libfork = [](auto skynet, int64_t first,
                                   int64_t leaves) -> lf::task<int64_t> {
  if (leaves == 1) co_return first;
  const int64_t each = leaves / wl::kSkynetFanout;
  std::array<int64_t, wl::kSkynetFanout> sums{};
  for (std::size_t i = 0; i < wl::kSkynetFanout; ++i) {
    co_await lf::fork(&sums[i], skynet)(first + static_cast<int64_t>(i) * each,
                                        each);
  }
  co_await lf::join;
  co_return std::accumulate(sums.begin(), sums.end(), int64_t{0});
};

void skynet_libfork_bench(benchmark::State& state) {
  lf::lazy_pool pool(wl::kWorkers);
  benchmark::DoNotOptimize(
      lf::sync_wait(pool, skynet_libfork, 0, wl::kSkynetWarmupLeaves));
  for (auto _ : state) {
    check(state, lf::sync_wait(pool, skynet_libfork, 0, wl::kSkynetLeaves),
          wl::triangle(wl::kSkynetLeaves));
  }
}
BENCHMARK(skynet_libfork_bench)
    ->Name("skynet/libfork")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// nqueens: each partial board forks one child per safe column of its next
// row, each taking its own copy of the board (a by-value parameter, kept in
// the child's frame), joins, and sums their counts.
constexpr auto nqueens_libfork = [](auto nqueens, wl::QueensBoard board,
                                    int row, int n) -> lf::task<int64_t> {
  if (row == n) co_return 1;
  std::array<int64_t, wl::kNQueensN> counts{};
  for (int column = 0; column < n; ++column) {
    if (!wl::queen_safe(board, row, column)) continue;
    board[static_cast<std::size_t>(row)] = static_cast<char>(column);
    co_await lf::fork(&counts[static_cast<std::size_t>(column)], nqueens)(
        board, row + 1, n);
  }
  co_await lf::join;
  co_return std::accumulate(counts.begin(), counts.end(), int64_t{0});
};

void nqueens_libfork_bench(benchmark::State& state) {
  lf::lazy_pool pool(wl::kWorkers);
  check(state,
        lf::sync_wait(pool, nqueens_libfork, wl::QueensBoard{}, 0,
                      wl::kNQueensWarmupN),
        wl::kNQueensWarmupSolutions);
  for (auto _ : state) {
    check(state,
          lf::sync_wait(pool, nqueens_libfork, wl::QueensBoard{}, 0,
                        wl::kNQueensN),
          wl::kNQueensSolutions);
  }
}
BENCHMARK(nqueens_libfork_bench)
    ->Name("nqueens/libfork")
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
