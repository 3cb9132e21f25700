// concur/detail/mp_synchronize.hpp — multiprocessing's Lock, RLock,
// Semaphore, BoundedSemaphore, Event, Condition and Barrier. Part of
// <concur/multiprocessing.hpp>, which includes it: include that.
//
// Each class has threading's semantics and spellings (threading.hpp): the
// three blocking forms, bool on timeout, the Lockable requirements for the
// locks, Condition, and the semaphores, ValueError for a negative timeout.
// What differs is where the state lives: in memory shared between
// processes, so a handle made before fork() works in every child forked
// after it, as a Python synchronization object passed to a Process does.
//
// Handles: every class here is a handle. Copies (in one process, or the
// copy a forked child inherits) refer to the same object, and the object
// lives as long as any process holds a handle. Creating one maps a small
// anonymous shared memory segment (a memfd: one descriptor and one page,
// and a few microseconds, per object; a Value and its lock, a Condition
// and its default RLock, a Barrier and its lock and condition share one);
// nothing is left in /dev/shm when the processes end. The descriptor is
// what travels to a child of the forkserver (mp_context.hpp).
//
// Thread safety: every member of every class may be called concurrently
// from any thread of any process that holds a handle. Blocked callers
// sleep on futexes in the shared memory (process-shared futexes), after a
// short spin; nothing here polls.
//
// Memory ordering, across processes as between threads: everything a
// thread did before it released a Lock or RLock, released a Semaphore, set
// an Event, notified a Condition or arrived at a Barrier is visible to the
// thread (in any process) whose acquire or wait returns because of it.
//
// Death of a holder: Lock and RLock are robust (pthread robust, process-
// shared mutexes). If the thread that holds one ends, or its process is
// killed, while holding it, the next acquire(...) in any process throws
// OwnerDiedError, which names the holder's pid, and leaves the lock free:
// the data it guarded may be half-changed, so the catcher should repair
// or discard it, then acquire again (which succeeds). A Condition whose
// waiter was killed while waiting skips it: notify(n) still wakes n live
// waiters. A Semaphore does not know its holders: units held by a process
// that dies are lost, as in Python. A Barrier party that dies in wait()
// leaves the others waiting until their timeout (or an abort()), as in
// Python; a party that dies holding the Barrier's internal lock breaks the
// barrier (BrokenBarrierError) instead of leaving it unusable.
//
// Differences from Python:
//   * The kernel tracks a robust mutex by the thread that holds it, so a
//     Lock is owned: release() from a thread that does not hold it throws
//     RuntimeError (Python's multiprocessing.Lock, a semaphore, lets any
//     thread or process release it; threading.Lock does too). Releasing a
//     Lock nobody holds throws ValueError ("semaphore or lock released too
//     many times"), as Python does.
//   * RLock.release() by a thread that does not own it throws RuntimeError
//     ("cannot release un-acquired lock"), where Python raises
//     AssertionError.
//   * A Condition holds at most kMaxWaiters (1024) waiting threads at once,
//     across all processes (its waiter table is fixed in its shared
//     memory); one more throws RuntimeError. A Barrier therefore takes at
//     most 1025 parties. Condition's notify(n) wakes the n oldest waiters
//     (Python's multiprocessing Condition wakes any n), and, as threading's
//     Condition, a waiter whose timeout expires as it is notified returns
//     true and keeps the notification.
//   * A child inherits no ownership: a Lock or RLock held by the forking
//     thread at fork() is held by that thread of the parent, not by the
//     child (Python resets an RLock's count in the child likewise).
//   * A Barrier's action runs in the process of the party that arrives
//     last, from that process's copy of the callable.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "concur/annotations.hpp"
#include "concur/detail/blocking_forms.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/errors.hpp"
#include "concur/threading.hpp"

