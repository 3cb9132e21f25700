// Benchmarks for concur::futures: ThreadPoolExecutor and Future on the
// workloads of issue 3, beside the hand-written C++ that does the same work
// without a pool. The C++ task-runtime peers (oneTBB, Asio) live in their
// own binaries, bench/peers/tbb_bench.cpp and bench/peers/asio_bench.cpp,
// built only where those libraries are installed; the shared workload
// definitions are in bench/peers/futures_workloads.hpp.
//
// Names are "<workload>/<implementation>"; bench/peers/run.py pairs them by
// workload, adds Python's numbers (bench/peers/python/futures_peer.py) and
// checks each target. Every pool is two workers (the machine the targets
// are set for has two cores); every time is wall-clock time (UseRealTime).
// One iteration is a whole workload (a million tasks, a tree of tasks, ...),
// so the iteration count is fixed and small instead of left to
// --benchmark_min_time, and each benchmark first runs an untimed round
// (a small one where a round is large) so that the pool's threads are
// started and the allocator is warm.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <thread>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/futures.hpp"
#include "peers/futures_workloads.hpp"

namespace {

namespace futures = concur::futures;
namespace wl = concur_bench::futures_workloads;

using std::int64_t;

// Stops the benchmark with an error if a workload computed the wrong
// answer: a fast wrong result is not a result.
void check(benchmark::State& state, int64_t got, int64_t want) {
  if (got != want) state.SkipWithError("wrong result");
}

// ---------------------------------------------------------------------------
// pool_submit_1m: submit a million trivial calls (return i) to a pool of two
// workers from one outside thread, then result() of each, in order, as
// Python code does with executor.submit and future.result(). One operation
// is one task: 1 / throughput.
int64_t submit_round(futures::ThreadPoolExecutor& pool,
                     std::vector<futures::Future<int64_t>>& pending,
                     int64_t tasks) {
  for (int64_t i = 0; i < tasks; ++i) {
    pending.push_back(pool.submit([](int64_t v) { return v; }, i));
  }
  int64_t sum = 0;
  for (const auto& future : pending) sum += future.result();
  // Dropping the futures frees their states: part of what a task costs.
  pending.clear();
  return sum;
}

void pool_submit_concur(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  std::vector<futures::Future<int64_t>> pending;
  pending.reserve(wl::kSubmitTasks);
  submit_round(pool, pending, wl::kWarmupTasks);
  for (auto _ : state) {
    check(state, submit_round(pool, pending, wl::kSubmitTasks),
          wl::triangle(wl::kSubmitTasks));
  }
  state.counters["ops_per_iteration"] = wl::kSubmitTasks;
}
BENCHMARK(pool_submit_concur)
    ->Name("pool_submit_1m/concur")
    ->UseRealTime()
    ->Iterations(2);

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
// results, as a user writes it: with the vector itself (which map copies,
// as std::thread copies its arguments), and with a std::span of it (which
// map borrows). The peers: one submit per chunk by hand, each summing its
// chunk in place; two std::threads each summing one half; oneTBB's
// parallel_reduce (peer_tbb_bench). One operation is one item.
const std::vector<int>& map_input() {
  static const std::vector<int> items = wl::map_items(wl::kMapItems);
  return items;
}

template <class Input>
void map_concur(benchmark::State& state, Input input(), int64_t chunk) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  const auto items = input();
  pool.submit(wl::twice, 0).result();
  for (auto _ : state) {
    int64_t sum = 0;
    for (int64_t r :
         pool.map(wl::twice, items, futures::MapOptions{.chunksize = chunk})) {
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

// ---------------------------------------------------------------------------
// fib_forkjoin: fib(kFibN), where each call submits fib(n - 1) to the pool,
// computes fib(n - 2) itself and waits for the child's future; result()
// inside a task runs other queued tasks while it waits. Below
// kFibSequentialBelow a call recurses without the pool (the same cut-off as
// the oneTBB peer). One operation is the whole fib(kFibN).
int64_t fib_concur(futures::ThreadPoolExecutor& pool, int n) {
  if (n < wl::kFibSequentialBelow) return wl::fib_sequential(n);
  auto child = pool.submit(fib_concur, std::ref(pool), n - 1);
  const int64_t mine = fib_concur(pool, n - 2);
  return child.result() + mine;
}

void fib_forkjoin_concur(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  pool.submit(fib_concur, std::ref(pool), wl::kFibWarmupN).result();
  for (auto _ : state) {
    check(state, pool.submit(fib_concur, std::ref(pool), wl::kFibN).result(),
          wl::kFibResult);
  }
}
BENCHMARK(fib_forkjoin_concur)
    ->Name("fib_forkjoin/concur")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// skynet: a 10-ary tree of tasks with a million leaves (1,111,111 tasks in
// all); each node submits its ten children, then waits for each and sums
// their results; leaf k returns k. One operation is the whole tree.
int64_t skynet_concur(futures::ThreadPoolExecutor& pool, int64_t first,
                      int64_t leaves) {
  if (leaves == 1) return first;
  const int64_t each = leaves / wl::kSkynetFanout;
  // The ten children's futures in an array built by a pack expansion,
  // which submits them in order without a default-constructed Future.
  auto submit_children = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::array{pool.submit(skynet_concur, std::ref(pool),
                                  first + static_cast<int64_t>(I) * each,
                                  each)...};
  };
  auto children =
      submit_children(std::make_index_sequence<wl::kSkynetFanout>{});
  int64_t sum = 0;
  for (const auto& child : children) sum += child.result();
  return sum;
}

void skynet_concur_bench(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  pool.submit(skynet_concur, std::ref(pool), 0, wl::kSkynetWarmupLeaves)
      .result();
  for (auto _ : state) {
    check(state,
          pool.submit(skynet_concur, std::ref(pool), 0, wl::kSkynetLeaves)
              .result(),
          wl::triangle(wl::kSkynetLeaves));
  }
}
BENCHMARK(skynet_concur_bench)
    ->Name("skynet/concur")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// primes_pool: the seeds' CPU-bound work, is_prime (trial division by odd
// numbers, as in Python's concurrent.futures documentation) of the first
// five of its six PRIMES, one call per number: with ThreadPoolExecutor(2)
// and map, against the same calls one after the other. One operation is
// the five checks. The pool is made inside the timed region, as the seed
// makes it in a `with` block.
int64_t count_primes(futures::ThreadPoolExecutor& pool) {
  int64_t found = 0;
  for (bool prime : pool.map(wl::is_prime, wl::primes())) found += prime;
  return found;
}

void primes_pool_concur(benchmark::State& state) {
  {
    futures::ThreadPoolExecutor warm(wl::kWorkers);
    check(state, count_primes(warm), wl::kPrimeCount);
  }
  for (auto _ : state) {
    futures::ThreadPoolExecutor pool(wl::kWorkers);
    check(state, count_primes(pool), wl::kPrimeCount);
  }
}
BENCHMARK(primes_pool_concur)
    ->Name("primes_pool/concur")
    ->UseRealTime()
    ->Iterations(3);

void primes_pool_sequential(benchmark::State& state) {
  for (auto _ : state) {
    // The checks read memory only and their inputs never change: without
    // this barrier the compiler may do them once for all iterations.
    benchmark::ClobberMemory();
    int64_t found = 0;
    for (std::uint64_t n : wl::primes()) found += wl::is_prime(n);
    check(state, found, wl::kPrimeCount);
  }
}
BENCHMARK(primes_pool_sequential)
    ->Name("primes_pool/sequential")
    ->UseRealTime()
    ->Iterations(3);

// primes_split (not one of the workloads): the same five checks with
// each number's trial divisions split into two halves, ten tasks of equal
// size. Five equal tasks on two workers can be at most 5/3 = 1.67x faster
// than one after the other (one worker does three); this shows what the
// pool gives when the work divides evenly. The peer is
// primes_pool/sequential.
int64_t count_primes_split(futures::ThreadPoolExecutor& pool) {
  const auto& numbers = wl::primes();
  std::vector<futures::Future<bool>> halves;
  halves.reserve(2 * numbers.size());
  for (std::uint64_t n : numbers) {
    const std::uint64_t mid = wl::trial_division_midpoint(n);
    halves.push_back(pool.submit(wl::has_no_odd_divisor, n, 3, mid));
    halves.push_back(
        pool.submit(wl::has_no_odd_divisor, n, mid, wl::isqrt(n) + 1));
  }
  int64_t found = 0;
  for (std::size_t i = 0; i < halves.size(); i += 2) {
    // Both halves are waited for, as map would: no cancellation games.
    const bool low = halves[i].result();
    const bool high = halves[i + 1].result();
    found += low && high;
  }
  return found;
}

void primes_split_concur(benchmark::State& state) {
  {
    futures::ThreadPoolExecutor warm(wl::kWorkers);
    check(state, count_primes_split(warm), wl::kPrimeCount);
  }
  for (auto _ : state) {
    futures::ThreadPoolExecutor pool(wl::kWorkers);
    check(state, count_primes_split(pool), wl::kPrimeCount);
  }
}
BENCHMARK(primes_split_concur)
    ->Name("primes_split/concur")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// The ideal bound of a pool of kWorkers on a set of tasks, the peer of the
// primes workloads: how fast any pool could run them, given how long each
// takes. Each task is timed on its own, one after the other; then every
// assignment of tasks to workers is tried and the best one's longest worker
// is the bound (five equal tasks on two workers: three task-times, 3/5 of
// the sequential time). It is measured anew in every iteration and reported
// as the iteration's time.
using Check = std::function<bool()>;

void ideal_bound(benchmark::State& state, const std::vector<Check>& tasks) {
  using Clock = std::chrono::steady_clock;
  const std::size_t n = tasks.size();
  std::size_t assignments = 1;
  for (std::size_t i = 0; i < n; ++i) assignments *= wl::kWorkers;
  for (auto _ : state) {
    std::vector<double> seconds;
    for (const Check& task : tasks) {
      benchmark::ClobberMemory();
      const auto start = Clock::now();
      benchmark::DoNotOptimize(task());
      seconds.push_back(
          std::chrono::duration<double>(Clock::now() - start).count());
    }
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t a = 0; a < assignments; ++a) {
      std::array<double, wl::kWorkers> share{};
      std::size_t code = a;
      for (std::size_t i = 0; i < n; ++i, code /= wl::kWorkers) {
        share[code % wl::kWorkers] += seconds[i];
      }
      best = std::min(best, *std::max_element(share.begin(), share.end()));
    }
    state.SetIterationTime(best);
  }
}

std::vector<Check> primes_checks() {
  std::vector<Check> checks;
  for (std::uint64_t n : wl::primes()) {
    checks.push_back([n] { return wl::is_prime(n); });
  }
  return checks;
}

std::vector<Check> primes_half_checks() {
  std::vector<Check> checks;
  for (std::uint64_t n : wl::primes()) {
    const std::uint64_t mid = wl::trial_division_midpoint(n);
    checks.push_back([n, mid] { return wl::has_no_odd_divisor(n, 3, mid); });
    checks.push_back(
        [n, mid] { return wl::has_no_odd_divisor(n, mid, wl::isqrt(n) + 1); });
  }
  return checks;
}

BENCHMARK_CAPTURE(ideal_bound, primes_pool, primes_checks())
    ->Name("primes_pool/ideal")
    ->UseManualTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(ideal_bound, primes_split, primes_half_checks())
    ->Name("primes_split/ideal")
    ->UseManualTime()
    ->Iterations(3);

// The same tasks on two std::threads started for the purpose, dealt out
// alternately (the first thread takes tasks 0, 2, 4, ...): what a hand-
// written split achieves on this machine, against which the ideal bound
// shows how much two threads really run at once here.
void two_threads(benchmark::State& state, const std::vector<Check>& tasks) {
  static_assert(wl::kWorkers == 2);
  for (auto _ : state) {
    int64_t found[2] = {0, 0};
    auto share = [&](std::size_t first) {
      for (std::size_t i = first; i < tasks.size(); i += 2) {
        found[first] += tasks[i]();
      }
    };
    std::thread other(share, 1);
    share(0);
    other.join();
    benchmark::DoNotOptimize(found);
  }
}
BENCHMARK_CAPTURE(two_threads, primes_pool, primes_checks())
    ->Name("primes_pool/threads")
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK_CAPTURE(two_threads, primes_split, primes_half_checks())
    ->Name("primes_split/threads")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// sum_1e8: the sum of a vector of 10^8 int64 (1 .. 10^8), split in two
// halves summed on two threads. concur submits the halves to a pool made
// beforehand; the peers are two std::threads started for the purpose (what
// one writes by hand) and one thread alone. All call the same out-of-line
// loop. One operation is one element: the runner divides by 10^8.
void sum_concur(benchmark::State& state) {
  const auto& numbers = wl::numbers();
  const int64_t* begin = numbers.data();
  const int64_t* mid = begin + numbers.size() / 2;
  const int64_t* end = begin + numbers.size();
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  auto round = [&] {
    auto low = pool.submit(wl::sum_span, begin, mid);
    auto high = pool.submit(wl::sum_span, mid, end);
    return low.result() + high.result();
  };
  // The warm-up is a whole round, two tasks at once, so that the pool
  // (which starts its threads on demand) has started both workers.
  round();
  for (auto _ : state) check(state, round(), wl::kSumTotal);
  state.counters["ops_per_iteration"] = wl::kSumCount;
}
BENCHMARK(sum_concur)->Name("sum_1e8/concur")->UseRealTime()->Iterations(3);

void sum_threads(benchmark::State& state) {
  const auto& numbers = wl::numbers();
  const int64_t* begin = numbers.data();
  const int64_t* mid = begin + numbers.size() / 2;
  const int64_t* end = begin + numbers.size();
  for (auto _ : state) {
    int64_t low = 0;
    int64_t high = 0;
    std::thread first([&] { low = wl::sum_span(begin, mid); });
    std::thread second([&] { high = wl::sum_span(mid, end); });
    first.join();
    second.join();
    check(state, low + high, wl::kSumTotal);
  }
  state.counters["ops_per_iteration"] = wl::kSumCount;
}
BENCHMARK(sum_threads)->Name("sum_1e8/threads")->UseRealTime()->Iterations(3);

void sum_sequential(benchmark::State& state) {
  const auto& numbers = wl::numbers();
  for (auto _ : state) {
    // sum_span reads memory only and its arguments never change: without
    // this barrier the compiler sums once for all iterations (it did).
    benchmark::ClobberMemory();
    check(state, wl::sum_span(numbers.data(), numbers.data() + numbers.size()),
          wl::kSumTotal);
  }
  state.counters["ops_per_iteration"] = wl::kSumCount;
}
BENCHMARK(sum_sequential)
    ->Name("sum_1e8/sequential")
    ->UseRealTime()
    ->Iterations(3);

}  // namespace
