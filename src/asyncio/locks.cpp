// Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier: Python's
// asyncio.locks, rule for rule.
#include <cstddef>
#include <exception>

#include "concur/asyncio/locks.hpp"

namespace concur::asyncio {

using asyncio_detail::current_task_or_throw;

// --- Lock
// ------------------------------------------------------------------------

bool Lock::Acquire::await_ready() noexcept {
  // A woken waiter stays listed until it runs, so a newcomer never takes
  // the lock from under it.
  if (lock_.locked_ || !lock_.waiters_.empty()) return false;
  lock_.locked_ = true;
  return true;
}

bool Lock::Acquire::await_suspend(std::coroutine_handle<> /*unused*/) {
  task_ = &current_task_or_throw();
  return lock_.waiters_.enqueue(waiter_, *task_);
}

bool Lock::Acquire::await_resume() {
  if (task_ == nullptr) return true;  // taken at once
  lock_.waiters_.leave(waiter_);
  if (task_->cancel_pending()) {
    // Woken or not, this task will not take the lock: if it is free, the
    // next waiter must run.
    if (!lock_.locked_) lock_.waiters_.wake_head();
    task_->throw_if_cancelled();
  }
  lock_.locked_ = true;
  return true;
}

void Lock::release() {
  if (!locked_) throw RuntimeError("Lock is not acquired.");
  locked_ = false;
  waiters_.wake_head();
}

// --- Event
// -----------------------------------------------------------------------

bool Event::Wait::await_suspend(std::coroutine_handle<> /*unused*/) {
  task_ = &current_task_or_throw();
  return event_.waiters_.enqueue(waiter_, *task_);
}

bool Event::Wait::await_resume() {
  if (task_ == nullptr) return true;
  event_.waiters_.leave(waiter_);
  task_->throw_if_cancelled();
  return true;
}

void Event::set() noexcept {
  if (set_) return;
  set_ = true;
  waiters_.wake_up_to(waiters_.size());
}

// --- Condition
// -------------------------------------------------------------------

bool Condition::Notified::await_suspend(std::coroutine_handle<> /*unused*/) {
  task_ = &current_task_or_throw();
  return cond_.waiters_.enqueue(waiter_, *task_);
}

void Condition::Notified::await_resume() {
  const bool woken = waiter_.woken();
  cond_.waiters_.leave(waiter_);
  if (task_->cancel_pending()) {
    // A notify meant for this task goes to another one.
    if (woken) cond_.waiters_.wake_next();
    task_->throw_if_cancelled();
  }
}

Task<bool> Condition::wait() {
  if (!lock_->locked()) throw RuntimeError("cannot wait on un-acquired lock");
  lock_->release();
  std::exception_ptr error;
  try {
    co_await Notified(*this);
  } catch (...) {
    error = std::current_exception();
  }
  // The lock is taken back even if the wait was cancelled; a cancel during
  // the re-acquisition is kept and thrown once the lock is held.
  std::exception_ptr cancelled;
  for (;;) {
    try {
      co_await lock_->acquire();
      break;
    } catch (const CancelledError&) {
      cancelled = std::current_exception();
    }
  }
  if (error != nullptr) std::rethrow_exception(error);
  if (cancelled != nullptr) std::rethrow_exception(cancelled);
  co_return true;
}

void Condition::notify(std::size_t n) {
  if (!lock_->locked()) {
    throw RuntimeError("cannot notify on un-acquired lock");
  }
  waiters_.wake_up_to(n);
}

void Condition::notify_all() { notify(waiters_.size()); }

// --- Semaphore
// -------------------------------------------------------------------

Semaphore::Semaphore(std::ptrdiff_t value) : value_(value) {
  if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

bool Semaphore::Acquire::await_ready() noexcept {
  if (sem_.locked()) return false;
  --sem_.value_;
  return true;
}

bool Semaphore::Acquire::await_suspend(std::coroutine_handle<> /*unused*/) {
  task_ = &current_task_or_throw();
  return sem_.waiters_.enqueue(waiter_, *task_);
}

bool Semaphore::Acquire::await_resume() {
  if (task_ == nullptr) return true;
  const bool woken = waiter_.woken();
  sem_.waiters_.leave(waiter_);
  if (task_->cancel_pending()) {
    // A unit handed to this task goes back, to whoever is next.
    if (woken) ++sem_.value_;
    sem_.wake_while_available();
    task_->throw_if_cancelled();
  }
  // Waiters that came while this one was queued may go now.
  sem_.wake_while_available();
  return true;
}

void Semaphore::release() {
  ++value_;
  wake_next();
}

bool Semaphore::wake_next() noexcept {
  if (!waiters_.wake_next()) return false;
  --value_;
  return true;
}

void Semaphore::wake_while_available() noexcept {
  while (value_ > 0 && wake_next()) {
  }
}

void BoundedSemaphore::release() {
  if (value_ >= bound_) {
    throw ValueError("BoundedSemaphore released too many times");
  }
  Semaphore::release();
}

// --- Barrier
// ---------------------------------------------------------------------

Barrier::Barrier(std::ptrdiff_t parties)
    : parties_(static_cast<std::size_t>(parties)) {
  if (parties < 1) throw ValueError("parties must be > 0");
}

Task<std::size_t> Barrier::wait() {
  co_await cond_.acquire();
  std::exception_ptr error;
  std::size_t index = 0;
  bool counted = false;
  try {
    co_await block();
    index = count_++;
    counted = true;
    if (index + 1 == parties_) {
      state_ = State::kDraining;
      cond_.notify_all();
    } else {
      co_await wait_round();
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (counted) {
    --count_;
    exit();
  }
  cond_.release();
  if (error != nullptr) std::rethrow_exception(error);
  co_return index;
}

Task<void> Barrier::block() {
  // The predicate is made apart from the co_await (see asyncio.hpp).
  auto unblocked = cond_.wait_for([this] {
    return state_ != State::kDraining && state_ != State::kResetting;
  });
  co_await unblocked;
  if (state_ == State::kBroken) throw BrokenBarrierError("Barrier aborted");
}

Task<void> Barrier::wait_round() {
  auto released = cond_.wait_for([this] { return state_ != State::kFilling; });
  co_await released;
  if (state_ == State::kBroken || state_ == State::kResetting) {
    throw BrokenBarrierError("Barrier aborted");
  }
}

void Barrier::exit() {
  if (count_ == 0) {
    if (state_ == State::kResetting || state_ == State::kDraining) {
      state_ = State::kFilling;
    }
    cond_.notify_all();
  }
}

Task<void> Barrier::reset() {
  co_await cond_.acquire();
  if (count_ > 0) {
    state_ = State::kResetting;
  } else {
    state_ = State::kFilling;
  }
  cond_.notify_all();
  cond_.release();
}

Task<void> Barrier::abort() {
  co_await cond_.acquire();
  state_ = State::kBroken;
  cond_.notify_all();
  cond_.release();
}

}  // namespace concur::asyncio
