// Benchmarks for the calls that read a batch of futures or map a range on a
// ThreadPoolExecutor (as_completed, wait, map), beside the hand-written
// code that does the same work; their oneTBB peer is in
// bench/peers/tbb_bench.cpp. Conventions as in futures_bench.cpp (names,
// two workers, wall-clock time, a warm pool). A file of their own, so that
// the per-task rows of futures_bench.cpp are compiled as before: added to
// that file, these made GCC stop inlining Future::result into the fork-join
// workloads, which then ran 8-10% slower with an unchanged library.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/futures.hpp"
#include "peers/futures_workloads.hpp"

namespace {

namespace futures = concur::futures;
namespace wl = concur_bench::futures_workloads;

using std::int64_t;

using wl::check;

// ---------------------------------------------------------------------------
// as_completed_200k and wait_200k: submit 200,000 calls to a pool of two,
// then read them through as_completed() or wait(), as the user
// wrote it; the peer reads the same futures with result() in order. With
// trivial calls most futures are done when the reading starts; the _busy
// variants make each call about a microsecond of arithmetic, so that about
// half of them are still queued or running and as_completed and wait must
// watch them. One operation is one task.
constexpr int64_t kCompletedTasks = 200'000;

int64_t trivial_call(int64_t i) { return i; }

// About a microsecond of dependent multiplications; returns i.
int64_t busy_call(int64_t i) {
  std::uint64_t x = static_cast<std::uint64_t>(i);
  for (int k = 0; k < 1024; ++k) x = x * 6364136223846793005u + 1;
  benchmark::DoNotOptimize(x);
  return i;
}

enum class Reader { kResult, kAsCompleted, kWait };

void read_completed(benchmark::State& state, int64_t (*call)(int64_t),
                    Reader reader) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  std::vector<futures::Future<int64_t>> pending;
  pending.reserve(kCompletedTasks);
  pool.submit(call, 0).result();
  for (auto _ : state) {
    for (int64_t i = 0; i < kCompletedTasks; ++i) {
      pending.push_back(pool.submit(call, i));
    }
    int64_t sum = 0;
    switch (reader) {
      case Reader::kResult:
        for (const auto& future : pending) sum += future.result();
        break;
      case Reader::kAsCompleted:
        for (auto& future : futures::as_completed(pending)) {
          sum += future.result();
        }
        break;
      case Reader::kWait:
        for (const auto& future : futures::wait(pending).done) {
          sum += future.result();
        }
        break;
    }
    pending.clear();
    check(state, sum, wl::triangle(kCompletedTasks));
  }
  state.counters["ops_per_iteration"] = kCompletedTasks;
}
BENCHMARK_CAPTURE(read_completed, result, trivial_call, Reader::kResult)
    ->Name("as_completed_200k/result")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(read_completed, concur, trivial_call, Reader::kAsCompleted)
    ->Name("as_completed_200k/concur")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(read_completed, wait, trivial_call, Reader::kWait)
    ->Name("wait_200k/concur")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(read_completed, result, busy_call, Reader::kResult)
    ->Name("as_completed_busy/result")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(read_completed, concur, busy_call, Reader::kAsCompleted)
    ->Name("as_completed_busy/concur")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(read_completed, wait, busy_call, Reader::kWait)
    ->Name("wait_busy/concur")
    ->UseRealTime()
    ->Iterations(5);

// ---------------------------------------------------------------------------
// map_10m: map(twice, 10M ints, chunksize 10,000) and the sum of the
// results, as a user writes it: with the vector itself and with a
// std::span of it (both read in place), and with a buffersize of kMapWindow
// chunks (Python 3.14's bounded map: the results of the chunks passed are let
// go and their memory reused while the next ones are computed). The peers: one
// submit per chunk by hand, each summing its chunk in place; two std::threads
// each summing one half; oneTBB's parallel_reduce (peer_tbb_bench). One
// operation is one item.
constexpr std::ptrdiff_t kMapWindow = 4;

const std::vector<int>& map_input() {
  static const std::vector<int> items = wl::map_items(wl::kMapItems);
  return items;
}

