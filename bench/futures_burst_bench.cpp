// Benchmarks for a ThreadPoolExecutor that goes idle between bursts of
// work, as a server's pool does: how fast its sleeping workers wake when a
// burst arrives, and how little CPU they burn while there is nothing to do.
// The oneTBB and Asio peers are in bench/peers/tbb_bench.cpp and
// bench/peers/asio_bench.cpp; the sizes, the burst loop and the
// statistics they share are in bench/peers/burst_workload.hpp. Conventions as
// in futures_bench.cpp (names, two workers, wall-clock time, a warm pool).
#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/futures.hpp"
#include "peers/burst_workload.hpp"
#include "peers/futures_workloads.hpp"

namespace {

namespace futures = concur::futures;
namespace burst = concur_bench::burst_workload;
namespace wl = concur_bench::futures_workloads;

using std::int64_t;

// ---------------------------------------------------------------------------
// burst: burst::kBursts times, let the pool idle for burst::kIdle (its workers
// go to sleep), then submit burst::kTasks trivial calls and read each result,
// as a user writes it. A sample is the time from the first submit to the last
// result; see burst::run_bursts for what is reported. idle_cpu: the CPU time
// the whole process (the pool's workers; the main thread sleeps) uses over a
// second of idleness after a burst.
class Bursts {
 public:
  Bursts() { pending_.reserve(burst::kTasks); }

  int64_t operator()() {
    for (int64_t i = 0; i < burst::kTasks; ++i) {
      pending_.push_back(pool_.submit([](int64_t v) { return v; }, i));
    }
    int64_t sum = 0;
    for (const auto& future : pending_) sum += future.result();
    pending_.clear();
    return sum;
  }

 private:
  futures::ThreadPoolExecutor pool_{wl::kWorkers};
  std::vector<futures::Future<int64_t>> pending_;
};

const bool kRegistered = burst::register_benchmarks<Bursts>("concur");

}  // namespace
