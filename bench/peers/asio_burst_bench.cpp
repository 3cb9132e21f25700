// Asio's thread_pool, a peer of concur on the burst and idle_cpu workloads
// of bench/futures_burst_bench.cpp: a pool of two threads that idles
// between bursts of tiny tasks, each posted with asio::post; the caller
// waits on a std::latch that the burst's tasks count down. Built only where
// <asio.hpp> is installed (Debian: libasio-dev).
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <vector>

#include "benchmark/benchmark.h"
#include "burst_workload.hpp"
#include "futures_workloads.hpp"

namespace {

namespace burst = concur_bench::burst_workload;
namespace wl = concur_bench::futures_workloads;

using std::int64_t;

// One burst: kTasks posted calls, each storing its index in its own slot,
// then the wait for the last one and the sum of the slots.
class Bursts {
 public:
  Bursts() : pool_(wl::kWorkers), results_(burst::kTasks) {}
  Bursts(const Bursts&) = delete;
  Bursts& operator=(const Bursts&) = delete;
  ~Bursts() { pool_.join(); }

  int64_t operator()() {
    std::latch done(burst::kTasks);
    for (int64_t i = 0; i < burst::kTasks; ++i) {
      asio::post(pool_, [this, &done, i] {
        results_[static_cast<std::size_t>(i)] = i;
        done.count_down();
      });
    }
    done.wait();
    int64_t sum = 0;
    for (int64_t v : results_) sum += v;
    return sum;
  }

 private:
  asio::thread_pool pool_;
  std::vector<int64_t> results_;
};

void burst_asio(benchmark::State& state) {
  Bursts bursts;
  burst::run_bursts(state, bursts);
}
BENCHMARK(burst_asio)->Name("burst/asio")->UseManualTime()->Iterations(1);

void idle_cpu_asio(benchmark::State& state) {
  Bursts bursts;
  burst::measure_idle_cpu(state, bursts);
}
BENCHMARK(idle_cpu_asio)
    ->Name("idle_cpu/asio")
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(3);

}  // namespace
