#include <atomic>
#include <cstdint>
#include <memory>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

// One waiting thread, on that thread's stack. It is linked into the
// Condition's list while the lock is held, and stays alive until wait()
// returns, which needs the lock again; a notifier holds the lock for as long
// as it touches the node, so the node outlives every access to it.
struct Condition::Waiter {
  // The futex word:
  //   kWaiting  linked, not notified, its thread not (yet) asleep;
  //   kParked   as kWaiting, but its thread sleeps on the futex: a notifier
  //             must wake it;
  //   kNotified unlinked by notify(); final.
  // The waiter moves kWaiting -> kParked; a notifier moves either to
  // kNotified.
  static constexpr std::uint32_t kWaiting = 0;
  static constexpr std::uint32_t kParked = 1;
  static constexpr std::uint32_t kNotified = 2;

  std::atomic<std::uint32_t> state{kWaiting};
  Waiter* prev = nullptr;
  Waiter* next = nullptr;

  // Sleeps until notified or until the deadline; returns whether notified.
  bool park(const sys::Deadline& deadline) {
    // Acquire on every read of kNotified: pairs with the notifier's release,
    // although the lock that wait() re-acquires already orders everything
    // that matters; the waiter reads no data through the node itself.
    if (sys::spin_until([this] {
          return state.load(std::memory_order_acquire) == kNotified;
        })) {
      return true;
    }
    std::uint32_t expected = kWaiting;
    if (!state.compare_exchange_strong(expected, kParked,
                                       std::memory_order_acquire)) {
      return true;  // notified while spinning
    }
    while (state.load(std::memory_order_acquire) == kParked) {
      if (!sys::futex_wait(state, kParked, deadline)) {
        return state.load(std::memory_order_acquire) == kNotified;
      }
    }
    return true;
  }

  // Called by a notifier holding the lock, after unlinking the node.
  void wake() noexcept {
    if (state.exchange(kNotified, std::memory_order_release) == kParked) {
      sys::futex_wake(state, 1);
    }
  }
};

Condition::Condition() : own_(std::make_unique<RLock>()), rlock_(own_.get()) {}
Condition::Condition(Lock& lock) noexcept : lock_(&lock) {}
Condition::Condition(RLock& lock) noexcept : rlock_(&lock) {}
Condition::~Condition() = default;

// The Condition's capability is its lock's; the analysis cannot equate the
// two, so these forwarding functions and wait are checked by the tests.
bool Condition::acquire(concur::detail::CallSite where)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return rlock_ != nullptr ? rlock_->acquire(where) : lock_->acquire(where);
}
bool Condition::acquire(bool blocking, concur::detail::CallSite where)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  return rlock_ != nullptr ? rlock_->acquire(blocking, where)
                           : lock_->acquire(blocking, where);
}
void Condition::release() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (rlock_ != nullptr) {
    rlock_->release();
  } else {
    lock_->release();
  }
}

bool Condition::is_owned() const noexcept {
  // A Lock has no owner; "locked" is the best check there is (Python's own
  // Condition makes the same one).
  return rlock_ != nullptr ? rlock_->is_owned() : lock_->locked();
}

void Condition::unlink(Waiter* waiter) noexcept {
  (waiter->prev != nullptr ? waiter->prev->next : head_) = waiter->next;
  (waiter->next != nullptr ? waiter->next->prev : tail_) = waiter->prev;
  waiter->prev = waiter->next = nullptr;
}

bool Condition::wait_until(const sys::Deadline& deadline)
    CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if (!is_owned()) throw RuntimeError("cannot wait on un-acquired lock");
  Waiter self;
  self.prev = tail_;
  (tail_ != nullptr ? tail_->next : head_) = &self;
  tail_ = &self;

  std::size_t depth = 0;
  if (rlock_ != nullptr) {
    depth = rlock_->release_all();
  } else {
    lock_->release();
  }
  bool notified = self.park(deadline);
  // The wait returns holding the lock, so taking it back must not throw
  // (the detector reports a cycle here instead of raising it).
  const concur::detail::CallSite where = concur::detail::CallSite::current();
  if (rlock_ != nullptr) {
    rlock_->restore(depth, where);
  } else {
    lock_->reacquire(where);
  }
  // With the lock held again, the node's state is final: either a notifier
  // took it off the list (and the notification is ours, even if our timeout
  // expired meanwhile) or nobody did and we take ourselves off.
  if (!notified) {
    notified = self.state.load(std::memory_order_acquire) == Waiter::kNotified;
    if (!notified) unlink(&self);
  }
  return notified;
}

void Condition::notify(std::ptrdiff_t n) {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  while (n > 0 && head_ != nullptr) {
    Waiter* waiter = head_;
    unlink(waiter);
    waiter->wake();
    --n;
  }
}

void Condition::notify_all() {
  if (!is_owned()) throw RuntimeError("cannot notify on un-acquired lock");
  while (head_ != nullptr) {
    Waiter* waiter = head_;
    unlink(waiter);
    waiter->wake();
  }
}

}  // namespace concur::threading
