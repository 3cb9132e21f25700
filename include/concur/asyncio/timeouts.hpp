// concur/asyncio/timeouts.hpp — timeout scopes and wait_for (Python's
// asyncio.timeouts and asyncio.wait_for).
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "concur/asyncio/events.hpp"
#include "concur/asyncio/tasks.hpp"

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// Timeout — Python's asyncio.Timeout: a deadline over a piece of a task.
//
// `co_await asyncio::timeout(1s).run(body())` runs body() in the current
// task; when the deadline passes, the task is cancelled, and once the
// CancelledError has come out of body() the scope turns it into
// TimeoutError (its nested exception is the CancelledError). A cancel from
// outside the scope is never swallowed: the scope counts the task's cancel
// requests (cancelling()) when it starts and only claims its own. The body
// may move the deadline with reschedule() (it holds the scope by
// reference), or remove it with reschedule(nullopt).
//
// C++ has no `async with`; run(body) is its spelling, and a scope runs
// once (RuntimeError otherwise). Belongs to the loop's thread.
class Timeout {
 public:
  using Clock = std::chrono::steady_clock;
  // A deadline on the steady clock, or none.
  explicit Timeout(std::optional<Clock::time_point> when) noexcept
      : when_(when) {}
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout() { handle_.cancel(); }

  std::optional<Clock::time_point> when() const noexcept { return when_; }
  // Moves the deadline (nullopt: none). RuntimeError unless the scope is
  // running, and not yet expiring.
  void reschedule(std::optional<Clock::time_point> when);
  // Whether the deadline passed and cancelled the body.
  bool expired() const noexcept {
    return state_ == State::kExpiring || state_ == State::kExpired;
  }

  template <class T>
  Task<T> run(Task<T> body) {
    enter();
    std::exception_ptr error;
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(body);
      } else {
        T value = co_await std::move(body);
        leave(nullptr);
        co_return value;
      }
    } catch (...) {
      error = std::current_exception();
    }
    leave(error);
    // Here the body failed: a value was returned above.
    if constexpr (std::is_void_v<T>) {
      if (error) std::rethrow_exception(error);
    } else {
      std::rethrow_exception(error);
    }
  }

 private:
  enum class State { kCreated, kEntered, kExpiring, kExpired, kExited };
  void enter();
  // Ends the scope: throws TimeoutError in place of the scope's own
  // CancelledError; otherwise returns, and the caller rethrows `error`.
  void leave(const std::exception_ptr& error);
  void arm();
  void on_timeout();

  std::optional<Clock::time_point> when_;
  State state_ = State::kCreated;
  asyncio_detail::TaskCore* task_ = nullptr;
  int cancelling_ = 0;
  Handle handle_;
};

// A scope whose deadline is `delay` from now (Python's timeout(delay)).
// ValueError for NaN or negative delays.
template <class Rep, class Period>
Timeout timeout(std::chrono::duration<Rep, Period> delay) {
  return Timeout(Timeout::Clock::now() + sys::checked_timeout(delay));
}
// No deadline, until rescheduled (Python's timeout(None)).
inline Timeout timeout(std::nullopt_t /*unused*/) {
  return Timeout(std::nullopt);
}
// A scope ending at `when` on the loop's clock (Python's timeout_at).
inline Timeout timeout_at(double when) {
  return Timeout(EventLoop::time_point_of(when));
}

// Awaits `task` for at most `timeout` (Python's wait_for): when the time
// is up, cancels it, waits for the cancellation to finish, and raises
// TimeoutError (whose nested exception is the CancelledError), unless the
// task's own cleanup raised something else, which comes out instead. A
// timeout of zero or less cancels the task before it starts.
template <class T, class Rep, class Period>
Task<T> wait_for(Task<T> task, std::chrono::duration<Rep, Period> timeout) {
  if (timeout <= timeout.zero()) {
    Task<T> scheduled = ensure_future(std::move(task));
    if (!scheduled.done()) {
      scheduled.cancel();
      co_await asyncio_detail::CoreAwaiter(*scheduled.core(), true);
      if (scheduled.cancelled()) {
        throw TimeoutError("wait_for: the timeout is not positive");
      }
    }
    if constexpr (std::is_void_v<T>) {
      scheduled.result();
      co_return;
    } else {
      co_return T(scheduled.result());
    }
  }
  if constexpr (std::is_void_v<T>) {
    co_await asyncio::timeout(timeout).run(std::move(task));
  } else {
    T value = co_await asyncio::timeout(timeout).run(std::move(task));
    co_return value;
  }
}

}  // namespace concur::asyncio