namespace concur::multiprocessing {

// The holder of a Lock or RLock ended while holding it: its process was
// killed or exited, or the holding thread ended. The lock has been made
// consistent and released; the data it guarded may be half-changed. pid()
// is the holder's process id (0 if it died before it could record it).
class OwnerDiedError : public ProcessError {
 public:
  OwnerDiedError(std::string message, pid_t pid)
      : ProcessError(std::move(message)), pid_(pid) {}
  CONCUR_ERROR_TYPE_NAME(OwnerDiedError)
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_;
};

// Python's multiprocessing.BrokenBarrierError is threading's.
using threading::BrokenBarrierError;

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {
struct LockState;
struct SemaphoreState;
struct EventState;
struct ConditionState;
struct BarrierState;
// Builds handles over state placed in one shared block (synchronize.cpp).
struct Access;
}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

class BoundedSemaphore;

// ---------------------------------------------------------------------------
// Lock — Python's multiprocessing.Lock: a non-recursive lock shared between
// processes.
//
// Acquiring a Lock the calling thread holds blocks until its timeout (for
// ever without one), as in Python. Only the holding thread may release it
// (see the header comment); the holder's death makes the next acquire throw
// OwnerDiedError.
class CONCUR_CAPABILITY("mutex") Lock : public detail::LockForms<Lock> {
 public:
  // A new, unlocked lock. Throws OSError if no shared memory can be had.
  Lock();
  Lock(const Lock&) noexcept = default;
  Lock& operator=(const Lock&) noexcept = default;
  ~Lock() = default;

  // acquire(), acquire(timeout), and the Lockable / TimedLockable members.
  using LockForms::acquire;
  // acquire(false) returns at once: whether the lock was taken.
  [[nodiscard]] bool acquire(bool blocking) CONCUR_TRY_ACQUIRE(true);
  // Releases the lock. RuntimeError if another thread holds it; ValueError
  // if nobody does.
  void release() CONCUR_RELEASE();
  // Whether some thread of some process holds it (a snapshot). A holder
  // that died still counts until the next acquire recovers the lock.
  bool locked() const noexcept;

  // Whether two handles refer to the same lock.
  friend bool operator==(const Lock& a, const Lock& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class detail::LockForms<Lock>;
  friend struct multiprocessing_detail::Access;
  friend struct multiprocessing_detail::Transfer<Lock>;
  friend class Condition;
  explicit Lock(std::shared_ptr<multiprocessing_detail::LockState> s) noexcept
      : state_(std::move(s)) {}
  [[nodiscard]] bool acquire_until(const sys::Deadline& deadline)
      CONCUR_TRY_ACQUIRE(true);
  bool is_owned() const noexcept;

  std::shared_ptr<multiprocessing_detail::LockState> state_;
};

// ---------------------------------------------------------------------------
// RLock — Python's multiprocessing.RLock: a re-entrant lock shared between
// processes. The owning thread may acquire it again; each acquire needs a
// release, and only the owner may release (RuntimeError otherwise).
class CONCUR_CAPABILITY("mutex") RLock : public detail::LockForms<RLock> {
 public:
  RLock();
  RLock(const RLock&) noexcept = default;
  RLock& operator=(const RLock&) noexcept = default;
  ~RLock() = default;

  using LockForms::acquire;
  [[nodiscard]] bool acquire(bool blocking) CONCUR_TRY_ACQUIRE(true);
  // RuntimeError unless the calling thread owns the lock.
  void release() CONCUR_RELEASE();
  bool locked() const noexcept;
  // Whether the calling thread owns it.
  bool is_owned() const noexcept;
  // How many times the calling thread holds it; 0 if it does not.
  std::size_t recursion_count() const noexcept;

