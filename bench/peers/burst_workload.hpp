// The burst workload shared by bench/futures_burst_bench.cpp (concur) and
// its peers in bench/peers/tbb_bench.cpp and bench/peers/asio_bench.cpp: a
// pool that idles between bursts of tiny tasks. Each implementation passes
// a function that submits one burst and waits for all of it; the loops and
// the statistics here are the same for all. Header-only; no library but
// Google Benchmark.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"

namespace concur_bench::burst_workload {

using std::int64_t;

inline constexpr int kBursts = 1000;
inline constexpr int64_t kTasks = 100;  // calls per burst; call i returns i
inline constexpr int64_t kSum = kTasks * (kTasks - 1) / 2;
// Long enough for every runtime measured to put its workers to sleep
// (oneTBB's spin before sleeping is the longest, well under this).
inline constexpr auto kIdle = std::chrono::milliseconds(1);
// What idle_cpu measures over.
inline constexpr auto kIdleSecond = std::chrono::seconds(1);

// Runs kBursts bursts, kIdle apart, timing each from its first submit to
// its last result. The benchmark's (manual) time is the median; the 99th
// percentile goes to the counter p99_ns, which bench/peers/run.py reads as
// its own row. `burst` returns the sum of the burst's results.
template <class Burst>
void run_bursts(benchmark::State& state, Burst&& burst) {
  using Clock = std::chrono::steady_clock;
  burst();  // starts the workers
  std::vector<double> samples(kBursts);
  for (auto _ : state) {
    for (double& sample : samples) {
      std::this_thread::sleep_for(kIdle);
      const auto start = Clock::now();
      const int64_t sum = burst();
      sample = std::chrono::duration<double>(Clock::now() - start).count();
      if (sum != kSum) state.SkipWithError("wrong result");
    }
    std::sort(samples.begin(), samples.end());
    state.SetIterationTime(samples[samples.size() / 2]);
  }
  state.counters["p99_ns"] = samples[samples.size() * 99 / 100] * 1e9;
}

// One burst on a runtime whose tasks return nothing (oneTBB, Asio): kTasks
// calls handed to `post`, each storing its index in its own slot of
// `results` (the slot is the future's value) and counting down a latch
// that the caller waits on; then the sum of the slots.
template <class Post>
int64_t latch_burst(std::vector<int64_t>& results, Post&& post) {
  std::latch done(kTasks);
  for (int64_t i = 0; i < kTasks; ++i) {
    post([&results, &done, i] {
      results[static_cast<std::size_t>(i)] = i;
      done.count_down();
    });
  }
  done.wait();
  int64_t sum = 0;
  for (int64_t v : results) sum += v;
  return sum;
}

// The CPU time of the whole process over kIdleSecond after a burst, the
// calling thread asleep all the while: what the idle workers burn. The
// benchmark's (manual) time is that CPU time.
template <class Burst>
void measure_idle_cpu(benchmark::State& state, Burst&& burst) {
  auto cpu_now = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) +
           static_cast<double>(ts.tv_nsec) * 1e-9;
  };
  for (auto _ : state) {
    if (burst() != kSum) state.SkipWithError("wrong result");
    const double before = cpu_now();
    std::this_thread::sleep_for(kIdleSecond);
    state.SetIterationTime(cpu_now() - before);
  }
}

// Registers burst/IMPLEMENTATION and idle_cpu/IMPLEMENTATION for a
// runtime whose Bursts (default-constructible: it makes the pool) runs one
// burst per call. Call it once, from a namespace-scope initializer.
template <class Bursts>
bool register_benchmarks(const std::string& implementation) {
  benchmark::RegisterBenchmark(("burst/" + implementation).c_str(),
                               [](benchmark::State& state) {
                                 Bursts bursts;
                                 run_bursts(state, bursts);
                               })
      ->UseManualTime()
      ->Iterations(1);
  benchmark::RegisterBenchmark(("idle_cpu/" + implementation).c_str(),
                               [](benchmark::State& state) {
                                 Bursts bursts;
                                 measure_idle_cpu(state, bursts);
                               })
      ->UseManualTime()
      ->Iterations(1)
      ->Repetitions(3);
  return true;
}

}  // namespace concur_bench::burst_workload