template <class Input>
void map_concur(benchmark::State& state, Input input(), int64_t chunk,
                std::optional<std::ptrdiff_t> window = {}) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  const auto items = input();
  pool.submit(wl::twice, 0).result();
  for (auto _ : state) {
    int64_t sum = 0;
    for (int64_t r : pool.map(
             wl::twice, items,
             futures::MapOptions{.chunksize = chunk, .buffersize = window})) {
      sum += r;
    }
    check(state, sum, 2 * wl::triangle(std::ssize(items)));
  }
  state.counters["ops_per_iteration"] = static_cast<double>(std::ssize(items));
}
const std::vector<int>& map_vector() { return map_input(); }
std::span<const int> map_span() { return map_input(); }
BENCHMARK_CAPTURE(map_concur, vector, map_vector, wl::kMapChunk)
    ->Name("map_10m/concur")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(map_concur, span, map_span, wl::kMapChunk)
    ->Name("map_10m/span")
    ->UseRealTime()
    ->Iterations(5);
BENCHMARK_CAPTURE(map_concur, buffered, map_vector, wl::kMapChunk, kMapWindow)
    ->Name("map_10m/buffered")
    ->UseRealTime()
    ->Iterations(5);

void map_by_chunks(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  const std::vector<int>& items = map_input();
  const auto n = static_cast<std::size_t>(wl::kMapItems);
  const auto chunk = static_cast<std::size_t>(wl::kMapChunk);
  std::vector<futures::Future<int64_t>> chunks;
  pool.submit(wl::twice, 0).result();
  for (auto _ : state) {
    for (std::size_t first = 0; first < n; first += chunk) {
      chunks.push_back(pool.submit([&items, first, last = first + chunk] {
        int64_t sum = 0;
        for (std::size_t i = first; i < last; ++i) sum += wl::twice(items[i]);
        return sum;
      }));
    }
    int64_t sum = 0;
    for (const auto& f : chunks) sum += f.result();
    chunks.clear();
    check(state, sum, 2 * wl::triangle(wl::kMapItems));
  }
  state.counters["ops_per_iteration"] = static_cast<double>(wl::kMapItems);
}
BENCHMARK(map_by_chunks)->Name("map_10m/chunks")->UseRealTime()->Iterations(5);

void map_two_threads(benchmark::State& state) {
  static_assert(wl::kWorkers == 2);
  const std::vector<int>& items = map_input();
  const std::size_t half = items.size() / 2;
  for (auto _ : state) {
    int64_t sums[2] = {0, 0};
    auto sum_half = [&](std::size_t k) {
      const std::size_t last = k == 0 ? half : items.size();
      int64_t sum = 0;
      for (std::size_t i = k * half; i < last; ++i) sum += wl::twice(items[i]);
      sums[k] = sum;
    };
    std::thread other(sum_half, 1);
    sum_half(0);
    other.join();
    check(state, sums[0] + sums[1], 2 * wl::triangle(wl::kMapItems));
  }
  state.counters["ops_per_iteration"] = static_cast<double>(wl::kMapItems);
}
BENCHMARK(map_two_threads)
    ->Name("map_10m/threads")
    ->UseRealTime()
    ->Iterations(5);

// map_chunk1: map with the default chunksize of 1 over 200,000 ints, against
// one submit per item and result() of each. One operation is one item.
const std::vector<int>& map_one_input() {
  static const std::vector<int> items = wl::map_items(wl::kMapOneItems);
  return items;
}
BENCHMARK_CAPTURE(map_concur, chunk1, map_one_input, 1)
    ->Name("map_chunk1/concur")
    ->UseRealTime()
    ->Iterations(5);

void map_one_by_submit(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  const std::vector<int>& items = map_one_input();
  std::vector<futures::Future<int64_t>> pending;
  pending.reserve(items.size());
  pool.submit(wl::twice, 0).result();
  for (auto _ : state) {
    for (int v : items) pending.push_back(pool.submit(wl::twice, v));
    int64_t sum = 0;
    for (const auto& f : pending) sum += f.result();
    pending.clear();
    check(state, sum, 2 * wl::triangle(wl::kMapOneItems));
  }
  state.counters["ops_per_iteration"] = static_cast<double>(wl::kMapOneItems);
}
BENCHMARK(map_one_by_submit)
    ->Name("map_chunk1/submit")
    ->UseRealTime()
    ->Iterations(5);

}  // namespace
