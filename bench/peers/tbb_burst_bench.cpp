// oneTBB, the peer of concur on the burst and idle_cpu workloads of
// bench/futures_burst_bench.cpp: a pool that idles between bursts of tiny
// tasks. Built only where oneTBB is installed (Debian: libtbb-dev).
//
// The fair oneTBB equivalent of a ThreadPoolExecutor with two workers that
// the caller submits to and does not help is task_arena::enqueue into an
// arena of two worker slots, none reserved for the calling thread, which
// waits on a std::latch that the burst's tasks count down. oneTBB caps its
// worker threads at the machine's CPUs minus one unless told otherwise, so
// a global_control raises the cap to give the arena its two workers.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_arena.h>

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

// The pool, and one burst of enqueued calls (see burst::latch_burst).
class Bursts {
 public:
  Bursts()
      : cap_(tbb::global_control::max_allowed_parallelism, wl::kWorkers + 1),
        arena_(wl::kWorkers, 0),
        results_(static_cast<std::size_t>(burst::kTasks)) {}

  int64_t operator()() {
    return burst::latch_burst(
        results_, [this](auto task) { arena_.enqueue(std::move(task)); });
  }

 private:
  tbb::global_control cap_;
  tbb::task_arena arena_;
  std::vector<int64_t> results_;
};

const bool kRegistered = burst::register_benchmarks<Bursts>("tbb");

}  // namespace
