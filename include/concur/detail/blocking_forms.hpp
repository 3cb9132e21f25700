// concur/detail/blocking_forms.hpp — the blocking forms that threading.hpp's
// conventions promise, written once for threading's and multiprocessing's
// classes. A class defines the calls that differ (acquire(bool), release(),
// and the one that takes a sys::Deadline) and inherits the rest from a
// mixin here. The mixins are CRTP bases, so every form inlines into the
// class's own calls as if the class had written it.
#pragma once

#include <chrono>
#include "concur/detail/call_site.hpp"

#include "concur/annotations.hpp"
#include "concur/detail/sys/deadline.hpp"

namespace concur::detail {

// lock(), unlock() and try_lock() (the Lockable requirements, for
// std::scoped_lock and friends) over Derived's acquire(), acquire(bool) and
// release().
//
// The bodies go through Derived, which the thread-safety analysis cannot
// equate with this base, so it does not look inside them; their callers
// see the annotations on the object itself, base or not.
template <class Derived>
class CONCUR_CAPABILITY("mutex") LockableForms {
 public:
  // `where` names the caller to the deadlock detector (through a standard
  // guard, that is the guard's header).
  void lock(
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_ACQUIRE() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if constexpr (requires(Derived & d) { d.acquire(where); }) {
      self().acquire(where);
    } else {
      self().acquire();
    }
  }
  void unlock() CONCUR_RELEASE() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    self().release();
  }
  [[nodiscard]] bool try_lock(
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if constexpr (requires(Derived & d) { d.acquire(false, where); }) {
      return self().acquire(false, where);
    } else {
      return self().acquire(false);
    }
  }

 protected:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

// A lock's acquire() and acquire(timeout), and the TimedLockable members,
// over Derived's acquire_until(const sys::Deadline&), which blocks until the
// lock is taken or the deadline passes and returns whether it was taken
// (or acquire_until(deadline, where), for a lock the deadlock detector
// watches). Derived declares `using LockForms::acquire;`, so that its own
// acquire(bool) does not hide these, and befriends LockForms when its
// acquire_until is private.
template <class Derived>
class CONCUR_CAPABILITY("mutex") LockForms : public LockableForms<Derived> {
 public:
  // Blocks until the lock is acquired; returns true, as Python does.
  bool acquire(
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_ACQUIRE() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    // A constant, not a temporary: a temporary's address reaches the slow
    // path, so the compiler writes it out on every call, fast path too.
    static constexpr sys::Deadline kNever = sys::Deadline::never();
    static_cast<void>(until(kNever, where));
    return true;
  }
  // Waits at most `timeout` (ValueError if negative); returns whether the
  // lock was taken.
  template <class Rep, class Period>
  [[nodiscard]] bool acquire(
      std::chrono::duration<Rep, Period> timeout,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    return until(sys::Deadline::after(timeout), where);
  }

  // The Lockable requirements read a negative timeout as "now".
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(
      std::chrono::duration<Rep, Period> timeout,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    return acquire(timeout < timeout.zero() ? timeout.zero() : timeout, where);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(
      std::chrono::time_point<Clock, Duration> when,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    return until(sys::Deadline::at(when), where);
  }

 private:
  bool until(const sys::Deadline& deadline,
             concur::detail::CallSite where) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if constexpr (requires(Derived & d) { d.acquire_until(deadline, where); }) {
      return this->self().acquire_until(deadline, where);
    } else {
      return this->self().acquire_until(deadline);
    }
  }
};

// wait() and wait(timeout) over Derived's wait_until(const sys::Deadline&),
// which returns whether the wait ended before the deadline. Derived
// befriends WaitForms when its wait_until is private.
template <class Derived>
class WaitForms {
 public:
  // Blocks until the wait ends; returns true.
  bool wait() { return self().wait_until(sys::Deadline::never()); }
  // Blocks at most `timeout` (ValueError if negative); false if it ran out.
  template <class Rep, class Period>
  [[nodiscard]] bool wait(std::chrono::duration<Rep, Period> timeout) {
    return self().wait_until(sys::Deadline::after(timeout));
  }

 protected:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

// A Condition's waits: WaitForms' and wait_for(predicate) and
// wait_for(predicate, timeout), over the same wait_until.
template <class Derived>
class ConditionWaitForms : public WaitForms<Derived> {
 public:
  // Waits until predicate() is true; returns its last value (true).
  template <class Predicate>
  bool wait_for(Predicate predicate) {
    return wait_for_until(predicate, sys::Deadline::never());
  }
  // As above, for at most `timeout`: returns the predicate's last value.
  template <class Predicate, class Rep, class Period>
  [[nodiscard]] bool wait_for(Predicate predicate,
                              std::chrono::duration<Rep, Period> timeout) {
    return wait_for_until(predicate, sys::Deadline::after(timeout));
  }

 private:
  template <class Predicate>
  bool wait_for_until(Predicate& predicate, const sys::Deadline& deadline) {
    bool result = static_cast<bool>(predicate());
    while (!result) {
      if (deadline.expired()) break;
      static_cast<void>(this->self().wait_until(deadline));
      result = static_cast<bool>(predicate());
    }
    return result;
  }
};

}  // namespace concur::detail
