// The sizes, inputs and plain functions of the concurrent.futures workloads,
// shared by bench/futures_bench.cpp and bench/futures_batch_bench.cpp
// (concur) and the peer binaries bench/peers/tbb_bench.cpp,
// bench/peers/asio_bench.cpp, bench/peers/libfork_bench.cpp and
// bench/peers/tmc_bench.cpp, so that every implementation does exactly the
// same work. Header-only; no library but Google Benchmark.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "benchmark/benchmark.h"

namespace concur_bench::futures_workloads {

using std::int64_t;
using std::uint64_t;

// Stops the benchmark with an error if a workload computed the wrong
// answer: a fast wrong result is not a result.
inline void check(benchmark::State& state, int64_t got, int64_t want) {
  if (got != want) state.SkipWithError("wrong result");
}

// Every pool has two workers: the machine the targets are set for has two
// cores.
inline constexpr int kWorkers = 2;

// 0 + 1 + ... + (n - 1): the checksum of n tasks that return their index.
constexpr int64_t triangle(int64_t n) { return n * (n - 1) / 2; }

// pool_submit_1m: trivial tasks per timed round, and per untimed warm-up.
inline constexpr int64_t kSubmitTasks = 1'000'000;
inline constexpr int64_t kWarmupTasks = 10'000;

// fib_forkjoin: fib(kFibN) with one task per call down to
// kFibSequentialBelow (2 = no cut-off: every call with n >= 2 forks, so the
// tasks are as tiny as tasks get; fib(30) makes 832,039 of them).
inline constexpr int kFibN = 30;
inline constexpr int kFibWarmupN = 20;
inline constexpr int kFibSequentialBelow = 2;

constexpr int64_t fib_sequential(int n) {
  return n < 2 ? n : fib_sequential(n - 1) + fib_sequential(n - 2);
}
// fib(30), spelled out: evaluating fib_sequential(30) in a constant
// expression exceeds clang's step limit, and at run time it would be timed.
inline constexpr int64_t kFibResult = 832'040;
static_assert(kFibN == 30 && fib_sequential(20) == 6'765);

// skynet: ten children per node, a million leaves; leaf k returns k, so
// the total is 0 + 1 + ... + 999,999 = 499,999,500,000.
inline constexpr std::size_t kSkynetFanout = 10;
inline constexpr int64_t kSkynetLeaves = 1'000'000;
inline constexpr int64_t kSkynetWarmupLeaves = 10'000;

// nqueens: the number of ways to place kNQueensN queens on a kNQueensN x
// kNQueensN board, as a fork-join tree: a node is a partial board of `row`
// queens, one per row; it forks one task per column of the next row that
// no queen so far attacks, waits for them all and sums their counts; a full
// board counts 1. For 12 queens that is 856,189 tasks (the root included)
// and 14,200 solutions; the warm-up is the 8 queens' 2,057 tasks and 92.
inline constexpr int kNQueensN = 12;
inline constexpr int64_t kNQueensSolutions = 14'200;
inline constexpr int kNQueensWarmupN = 8;
inline constexpr int64_t kNQueensWarmupSolutions = 92;

// A partial board, as the classic benchmark (libfork's, oneTBB's) keeps it:
// board[r] is the column of the queen in row r, for r < the rows placed so
// far. Small and trivially copyable: each child gets its own copy.
using QueensBoard = std::array<char, kNQueensN>;

// True if a queen in row `row`, column `column` is attacked by none of the
// queens in rows 0 .. row - 1 (same column or same diagonal).
constexpr bool queen_safe(const QueensBoard& board, int row, int column) {
  for (int r = 0; r < row; ++r) {
    const int placed = board[static_cast<std::size_t>(r)];
    const int distance = row - r;
    if (placed == column || placed == column - distance ||
        placed == column + distance) {
      return false;
    }
  }
  return true;
}

// The same count without tasks: checks the constants, at compile time.
constexpr int64_t nqueens_sequential(QueensBoard board, int row, int n) {
  if (row == n) return 1;
  int64_t count = 0;
  for (int column = 0; column < n; ++column) {
    if (!queen_safe(board, row, column)) continue;
    board[static_cast<std::size_t>(row)] = static_cast<char>(column);
    count += nqueens_sequential(board, row + 1, n);
  }
  return count;
}
static_assert(nqueens_sequential(QueensBoard{}, 0, kNQueensWarmupN) ==
              kNQueensWarmupSolutions);

// map_10m: the mapped function, over 0 .. kMapItems - 1 in chunks of
// kMapChunk; the results are summed. Out of line (noinline), so that no
// implementation can fold it into its loop more than the others: each pays
// one call per item, as a map does.
inline constexpr int64_t kMapItems = 10'000'000;
inline constexpr int64_t kMapChunk = 10'000;
// map_chunk1: a map with chunksize 1, against one submit per item.
inline constexpr int64_t kMapOneItems = 200'000;
[[gnu::noinline]] inline int64_t twice(int v) { return 2 * int64_t{v}; }
inline std::vector<int> map_items(int64_t n) {
  std::vector<int> items(static_cast<std::size_t>(n));
  std::iota(items.begin(), items.end(), 0);
  return items;
}

// primes_pool: the first five of the six PRIMES of the example in Python's
// concurrent.futures documentation (and the seeds); all five are prime.
// Not constexpr and returned by reference, so that the compiler cannot
// fold the checks of known numbers away.
inline const std::vector<uint64_t>& primes() {
  static const std::vector<uint64_t> numbers{112272535095293, 112582705942171,
                                             112272535095293, 115280095190773,
                                             115797848077099};
  return numbers;
}
inline constexpr int64_t kPrimeCount = 5;

// floor(sqrt(n)), as the seed computes it: int(math.floor(math.sqrt(n))).
inline uint64_t isqrt(uint64_t n) {
  return static_cast<uint64_t>(std::floor(std::sqrt(static_cast<double>(n))));
}

// True if no odd number in [from, to) divides n (from odd).
inline bool has_no_odd_divisor(uint64_t n, uint64_t from, uint64_t to) {
  for (uint64_t i = from; i < to; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

// The seed's is_prime, line for line.
inline bool is_prime(uint64_t n) {
  if (n < 2) return false;
  if (n == 2) return true;
  if (n % 2 == 0) return false;
  return has_no_odd_divisor(n, 3, isqrt(n) + 1);
}

// An odd number splitting is_prime(n)'s trial divisions into two halves.
inline uint64_t trial_division_midpoint(uint64_t n) {
  return (3 + isqrt(n) + 1) / 2 | 1;
}

// sum_1e8: 1, 2, ..., 10^8 as int64 (800 MB), built once, on first use;
// their sum is the seeds' 5000000050000000.
inline constexpr int64_t kSumCount = 100'000'000;
inline constexpr int64_t kSumTotal = kSumCount * (kSumCount + 1) / 2;

inline const std::vector<int64_t>& numbers() {
  static const std::vector<int64_t> values = [] {
    std::vector<int64_t> v(static_cast<std::size_t>(kSumCount));
    std::iota(v.begin(), v.end(), int64_t{1});
    return v;
  }();
  return values;
}

// The loop every sum_1e8 implementation runs over its share. Out of line,
// so that each calls the very same machine code.
[[gnu::noinline]] inline int64_t sum_span(const int64_t* begin,
                                          const int64_t* end) {
  return std::accumulate(begin, end, int64_t{0});
}

}  // namespace concur_bench::futures_workloads
