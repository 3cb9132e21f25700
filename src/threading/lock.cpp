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
  // Spin first: on a multi-core machine the holder is usually about to
  // release, and a context switch costs far more than a few hundred pauses.
  if (sys::spin_until([this] {
        std::uint32_t s = state_.load(std::memory_order_relaxed);
        return s == kUnlocked && state_.compare_exchange_weak(
                                     s, kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed);
      })) {
    return true;
  }
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
