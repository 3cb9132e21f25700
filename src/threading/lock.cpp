#include <atomic>
#include <chrono>
#include <cstdint>

#include "concur/deadlock.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/threading.hpp"

std::uint64_t concur::threading_detail::next_thread_key() noexcept {
  // Relaxed: the key only has to be unique, and fetch_add hands out each
  // value once whatever the ordering.
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

namespace concur::threading_detail {

bool LockWord::take_slow(const sys::Deadline& deadline,
                         deadlock_detail::LockTracker& tracker,
                         concur::detail::CallSite where, bool may_raise) {
  // Spin briefly first: on a multi-core machine a short critical section
  // is often over within a microsecond, and a sleep costs several. Not once
  // others sleep: the lock is busier than a spin can wait out, and a
  // spinner would only overtake them.
  bool taken = false;
  sys::spin_backoff_until([&] {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    // Acquire: as in try_take().
    taken = s == kUnlocked &&
            state_.compare_exchange_weak(s, kLocked, std::memory_order_acquire,
                                         std::memory_order_relaxed);
    return taken || s == kContended;
  });
  if (taken) return true;
  // A wait that closes a cycle never ends, and a short one closes none, so
  // the detector hears of a wait only once it has lasted kUnwatchedSleep:
  // the sleeps of a busy lock cost it nothing, and a deadlock is found
  // that much later.
  constexpr auto kUnwatchedSleep = std::chrono::milliseconds(1);
  bool watched = false;
  sys::Deadline first = deadline;
  if (deadlock_detail::active()) {
    const sys::Deadline soon = sys::Deadline::after(kUnwatchedSleep);
    if (deadline.later_than(soon)) {
      first = soon;
      watched = true;
    }
  }
  // Mark the lock contended before sleeping so that give() wakes us. The
  // exchange also takes the lock if it was free (then we keep kContended:
  // other sleepers may exist). Acquire: as in try_take().
  taken = true;
  bool told = false;
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    if (sys::futex_wait(state_, kContended, first)) continue;
    if (watched && !told) {
      tracker.before_park(where, may_raise);
      told = true;
      first = deadline;
      continue;
    }
    taken = false;
    break;
  }
  if (told) tracker.after_park();
  return taken;
}

void LockWord::give_slow(std::uint32_t previous) {
  if (previous == kUnlocked) {
    // The exchange left the word as it was: nothing to undo.
    deadlock_detail::report_misuse(deadlock::Finding::kReleaseUnheld,
                                   "release unlocked lock",
                                   concur::detail::CallSite::current());
    throw RuntimeError("release unlocked lock");
  }
  sys::futex_wake(state_, 1);
}

}  // namespace concur::threading_detail

namespace concur::threading {

bool Lock::acquire_slow(const sys::Deadline& deadline,
                        concur::detail::CallSite where) {
  if (!word_.take_slow(deadline, tracker_, where)) return false;
  if (deadlock_detail::active()) tracker_.acquired(where, true);
  return true;
}

void Lock::reacquire(concur::detail::CallSite where) {
  if (!word_.try_take()) {
    static_cast<void>(
        word_.take_slow(sys::Deadline::never(), tracker_, where, false));
  }
  if (deadlock_detail::active()) tracker_.acquired(where, true);
}

void Lock::destroyed_held() noexcept {
  deadlock_detail::report_misuse(deadlock::Finding::kDestroyHeld,
                                 "a Lock destroyed while held",
                                 tracker_.site());
}

void RLock::release() {
  if (!is_owned()) {
    deadlock_detail::report_misuse(deadlock::Finding::kReleaseUnheld,
                                   "cannot release un-acquired lock",
                                   tracker_.site());
    throw RuntimeError("cannot release un-acquired lock");
  }
  if (--count_ == 0) {
    if (deadlock_detail::active()) tracker_.releasing();
    owner_.store(0, std::memory_order_relaxed);
    word_.give();
  }
}

bool RLock::acquire_slow(const sys::Deadline& deadline,
                         concur::detail::CallSite where) {
  if (!word_.take_slow(deadline, tracker_, where)) return false;
  take_ownership(1, where, true);
  return true;
}

void RLock::destroyed_held() noexcept {
  deadlock_detail::report_misuse(deadlock::Finding::kDestroyHeld,
                                 "an RLock destroyed while held",
                                 tracker_.site());
}

// RLock's capability is word_ plus the owner; the analysis sees neither.
std::size_t RLock::release_all() noexcept CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  std::size_t count = count_;
  count_ = 0;
  if (deadlock_detail::active()) tracker_.releasing();
  owner_.store(0, std::memory_order_relaxed);
  word_.give();
  return count;
}

void RLock::restore(std::size_t count, concur::detail::CallSite where)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (!word_.try_take()) {
    static_cast<void>(
        word_.take_slow(sys::Deadline::never(), tracker_, where, false));
  }
  take_ownership(count, where, true);
}

}  // namespace concur::threading
