#include <atomic>
#include <cstdint>

#include "concur/detail/futex.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

namespace detail {
std::uint64_t next_thread_key() noexcept {
  // Relaxed: the key only has to be unique, and fetch_add hands out each
  // value once whatever the ordering.
  static std::atomic<std::uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}
}  // namespace detail

bool Lock::acquire_slow(const detail::Deadline& deadline) {
  // Spin first: on a multi-core machine the holder is usually about to
  // release, and a context switch costs far more than a few hundred pauses.
  for (int i = 0; i < concur::detail::spin_limit(); ++i) {
    std::uint32_t s = state_.load(std::memory_order_relaxed);
    if (s == kUnlocked &&
        state_.compare_exchange_weak(s, kLocked, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
    concur::detail::cpu_relax();
  }
  // Mark the lock contended before sleeping so that release() wakes us. The
  // exchange also takes the lock if it was free (then we keep kContended:
  // other sleepers may exist). Acquire: as in try_fast().
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    if (!concur::detail::futex_wait(state_, kContended, deadline)) {
      return false;
    }
  }
  return true;
}

void Lock::release_slow(std::uint32_t previous) {
  if (previous == kUnlocked) throw RuntimeError("release unlocked lock");
  concur::detail::futex_wake(state_, 1);
}

void RLock::release() {
  if (!is_owned()) throw RuntimeError("cannot release un-acquired lock");
  if (--count_ == 0) {
    owner_.store(0, std::memory_order_relaxed);
    lock_.release();
  }
}

bool RLock::acquire_until(const detail::Deadline& deadline) {
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
