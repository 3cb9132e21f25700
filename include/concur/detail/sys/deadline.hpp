// Deadline: the one timeout type every blocking call in concur converts to,
// and the one place where user durations and time points are checked and
// turned into what the kernel takes.
//
// A public call takes any std::chrono duration (or, for the Lockable
// try_lock_until, a time point on any clock); it turns it into a Deadline
// once, on entry, so that retries after spurious wake-ups wait only for what
// is left. Every conversion saturates: a timeout of hours::max() or +inf
// means "about two centuries", a time point of time_point::min() means "now",
// and nothing overflows on the way. NaN and negative timeouts are rejected
// here, with Python's messages, which is why every module checks them the
// same way.
#pragma once

#include <time.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <ratio>
#include <type_traits>

#include "concur/errors.hpp"

namespace concur::sys {

// The longest wait concur makes: "for ever, in practice". Far below the
// steady clock's range (about 292 years of nanoseconds past its epoch, which
// is the machine's boot), so that now() + kMaxTimeout never overflows.
inline constexpr std::chrono::hours kMaxTimeout{24 * 365 * 200};

// Checks a user's timeout and converts it to the steady clock's unit:
// throws ValueError if it is NaN or negative (Python's messages), rounds up
// (a wait never ends before its timeout) and saturates at kMaxTimeout.
template <class Rep, class Period>
std::chrono::steady_clock::duration checked_timeout(
    std::chrono::duration<Rep, Period> timeout) {
  using Steady = std::chrono::steady_clock::duration;
  if constexpr (std::is_floating_point_v<Rep>) {
    if (std::isnan(timeout.count())) {
      throw ValueError("Invalid value NaN (not a number)");
    }
  }
  if (timeout < std::chrono::duration<Rep, Period>::zero()) {
    throw ValueError("timeout value must be a non-negative duration");
  }
  // Compared in floating point, which holds any duration's value without
  // overflow, before converting in the duration's own type.
  using Hours = std::chrono::duration<double, std::ratio<3600>>;
  if (std::chrono::duration_cast<Hours>(timeout) >= Hours(kMaxTimeout)) {
    return std::chrono::duration_cast<Steady>(kMaxTimeout);
  }
  // Below the cap the result fits, but chrono converts an integer count by
  // multiplying first (count * num / den), which overflows for periods
  // with a denominator (thirds of a second, 1/1024 s): those go through
  // long double, whose 64-bit mantissa holds any such count exactly.
  using Factor = std::ratio_divide<Period, Steady::period>;
  if constexpr (std::is_integral_v<Rep> && Factor::den != 1) {
    const long double ticks =
        static_cast<long double>(timeout.count()) * Factor::num / Factor::den;
    return Steady(static_cast<Steady::rep>(std::ceil(ticks)));
  } else {
    return std::chrono::ceil<Steady>(timeout);
  }
}

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  static constexpr Deadline never() noexcept { return Deadline{}; }

  // Now plus a timeout; throws ValueError for NaN or negative ones (see
  // checked_timeout).
  template <class Rep, class Period>
  static Deadline after(std::chrono::duration<Rep, Period> timeout) {
    Deadline d;
    d.when_ = Clock::now() + checked_timeout(timeout);
    d.finite_ = true;
    return d;
  }

  // A time point on any clock, as the Lockable try_lock_until takes. One in
  // the past means "now"; one too far ahead, "in kMaxTimeout". Throws
  // ValueError for NaN.
  template <class C, class Dur>
  static Deadline at(std::chrono::time_point<C, Dur> when) {
    // Compared first in floating-point seconds, which hold the extremes of
    // every clock (time_point::min(), ::max()) without overflow; only a
    // point within kMaxTimeout of now is subtracted in its own type, and
    // that difference fits.
    using Seconds = std::chrono::duration<double>;
    const double target =
        std::chrono::duration_cast<Seconds>(when.time_since_epoch()).count();
    const auto now = C::now();
    const double from =
        std::chrono::duration_cast<Seconds>(now.time_since_epoch()).count();
    if (std::isnan(target)) {
      throw ValueError("Invalid value NaN (not a number)");
    }
    if (!(target > from)) return after(Seconds::zero());
    if (target - from >= Seconds(kMaxTimeout).count()) {
      return after(kMaxTimeout);
    }
    return after(when - now);
  }

  bool is_never() const noexcept { return !finite_; }
  // Whether this deadline comes after `other`; never() comes after all.
  bool later_than(const Deadline& other) const noexcept {
    return other.finite_ && (!finite_ || when_ > other.when_);
  }
  bool expired() const noexcept { return finite_ && Clock::now() >= when_; }
  // Time left, zero once expired; meaningless for never().
  Clock::duration remaining() const noexcept {
    auto left = when_ - Clock::now();
    return left < Clock::duration::zero() ? Clock::duration::zero() : left;
  }

  // The deadline as an absolute CLOCK_MONOTONIC time (what steady_clock
  // reads on Linux), for futex and ppoll-style calls: absolute means no
  // drift over retries. Meaningless for never().
  timespec absolute_timespec() const noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        when_.time_since_epoch())
                        .count();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return ts;
  }
  // The time left in whole milliseconds, rounded up, for poll and
  // epoll_wait: -1 (no limit) for never(), at most INT_MAX.
  int poll_timeout_ms() const noexcept {
    if (!finite_) return -1;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining());
    constexpr auto kMax = std::numeric_limits<int>::max();
    return ms.count() >= kMax ? kMax : static_cast<int>(ms.count());
  }

 private:
  constexpr Deadline() = default;
  Clock::time_point when_{};
  bool finite_ = false;
};

}  // namespace concur::sys
