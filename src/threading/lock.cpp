#include <atomic>
#include <cstdint>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/threading.hpp"

std::uint64_t concur::threading_detail::next_thread_key() noexcept {
  // Relaxed: the key only has to be unique, and fetch_add hands out each
  // value once whatever the ordering.
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

namespace concur::threading {

bool Lock::acquire_slow(const sys::Deadline& deadline) {
  // Spin briefly first: on a multi-core machine a short critical section
  // is often over within a microsecond, and a sleep costs several. Not once
  // others sleep: the lock is busier than a spin can wait out, and a
  // spinner would only overtake them.
  bool acquired = false;
  sys::spin_backoff_until([&] {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    // Acquire: as in try_fast().
    acquired = s == kUnlocked && state_.compare_exchange_weak(
                                     s, kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed);
    return acquired || s == kContended;
  });
  if (acquired) return true;
  // Mark the lock contended before sleeping so that release() wakes us. The
  // exchange also takes the lock if it was free (then we keep kContended:
  // other sleepers may exist). Acquire: as in try_fast().
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    if (!sys::futex_wait(state_, kContended, deadline)) {
      return false;
    }
  }
  return true;
}

void Lock::release_slow(std::uint32_t previous) {
  if (previous == kUnlocked) throw RuntimeError("release unlocked lock");
  sys::futex_wake(state_, 1);
}

void RLock::release() {
  if (!is_owned()) throw RuntimeError("cannot release un-acquired lock");
  if (--count_ == 0) {
    owner_.store(0, std::memory_order_relaxed);
    lock_.release();
  }
}

bool RLock::acquire_until(const sys::Deadline& deadline) {
  return lock_.acquire_slow(deadline);
}

// RLock's capability is lock_ plus the owner; the analysis sees only lock_.
std::size_t RLock::release_all() noexcept CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  std::size_t count = count_;
  count_ = 0;
  owner_.store(0, std::memory_order_relaxed);
  lock_.release();
  return count;
}

void RLock::restore(std::size_t count) noexcept
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  lock_.acquire();
  take_ownership(count);
}

}  // namespace concur::threading
