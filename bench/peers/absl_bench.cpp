// The peer of bench/deadlock_bench.cpp: absl::Mutex (Debian's libabsl-dev)
// in the same lock workloads, with abseil's deadlock detection off
// (OnDeadlockCycle::kIgnore) and on (kReport). Debian builds abseil without
// NDEBUG, so its detector is compiled in; abseil's own release builds
// remove it.
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "lock_workloads.hpp"

namespace {

namespace lw = concur_bench::lock_workloads;

// absl::Mutex under the names the workloads call.
class ABSL_LOCKABLE AbslLock {
 public:
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.Lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }

 private:
  absl::Mutex mu_;
};

// Runs a workload with abseil's detector set to `mode`, then off again.
template <void (*kWorkload)(benchmark::State&), absl::OnDeadlockCycle kMode>
void with_mode(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(kMode);
  kWorkload(state);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

constexpr auto kOff = absl::OnDeadlockCycle::kIgnore;
constexpr auto kOn = absl::OnDeadlockCycle::kReport;

BENCHMARK(with_mode<lw::lock_uncontended<AbslLock>, kOff>)
    ->Name("detector_off/absl");
BENCHMARK(with_mode<lw::lock_nested<AbslLock>, kOn>)
    ->Name("detector_known/absl");
BENCHMARK(with_mode<lw::lock_new_inner<AbslLock>, kOn>)
    ->Name("detector_new_edge/absl");
BENCHMARK(with_mode<lw::lock_contended<AbslLock, 2, true>, kOff>)
    ->Name("detector_off_contended/absl")
    ->UseRealTime();
BENCHMARK(with_mode<lw::lock_contended<AbslLock, 2, true>, kOn>)
    ->Name("detector_known_contended/absl")
    ->UseRealTime();

}  // namespace