  friend bool operator==(const RLock& a, const RLock& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class detail::LockForms<RLock>;
  friend struct multiprocessing_detail::Access;
  friend struct multiprocessing_detail::Transfer<RLock>;
  friend class Condition;
  explicit RLock(std::shared_ptr<multiprocessing_detail::LockState> s) noexcept
      : state_(std::move(s)) {}
  [[nodiscard]] bool acquire_until(const sys::Deadline& deadline)
      CONCUR_TRY_ACQUIRE(true);
  // Condition::wait gives up every level and takes them back.
  std::uint32_t release_all() noexcept;
  void restore(std::uint32_t count);

  std::shared_ptr<multiprocessing_detail::LockState> state_;
};

// ---------------------------------------------------------------------------
// Semaphore — Python's multiprocessing.Semaphore: a counter shared between
// processes that acquire() decrements, blocking while it is zero, and
// release(n) increments (n is threading's extension; Python's
// multiprocessing release takes none).
//
// A negative initial value, or one above 4294967295, throws ValueError, as
// does release(n) with n < 1 or past the maximum ("semaphore or lock
// released too many times"). Not fair, like Python's.
class CONCUR_CAPABILITY("semaphore") Semaphore
    : public detail::LockForms<Semaphore> {
 public:
  explicit Semaphore(std::int64_t value = 1);
  Semaphore(const Semaphore&) noexcept = default;
  Semaphore& operator=(const Semaphore&) noexcept = default;
  ~Semaphore() = default;

  using LockForms::acquire;
  [[nodiscard]] bool acquire(bool blocking) CONCUR_TRY_ACQUIRE(true);
  // Adds n to the counter and wakes up to n waiters.
  void release(std::int64_t n = 1) CONCUR_RELEASE();
  // The counter now (a snapshot), Python's get_value().
  std::uint32_t get_value() const noexcept;

  friend bool operator==(const Semaphore& a, const Semaphore& b) noexcept {
    return a.state_ == b.state_;
  }

 protected:
  Semaphore(std::int64_t value, bool bounded);
  explicit Semaphore(
      std::shared_ptr<multiprocessing_detail::SemaphoreState> s) noexcept
      : state_(std::move(s)) {}

 private:
  friend class detail::LockForms<Semaphore>;
  friend struct multiprocessing_detail::Transfer<Semaphore>;
  friend struct multiprocessing_detail::Transfer<BoundedSemaphore>;
  [[nodiscard]] bool acquire_until(const sys::Deadline& deadline)
      CONCUR_TRY_ACQUIRE(true);

  std::shared_ptr<multiprocessing_detail::SemaphoreState> state_;
};

// BoundedSemaphore — Python's multiprocessing.BoundedSemaphore: release()
// past the initial value throws ValueError ("semaphore or lock released
// too many times").
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value, true) {}

 private:
  friend struct multiprocessing_detail::Transfer<BoundedSemaphore>;
  explicit BoundedSemaphore(
      std::shared_ptr<multiprocessing_detail::SemaphoreState> s) noexcept
      : Semaphore(std::move(s)) {}
};

// ---------------------------------------------------------------------------
// Event — Python's multiprocessing.Event: a flag shared between processes.
// set() wakes every waiter of every process; a waiter woken by set()
// returns true even if clear() follows at once. wait(timeout) returns the
// flag, false on timeout.
class Event : public detail::WaitForms<Event> {
 public:
  Event();
  Event(const Event&) noexcept = default;
  Event& operator=(const Event&) noexcept = default;
  ~Event() = default;

  bool is_set() const noexcept;
  void set() noexcept;
  void clear() noexcept;
  // wait() blocks until the flag is set and returns true; wait(timeout)
  // blocks at most `timeout` and returns whether the flag was set.
  [[nodiscard]] bool wait_until(const sys::Deadline& deadline);

  friend bool operator==(const Event& a, const Event& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend struct multiprocessing_detail::Transfer<Event>;
  explicit Event(std::shared_ptr<multiprocessing_detail::EventState> s) noexcept
      : state_(std::move(s)) {}
  std::shared_ptr<multiprocessing_detail::EventState> state_;
};

// ---------------------------------------------------------------------------
// Condition — Python's multiprocessing.Condition: a condition variable
// shared between processes, over a multiprocessing Lock or RLock (by
// default a new RLock, as Python's).
//
// The Condition is itself a lock (acquire/release act on its lock). wait,
// wait_for and notify need the lock held by the calling thread (checked
// for a Lock too, since a multiprocessing Lock knows its holder); otherwise
// they throw RuntimeError. If the lock's holder died while wait() was
// taking it back, wait() takes it again and then throws OwnerDiedError, so
// the caller holds the lock either way.
class CONCUR_CAPABILITY("mutex") Condition
    : public detail::LockableForms<Condition>,
      public detail::ConditionWaitForms<Condition> {
 public:
  // The most threads that may wait at once, across all processes.
  static constexpr std::size_t kMaxWaiters = 1024;

  Condition();
  explicit Condition(const Lock& lock);
  explicit Condition(const RLock& lock);
  Condition(const Condition&) noexcept = default;
  Condition& operator=(const Condition&) noexcept = default;
  ~Condition() = default;

  bool acquire() CONCUR_ACQUIRE();
  [[nodiscard]] bool acquire(bool blocking) CONCUR_TRY_ACQUIRE(true);
  template <class Rep, class Period>
  [[nodiscard]] bool acquire(std::chrono::duration<Rep, Period> timeout)
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    return rlock_ ? rlock_->acquire(timeout) : lock_->acquire(timeout);
  }
  void release() CONCUR_RELEASE();

