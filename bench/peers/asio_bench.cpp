// Asio's thread_pool, the peer of concur's ThreadPoolExecutor on
// pool_submit_1m (bench/futures_bench.cpp): a million asio::post calls of
// trivial tasks to a pool of two threads, then join(). Standalone Asio
// (Debian: libasio-dev) is the same code as Boost.Asio's thread_pool under
// another namespace. Built only where <asio.hpp> is installed;
// bench/peers/run.py reads it as the "Asio" peer.
//
// Each round makes its pool, posts, and joins it: join() is how Asio waits
// for a thread_pool's work to finish (a pool cannot be joined twice).
// Starting two threads costs tens of microseconds against a round of about
// a hundred milliseconds. Wall-clock time (UseRealTime).
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "benchmark/benchmark.h"
#include "futures_workloads.hpp"

namespace {

namespace wl = concur_bench::futures_workloads;

using std::int64_t;

// Each task stores its index in its own slot (Asio's post returns nothing;
// the slot is the future's value); then the sum of the slots. One
// operation is one task.
int64_t submit_round(std::vector<int64_t>& results, int64_t tasks) {
  asio::thread_pool pool(wl::kWorkers);
  for (int64_t i = 0; i < tasks; ++i) {
    asio::post(pool,
               [&results, i] { results[static_cast<std::size_t>(i)] = i; });
  }
  pool.join();
  return std::accumulate(results.begin(), results.begin() + tasks, int64_t{0});
}

void pool_submit_asio(benchmark::State& state) {
  std::vector<int64_t> results(static_cast<std::size_t>(wl::kSubmitTasks));
  submit_round(results, wl::kWarmupTasks);
  for (auto _ : state) {
    if (submit_round(results, wl::kSubmitTasks) !=
        wl::triangle(wl::kSubmitTasks)) {
      state.SkipWithError("wrong result");
    }
  }
  state.counters["ops_per_iteration"] = wl::kSubmitTasks;
}
BENCHMARK(pool_submit_asio)
    ->Name("pool_submit_1m/asio")
    ->UseRealTime()
    ->Iterations(2);

}  // namespace
