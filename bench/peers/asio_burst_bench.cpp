// Asio's thread_pool, a peer of concur on the burst and idle_cpu workloads
// of bench/futures_burst_bench.cpp: a pool of two threads that idles
// between bursts of tiny tasks, each posted with asio::post; the caller
// waits on a std::latch that the burst's tasks count down. Built only where
// <asio.hpp> is installed (Debian: libasio-dev).
#include <asio/post.hpp>
#include <asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "burst_workload.hpp"
#include "futures_workloads.hpp"

namespace {

namespace burst = concur_bench::burst_workload;
namespace wl = concur_bench::futures_workloads;

using std::int64_t;

// The pool, and one burst of posted calls (see burst::latch_burst).
class Bursts {
 public:
  Bursts() : pool_(wl::kWorkers), results_(burst::kTasks) {}
  Bursts(const Bursts&) = delete;
  Bursts& operator=(const Bursts&) = delete;
  ~Bursts() { pool_.join(); }

  int64_t operator()() {
    return burst::latch_burst(
        results_, [this](auto task) { asio::post(pool_, std::move(task)); });
  }

 private:
  asio::thread_pool pool_;
  std::vector<int64_t> results_;
};

const bool kRegistered = burst::register_benchmarks<Bursts>("asio");

}  // namespace
