// Deadline: the one timeout type every blocking call in concur converts to.
//
// A public call takes any std::chrono duration; it turns it into a Deadline
// once, on entry, so that retries after spurious wake-ups wait only for what
// is left. Negative timeouts are rejected here, with Python's message, which
// is why every module checks them the same way.
#pragma once

#include <chrono>
#include <ratio>

#include "concur/errors.hpp"

namespace concur::detail {

// Checks a user's timeout and converts it to the steady clock's unit:
// throws ValueError if negative, and saturates at about two centuries so that
// "wait for hours::max()" means "wait for ever" instead of overflowing.
template <class Rep, class Period>
std::chrono::steady_clock::duration checked_timeout(
    std::chrono::duration<Rep, Period> timeout) {
  using Steady = std::chrono::steady_clock::duration;
  if (timeout < std::chrono::duration<Rep, Period>::zero()) {
    throw ValueError("timeout value must be a non-negative duration");
  }
  using Years = std::chrono::duration<double, std::ratio<31556952>>;
  if (std::chrono::duration_cast<Years>(timeout) > Years(200)) {
    return std::chrono::duration_cast<Steady>(Years(200));
  }
  return std::chrono::ceil<Steady>(timeout);
}

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static constexpr Deadline never() noexcept { return Deadline{}; }

  // Throws ValueError for a negative timeout (see checked_timeout).
  template <class Rep, class Period>
  static Deadline after(std::chrono::duration<Rep, Period> timeout) {
    Deadline d;
    d.when_ = Clock::now() + checked_timeout(timeout);
    d.finite_ = true;
    return d;
  }

  // For the Lockable try_lock_until: a time point on any clock.
  template <class C, class Dur>
  static Deadline at(std::chrono::time_point<C, Dur> when) {
    auto left = when - C::now();
    return after(left < decltype(left)::zero() ? decltype(left)::zero() : left);
  }

  bool is_never() const noexcept { return !finite_; }
  bool expired() const noexcept { return finite_ && Clock::now() >= when_; }
  Clock::time_point when() const noexcept { return when_; }
  // Time left, zero once expired; meaningless for never().
  Clock::duration remaining() const noexcept {
    auto left = when_ - Clock::now();
    return left < Clock::duration::zero() ? Clock::duration::zero() : left;
  }

 private:
  constexpr Deadline() = default;
  Clock::time_point when_{};
  bool finite_ = false;
};

}  // namespace concur::detail
