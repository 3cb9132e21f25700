// Benchmarks for concur::futures: ThreadPoolExecutor and Future on the
// workloads of issue 3, beside the hand-written C++ that does the same work
// without a pool. The C++ task-runtime peers (oneTBB, Asio) live in their
// own binaries, bench/peers/tbb_bench.cpp and bench/peers/asio_bench.cpp,
// built only where those libraries are installed, and the optional
// fork-join peers libfork and TooManyCooks in bench/peers/libfork_bench.cpp
// and bench/peers/tmc_bench.cpp, which bench/peers/run.py compiles from
// checkouts the user names; the shared workload definitions are in
// bench/peers/futures_workloads.hpp.
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

using wl::check;

// ---------------------------------------------------------------------------
// pool_submit_1m: submit a million trivial calls (return i) to a pool of two
// workers from one outside thread, then result() of each, in order, as
// Python code does with executor.submit and future.result(). One operation
// is one task: 1 / throughput.
// The task is a captureless lambda, which a ProcessPoolExecutor accepts too.
template <futures::Executor Pool>
int64_t submit_round(Pool& pool, std::vector<futures::Future<int64_t>>& pending,
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

// process_pool_submit: the same calls on a ProcessPoolExecutor of two
// worker processes (each argument goes to a worker and each result comes
// back through shared memory), 100,000 a round: the seeds' submit + result()
// with chunksize 1, which costs Python about 160 us a task.
constexpr int64_t kProcessSubmitTasks = 100'000;

void process_pool_submit_concur(benchmark::State& state) {
  futures::ProcessPoolExecutor pool(wl::kWorkers);
  std::vector<futures::Future<int64_t>> pending;
  pending.reserve(kProcessSubmitTasks);
  submit_round(pool, pending, wl::kWarmupTasks);
  for (auto _ : state) {
    check(state, submit_round(pool, pending, kProcessSubmitTasks),
          wl::triangle(kProcessSubmitTasks));
  }
  state.counters["ops_per_iteration"] = kProcessSubmitTasks;
}
BENCHMARK(process_pool_submit_concur)
    ->Name("process_pool_submit/concur")
    ->UseRealTime()
    ->Iterations(3);

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
// nqueens: the 12 queens' fork-join tree (856,189 tasks): each partial
// board submits one task per safe column of its next row, each with its
// own copy of the board, then waits for each and sums their counts; a full
// board counts 1. The futures go in a std::vector, as a user keeps a
// varying number of them. One operation is the whole tree.
int64_t nqueens_concur(futures::ThreadPoolExecutor& pool, wl::QueensBoard board,
                       int row, int n) {
  if (row == n) return 1;
  std::vector<futures::Future<int64_t>> children;
  children.reserve(static_cast<std::size_t>(n));
  for (int column = 0; column < n; ++column) {
    if (!wl::queen_safe(board, row, column)) continue;
    board[static_cast<std::size_t>(row)] = static_cast<char>(column);
    children.push_back(
        pool.submit(nqueens_concur, std::ref(pool), board, row + 1, n));
  }
  int64_t count = 0;
  for (const auto& child : children) count += child.result();
  return count;
}

void nqueens_concur_bench(benchmark::State& state) {
  futures::ThreadPoolExecutor pool(wl::kWorkers);
  check(state,
        pool.submit(nqueens_concur, std::ref(pool), wl::QueensBoard{}, 0,
                    wl::kNQueensWarmupN)
            .result(),
        wl::kNQueensWarmupSolutions);
  for (auto _ : state) {
    check(state,
          pool.submit(nqueens_concur, std::ref(pool), wl::QueensBoard{}, 0,
                      wl::kNQueensN)
              .result(),
          wl::kNQueensSolutions);
  }
}
BENCHMARK(nqueens_concur_bench)
    ->Name("nqueens/concur")
    ->UseRealTime()
    ->Iterations(3);

// ---------------------------------------------------------------------------
// primes_pool: the seeds' CPU-bound work, is_prime (trial division by odd
// numbers, as in Python's concurrent.futures documentation) of the first
// five of its six PRIMES, one call per number: with ThreadPoolExecutor(2)
// and map, against the same calls one after the other. One operation is
// the five checks. The pool is made inside the timed region, as the seed
// makes it in a `with` block.
template <futures::Executor Pool>
int64_t count_primes(Pool& pool) {
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
// primes_process_pool: the same map on a ProcessPoolExecutor of two worker
// processes, started before the clock (its workers forked and warm), and,
// as /with_start, made inside the timed region as the seed makes it, so
// that the two forks and the workers' first page faults count.
void primes_process_pool_concur(benchmark::State& state) {
  futures::ProcessPoolExecutor pool(wl::kWorkers);
  check(state, count_primes(pool), wl::kPrimeCount);
  for (auto _ : state) check(state, count_primes(pool), wl::kPrimeCount);
}
BENCHMARK(primes_process_pool_concur)
    ->Name("primes_process_pool/concur")
    ->UseRealTime()
    ->Iterations(3);

void primes_process_pool_with_start(benchmark::State& state) {
  for (auto _ : state) {
    futures::ProcessPoolExecutor pool(wl::kWorkers);
    check(state, count_primes(pool), wl::kPrimeCount);
  }
}
BENCHMARK(primes_process_pool_with_start)
    ->Name("primes_process_pool/with_start")
    ->UseRealTime()
    ->Iterations(3);

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
