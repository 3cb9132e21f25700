#include <utility>

#include "concur/threading.hpp"

// The cycle follows CPython's Barrier: threads arrive while the barrier is
// filling; the last one runs the action and switches it to draining; the
// waiters leave one by one and the last to leave switches it back to
// filling. Arrivals during draining (or resetting) wait for the switch, so
// a fast thread cannot slip into the cycle it just left.

namespace concur::threading {

namespace {
std::size_t checked_parties(std::ptrdiff_t parties) {
  if (parties < 1) throw ValueError("parties must be >= 1");
  return static_cast<std::size_t>(parties);
}
}  // namespace

Barrier::Barrier(std::ptrdiff_t parties, std::function<void()> action,
                 std::optional<Duration> timeout)
    : parties_(checked_parties(parties)),
      action_(std::move(action)),
      timeout_(timeout) {
  if (timeout) sys::checked_timeout(*timeout);
}

std::size_t Barrier::wait() {
  return wait_until(timeout_ ? sys::Deadline::after(*timeout_)
                             : sys::Deadline::never());
}

std::size_t Barrier::wait_until(const sys::Deadline& deadline) {
  concur::ScopedLock guard(lock_);
  enter();
  std::size_t index = count_++;
  struct Leave {  // runs on both the normal and the exceptional path
    Barrier& barrier;
    ~Leave() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
      --barrier.count_;
      barrier.leave();
    }
  } leave{*this};
  if (index + 1 == parties_) {
    release_cycle();
  } else {
    wait_cycle(deadline);
  }
  return index;
}

void Barrier::enter() {
  while (state_ == State::kDraining || state_ == State::kResetting) {
    cond_.wait();
  }
  if (state_ == State::kBroken) throw BrokenBarrierError("barrier is broken");
}

void Barrier::release_cycle() {
  try {
    if (action_) action_();
  } catch (...) {
    break_barrier();
    throw;
  }
  state_ = State::kDraining;
  cond_.notify_all();
}

void Barrier::wait_cycle(const sys::Deadline& deadline) {
  auto left = deadline.is_never() ? Duration::max() : deadline.remaining();
  if (!cond_.wait_for(
          [this]() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
            return state_ != State::kFilling;
          },
          left)) {
    break_barrier();
    throw BrokenBarrierError("barrier wait timed out");
  }
  if (state_ != State::kDraining) {
    throw BrokenBarrierError("barrier was aborted or reset");
  }
}

void Barrier::leave() {
  if (count_ == 0 &&
      (state_ == State::kResetting || state_ == State::kDraining)) {
    state_ = State::kFilling;
    cond_.notify_all();
  }
}

void Barrier::break_barrier() {
  state_ = State::kBroken;
  cond_.notify_all();
}

void Barrier::reset() {
  concur::ScopedLock guard(lock_);
  if (count_ > 0) {
    if (state_ == State::kFilling || state_ == State::kBroken) {
      state_ = State::kResetting;
    }
    // kDraining stays: the threads leaving the finished cycle end it.
  } else {
    state_ = State::kFilling;
  }
  cond_.notify_all();
}

void Barrier::abort() {
  concur::ScopedLock guard(lock_);
  break_barrier();
}

std::size_t Barrier::n_waiting() {
  concur::ScopedLock guard(lock_);
  return state_ == State::kFilling ? count_ : 0;
}

bool Barrier::broken() {
  concur::ScopedLock guard(lock_);
  return state_ == State::kBroken;
}

}  // namespace concur::threading