  // wait() releases the lock, blocks until notified, re-acquires the lock
  // (every level of an RLock) and returns true; wait(timeout) returns false
  // if it timed out. wait_for(predicate[, timeout]) waits until predicate()
  // is true and returns its last value.
  [[nodiscard]] bool wait_until(const sys::Deadline& deadline);

  // Wakes up to n waiting threads (the oldest first, skipping any whose
  // process has died); none when n <= 0.
  void notify(std::ptrdiff_t n = 1);
  void notify_all();

  friend bool operator==(const Condition& a, const Condition& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend struct multiprocessing_detail::Access;
  friend struct multiprocessing_detail::Transfer<Condition>;
  Condition(std::shared_ptr<multiprocessing_detail::ConditionState> state,
            std::optional<Lock> lock, std::optional<RLock> rlock) noexcept
      : state_(std::move(state)),
        lock_(std::move(lock)),
        rlock_(std::move(rlock)) {}
  bool is_owned() const noexcept;

  std::shared_ptr<multiprocessing_detail::ConditionState> state_;
  // Exactly one is set.
  std::optional<Lock> lock_;
  std::optional<RLock> rlock_;
};

// ---------------------------------------------------------------------------
// Barrier — Python's multiprocessing.Barrier: `parties` threads, in any
// processes, wait until all have arrived, then go on together; the barrier
// then resets itself for the next cycle. Threading's Barrier semantics:
// wait() returns an index distinct for each party of a cycle (parties-1
// for the last, which runs `action` first); a timeout, a throwing action or
// abort() breaks it (BrokenBarrierError for every waiter and every later
// wait() until reset()). parties < 1 throws ValueError, as does a default
// timeout that is negative; more than Condition::kMaxWaiters + 1 parties
// throw ValueError too.
class Barrier {
 public:
  using Duration = std::chrono::steady_clock::duration;

  explicit Barrier(std::ptrdiff_t parties, std::function<void()> action = {},
                   std::optional<Duration> timeout = std::nullopt);
  Barrier(const Barrier&) noexcept = default;
  Barrier& operator=(const Barrier&) noexcept = default;
  ~Barrier() = default;

  // Waits for the other parties, for at most the default timeout if one
  // was given.
  std::size_t wait();
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(sys::Deadline::after(timeout));
  }
  void reset();
  void abort();

  std::size_t parties() const noexcept;
  // Parties waiting in the current cycle.
  std::size_t n_waiting();
  bool broken();

  friend bool operator==(const Barrier& a, const Barrier& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend struct multiprocessing_detail::Transfer<Barrier>;
  struct Guard;
  struct Parts;
  static Parts make(std::ptrdiff_t parties, std::optional<Duration> timeout);
  Barrier(Parts&& parts, std::function<void()> action);
  std::size_t wait_until(const sys::Deadline& deadline);

  std::shared_ptr<multiprocessing_detail::BarrierState> state_;
  Lock lock_;
  Condition cond_;
  std::shared_ptr<const std::function<void()>> action_;
};

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {
// Each travels to a forkserver child as its shared block's descriptor (a
// Barrier with an action cannot: ValueError).
CONCUR_MP_DECLARE_TRANSFER(Lock);
CONCUR_MP_DECLARE_TRANSFER(RLock);
CONCUR_MP_DECLARE_TRANSFER(Semaphore);
CONCUR_MP_DECLARE_TRANSFER(BoundedSemaphore);
CONCUR_MP_DECLARE_TRANSFER(Event);
CONCUR_MP_DECLARE_TRANSFER(Condition);
CONCUR_MP_DECLARE_TRANSFER(Barrier);
}  // namespace concur::multiprocessing_detail
