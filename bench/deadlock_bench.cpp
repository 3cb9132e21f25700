// What the deadlock detector (concur/deadlock.hpp) costs a Lock: the lock
// workloads of bench/peers/lock_workloads.hpp with the detector off, and on
// (report mode) while it only meets lock-order edges it knows and while
// every acquisition is an edge it has never seen, beside the same lock
// without the detector's hooks and std::mutex. Its peer, absl::Mutex with
// abseil's deadlock detection on, is bench/peers/absl_bench.cpp.
//
// Names are "detector_<workload>/<implementation>"; bench/peers/run.py
// pairs them by workload and checks each target.
#include <mutex>

#include "benchmark/benchmark.h"
#include "concur/deadlock.hpp"
#include "concur/threading.hpp"
#include "peers/lock_workloads.hpp"

namespace {

namespace deadlock = concur::deadlock;
namespace threading = concur::threading;

namespace lw = concur_bench::lock_workloads;

// Today's Lock without the detector: the same state word, taken and given
// the same way, and no hook. (A build with CONCUR_DEADLOCK_DETECTION=OFF
// gives the same lock, but it changes Lock's layout, so it cannot share a
// binary with the detector's build.)
class PlainLock {
 public:
  void lock() {
    if (!word_.try_take()) {
      static_cast<void>(
          word_.take_slow(concur::sys::Deadline::never(), tracker_, {}));
    }
  }
  void unlock() { word_.give(); }

 private:
  concur::threading_detail::LockWord word_;
  // take_slow tells it of a sleep only while the detector is on, which it
  // never is where a PlainLock is measured.
  concur::deadlock_detail::LockTracker tracker_{nullptr, {}};
};

// Runs a workload over a Lock with the detector in `mode`, then turns it
// off again.
template <void (*kWorkload)(benchmark::State&), deadlock::Mode kMode>
void with_mode(benchmark::State& state) {
  deadlock::set_mode(kMode);
  kWorkload(state);
  deadlock::set_mode(deadlock::Mode::kOff);
}

constexpr auto kOff = deadlock::Mode::kOff;
constexpr auto kOn = deadlock::Mode::kReport;

// One thread, an acquire+release pair; the detector off.
BENCHMARK(with_mode<lw::lock_uncontended<threading::Lock>, kOff>)
    ->Name("detector_off/concur");
BENCHMARK(with_mode<lw::lock_uncontended<PlainLock>, kOff>)
    ->Name("detector_off/plain");
BENCHMARK(lw::lock_uncontended<std::mutex>)->Name("detector_off/std");

// One thread, the pair under another held lock: an edge the detector knows.
BENCHMARK(with_mode<lw::lock_nested<threading::Lock>, kOn>)
    ->Name("detector_known/concur");
BENCHMARK(with_mode<lw::lock_nested<PlainLock>, kOff>)
    ->Name("detector_known/plain");
BENCHMARK(lw::lock_nested<std::mutex>)->Name("detector_known/std");

// One thread, a new lock under a held one each time: a new edge.
BENCHMARK(with_mode<lw::lock_new_inner<threading::Lock>, kOn>)
    ->Name("detector_new_edge/concur");
BENCHMARK(with_mode<lw::lock_new_inner<PlainLock>, kOff>)
    ->Name("detector_new_edge/plain");

// Two threads contending for one lock, each holding a lock of its own:
// the detector off, and on with edges it knows.
BENCHMARK(with_mode<lw::lock_contended<threading::Lock, 2, true>, kOff>)
    ->Name("detector_off_contended/concur")
    ->UseRealTime();
BENCHMARK(with_mode<lw::lock_contended<PlainLock, 2, true>, kOff>)
    ->Name("detector_off_contended/plain")
    ->UseRealTime();
BENCHMARK(lw::lock_contended<std::mutex, 2, true>)
    ->Name("detector_off_contended/std")
    ->UseRealTime();
BENCHMARK(with_mode<lw::lock_contended<threading::Lock, 2, true>, kOn>)
    ->Name("detector_known_contended/concur")
    ->UseRealTime();

}  // namespace
