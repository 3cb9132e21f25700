// concur/threading.hpp — Python's `threading` module for C++20.
//
// Threads, locks, conditions, semaphores, events, barriers, timers and
// thread-local values, with the behaviour Python documents for each: the
// same blocking rules, the same return values on timeout, the same errors on
// misuse (as typed exceptions derived from concur::Error). Unlike Python
// there is no global interpreter lock: threads run in parallel on all cores.
//
// Conventions shared by every class here:
//   * Blocking calls come in three forms: blocking (`acquire()`), with a
//     timeout (`acquire(50ms)`, any std::chrono duration) and non-blocking
//     (`acquire(false)`). Where Python returns a bool on timeout, so does
//     concur. A negative timeout throws ValueError.
//   * Memory ordering: everything a thread did before it releases a lock,
//     sets an Event, releases a Semaphore, notifies a Condition or arrives
//     at a Barrier is visible to the thread whose acquire/wait returns
//     because of it. Thread::start() happens-before the thread's target
//     runs, and the target's end happens-before join() returns.
//   * Lock, RLock, Condition and Semaphore model the standard Lockable
//     requirements (lock/unlock/try_lock, and try_lock_for/try_lock_until),
//     so std::scoped_lock, std::unique_lock and std::lock_guard work; that
//     is C++'s `with lock:`.
//   * Blocked threads sleep on a futex after a short bounded spin; no call
//     here busy-waits while blocked.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>
#include "concur/detail/call_site.hpp"

#include "concur/annotations.hpp"
#include "concur/detail/blocking_forms.hpp"
#include "concur/detail/deadlock_hooks.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/errors.hpp"

namespace concur::threading {

// Raised by Barrier::wait when the barrier is broken or reset while a thread
// waits, or is broken already when a thread arrives. As in Python, it is a
// RuntimeError.
CONCUR_DEFINE_ERROR(BrokenBarrierError, RuntimeError);

}  // namespace concur::threading

namespace concur::threading_detail {

// A number that names the calling thread and is never reused by another
// thread in this process (unlike pthread_t or a kernel tid). 0 means none.
std::uint64_t next_thread_key() noexcept;
inline std::uint64_t this_thread_key() noexcept {
  // Constant-initialised so that the hot path is one TLS load and a test.
  thread_local std::uint64_t key = 0;
  if (key == 0) key = next_thread_key();
  return key;
}

// The lock word of Lock and RLock: mutual exclusion and nothing else (no
// owner, no detector). Every member may be called from any thread.
//
// The state word is the futex word:
//   kUnlocked  nobody holds the lock;
//   kLocked    held, and no thread is parked on the futex;
//   kContended held, and threads may be parked: release must wake one.
// Any thread moves kUnlocked -> kLocked (fast path) or -> kContended (a
// waiter that found the lock free after parking keeps the flag, since it
// cannot know whether others still sleep). Release moves anything -> 0.
class LockWord {
 public:
  bool try_take() noexcept {
    std::uint32_t expected = kUnlocked;
    // Acquire: pairs with the release in give(), so the previous holder's
    // writes are visible inside our critical section.
    return state_.compare_exchange_strong(expected, kLocked,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }
  // After try_take() failed: spins briefly, then sleeps until the lock is
  // taken or the deadline passes, telling the detector (through `tracker`)
  // before it sleeps. Returns whether the lock was taken.
  // `may_raise`: whether the detector may throw DeadlockError here.
  bool take_slow(const sys::Deadline& deadline,
                 deadlock_detail::LockTracker& tracker,
                 concur::detail::CallSite where, bool may_raise = true);
  // Throws RuntimeError if the lock was not locked.
  void give() {
    // Release: publishes the critical section to the next taker, whose
    // acquire-CAS or acquire-exchange reads this store.
    const std::uint32_t previous =
        state_.exchange(kUnlocked, std::memory_order_release);
    if (previous != kLocked) give_slow(previous);
  }
  bool locked() const noexcept {
    return state_.load(std::memory_order_relaxed) != kUnlocked;
  }

 private:
  static constexpr std::uint32_t kUnlocked = 0;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kContended = 2;

  void give_slow(std::uint32_t previous);

  std::atomic<std::uint32_t> state_{kUnlocked};
};

}  // namespace concur::threading_detail

namespace concur::threading {

// ---------------------------------------------------------------------------
// Lock — Python's threading.Lock: a non-recursive mutual-exclusion lock.
//
// Thread safety: every member may be called concurrently from any thread.
// As in Python, a Lock is not owned by the thread that acquired it: any
// thread may release it. Releasing a Lock that is not locked throws
// RuntimeError. Acquiring a Lock the calling thread already holds blocks
// forever (or until its timeout), as in Python; use RLock to re-enter.
//
// The deadlock detector (concur/deadlock.hpp) watches it; a name given at
// construction names it in the detector's reports, which otherwise give
// the place it was constructed.
//
// Performance: the uncontended acquire/release pair is one compare-exchange
// and one exchange, inlined, and the detector's test of its mode. A
// contended acquire looks a few times with growing pauses (a few
// microseconds in all, and not at all once others sleep), then parks on a
// futex. The lock is not fair: a running thread may take it ahead of a
// parked one, which is what makes it fast under contention.
class CONCUR_CAPABILITY("mutex") Lock : public detail::LockForms<Lock> {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): Lock() is its common form.
  constexpr Lock(concur::detail::CallSite site =
                     concur::detail::CallSite::current()) noexcept
      : tracker_(nullptr, site) {}
  // `name` must outlive the lock (a string literal, typically).
  constexpr explicit Lock(const char* name,
                          concur::detail::CallSite site =
                              concur::detail::CallSite::current()) noexcept
      : tracker_(name, site) {}
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock() {
    if (deadlock_detail::active() && word_.locked()) destroyed_held();
  }

  // acquire(), acquire(timeout), and the Lockable / TimedLockable members.
  using LockForms::acquire;
  // acquire(false) returns at once: true if the lock was taken.
  [[nodiscard]] bool acquire(
      bool blocking,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) {
    if (word_.try_take()) {
      if (deadlock_detail::active()) tracker_.acquired(where, false);
      return true;
    }
    return blocking && acquire_slow(sys::Deadline::never(), where);
  }
  // Releases the lock; any thread may. Throws RuntimeError if unlocked.
  void release() CONCUR_RELEASE() {
    if (deadlock_detail::active()) tracker_.releasing();
    word_.give();
  }
  // Whether some thread holds the lock (a snapshot; it may change at once).
  bool locked() const noexcept { return word_.locked(); }

 private:
  friend class detail::LockForms<Lock>;

  bool acquire_until(const sys::Deadline& deadline,
                     concur::detail::CallSite where) CONCUR_TRY_ACQUIRE(true) {
    if (word_.try_take()) {
      if (deadlock_detail::active()) tracker_.acquired(where, true);
      return true;
    }
    return acquire_slow(deadline, where);
  }
  bool acquire_slow(const sys::Deadline& deadline,
                    concur::detail::CallSite where);
  // Condition::wait takes the lock back with this: it never raises.
  void reacquire(concur::detail::CallSite where);
  void destroyed_held() noexcept;

  friend class Condition;

  threading_detail::LockWord word_;
  [[no_unique_address]] deadlock_detail::LockTracker tracker_;
};

// ---------------------------------------------------------------------------
// RLock — Python's threading.RLock: a re-entrant lock with an owner.
//
// The thread that acquires it owns it and may acquire it again; each acquire
// must be matched by a release, and the lock is free when the count returns
// to zero. Only the owner may release it: release from any other thread
// throws RuntimeError ("cannot release un-acquired lock"), as in Python.
// The deadlock detector sees its first acquisition and its last release;
// re-entry orders nothing.
//
// Thread safety: every member may be called concurrently from any thread.
class CONCUR_CAPABILITY("mutex") RLock : public detail::LockableForms<RLock> {
 public:
  // NOLINTNEXTLINE(google-explicit-constructor): RLock() is its common form.
  constexpr RLock(concur::detail::CallSite site =
                      concur::detail::CallSite::current()) noexcept
      : tracker_(nullptr, site) {}
  constexpr explicit RLock(const char* name,
                           concur::detail::CallSite site =
                               concur::detail::CallSite::current()) noexcept
      : tracker_(name, site) {}
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;
  ~RLock() {
    if (deadlock_detail::active() && word_.locked()) destroyed_held();
  }

  bool acquire(concur::detail::CallSite where =
                   concur::detail::CallSite::current()) CONCUR_ACQUIRE() {
    static_cast<void>(acquire_until(sys::Deadline::never(), where));
    return true;
  }
  [[nodiscard]] bool acquire(
      bool blocking,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) {
    if (reenter()) return true;
    if (word_.try_take()) {
      take_ownership(1, where, false);
      return true;
    }
    return blocking && acquire_slow(sys::Deadline::never(), where);
  }
  template <class Rep, class Period>
  [[nodiscard]] bool acquire(
      std::chrono::duration<Rep, Period> timeout,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) {
    return acquire_until(sys::Deadline::after(timeout), where);
  }
  // Throws RuntimeError unless the calling thread owns the lock.
  void release() CONCUR_RELEASE();

  // Whether any thread holds the lock.
  bool locked() const noexcept { return word_.locked(); }
  // Whether the calling thread holds the lock (Python's _is_owned()).
  bool is_owned() const noexcept {
    // Relaxed: only the calling thread ever stores its own key here, so it
    // reads back its own store or some other thread's key, never a false
    // match, whatever the ordering.
    return owner_.load(std::memory_order_relaxed) ==
           threading_detail::this_thread_key();
  }
  // How many times the calling thread holds the lock; 0 if it does not.
  std::size_t recursion_count() const noexcept {
    return is_owned() ? count_ : 0;
  }

  // TimedLockable (LockableForms gives lock, unlock and try_lock). Not
  // LockForms: RLock's acquire_until is only the slow path of these.
  template <class Rep, class Period>
  [[nodiscard]] bool try_lock_for(
      std::chrono::duration<Rep, Period> timeout,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) {
    return acquire(timeout < timeout.zero() ? timeout.zero() : timeout, where);
  }
  template <class Clock, class Duration>
  [[nodiscard]] bool try_lock_until(
      std::chrono::time_point<Clock, Duration> when,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) {
    return acquire_until(sys::Deadline::at(when), where);
  }

 private:
  friend class Condition;

  bool reenter() noexcept {
    if (!is_owned()) return false;
    ++count_;
    return true;
  }
  bool acquire_until(const sys::Deadline& deadline,
                     concur::detail::CallSite where) CONCUR_TRY_ACQUIRE(true) {
    if (reenter()) return true;
    if (word_.try_take()) {
      take_ownership(1, where, true);
      return true;
    }
    return acquire_slow(deadline, where);
  }
  void take_ownership(std::size_t count, concur::detail::CallSite where,
                      bool ordered) {
    owner_.store(threading_detail::this_thread_key(),
                 std::memory_order_relaxed);
    count_ = count;
    if (deadlock_detail::active()) tracker_.acquired(where, ordered);
  }
  bool acquire_slow(const sys::Deadline& deadline,
                    concur::detail::CallSite where);
  void destroyed_held() noexcept;
  // Condition::wait gives up every level of ownership and takes it back.
  std::size_t release_all() noexcept;
  void restore(std::size_t count, concur::detail::CallSite where);

  threading_detail::LockWord word_;
  [[no_unique_address]] deadlock_detail::LockTracker tracker_;
  // Key of the owning thread, 0 when free (see is_owned for the ordering).
  std::atomic<std::uint64_t> owner_{0};
  // Recursion depth; read and written only by the owner, and handed from
  // owner to owner through word_'s acquire/release.
  std::size_t count_ = 0;
};

// ---------------------------------------------------------------------------
// Condition — Python's threading.Condition: a condition variable bound to a
// lock (a Lock or an RLock; by default an RLock it owns).
//
// The Condition is itself a lock: acquire/release (and lock/unlock) act on
// the underlying lock. wait, wait_for and notify must be called with the
// lock held; otherwise they throw RuntimeError, as in Python. For a plain
// Lock, "held" can only be checked as "locked by some thread" (Python has
// the same limit), so a notify from a thread that does not hold a Lock that
// another thread holds goes undetected and is a data race.
//
// notify(n) wakes the n threads that have waited longest (FIFO), as in
// Python. Differences from Python: a waiter whose timeout expires at the
// moment it is notified returns true and keeps the notification (Python
// returns False and the notification is lost); spurious wake-ups never
// reach the caller.
//
// Thread safety: every member may be called concurrently, under the rules
// above.
class CONCUR_CAPABILITY("mutex") Condition
    : public detail::LockableForms<Condition>,
      public detail::ConditionWaitForms<Condition> {
 public:
  // Over a new RLock owned by this Condition.
  Condition();
  explicit Condition(Lock& lock) noexcept;
  explicit Condition(RLock& lock) noexcept;
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;
  ~Condition();

  bool acquire(concur::detail::CallSite where =
                   concur::detail::CallSite::current()) CONCUR_ACQUIRE();
  [[nodiscard]] bool acquire(
      bool blocking,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true);
  template <class Rep, class Period>
  [[nodiscard]] bool acquire(
      std::chrono::duration<Rep, Period> timeout,
      concur::detail::CallSite where = concur::detail::CallSite::current())
      CONCUR_TRY_ACQUIRE(true) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    return rlock_ != nullptr ? rlock_->acquire(timeout, where)
                             : lock_->acquire(timeout, where);
  }
  void release() CONCUR_RELEASE();

  // wait() releases the lock, blocks until notified, re-acquires the lock
  // (every recursion level of an RLock) and returns true; wait(timeout)
  // returns false if it timed out. wait_for(predicate[, timeout]) waits
  // until predicate() is true and returns its last value.

  // Wakes up to n waiting threads (those that have waited longest); none
  // when n <= 0, as in Python. Throws RuntimeError if the lock is not held.
  void notify(std::ptrdiff_t n = 1);
  void notify_all();

 private:
  friend class detail::WaitForms<Condition>;
  friend class detail::ConditionWaitForms<Condition>;
  struct Waiter;

  bool wait_until(const sys::Deadline& deadline);
  bool is_owned() const noexcept;
  void unlink(Waiter* waiter) noexcept;

  // Exactly one of these is set; own_ backs rlock_ for the default form.
  std::unique_ptr<RLock> own_;
  RLock* rlock_ = nullptr;
  Lock* lock_ = nullptr;
  // Waiters in arrival order, linked through nodes on their own stacks.
  // Guarded by the Condition's lock: wait links and notify unlinks while
  // holding it, and a timed-out waiter unlinks itself after re-acquiring it.
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

// ---------------------------------------------------------------------------
// Semaphore — Python's threading.Semaphore: a counter that acquire()
// decrements, blocking while it is zero, and release(n) increments.
//
// A negative initial value throws ValueError, as does release(n) with n < 1.
// Difference from Python: the counter is 32-bit; a release that would take it
// past 4294967295 throws ValueError instead of growing without bound.
//
// Thread safety: every member may be called concurrently from any thread.
// Like Python's, it is not fair: a released unit may go to a thread that
// arrived after a sleeping one.
class CONCUR_CAPABILITY("semaphore") Semaphore
    : public detail::LockForms<Semaphore> {
 public:
  explicit Semaphore(std::int64_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  using LockForms::acquire;
  [[nodiscard]] bool acquire(bool blocking) CONCUR_TRY_ACQUIRE(true) {
    if (try_take()) return true;
    return blocking && acquire_slow(sys::Deadline::never());
  }
  // Adds n to the counter and wakes up to n waiters.
  virtual void release(std::int64_t n = 1) CONCUR_RELEASE();
  // The current counter (a snapshot), like Python's _value.
  std::uint32_t value() const noexcept {
    return sys::CountedFutex::word_of(
        state_.value().load(std::memory_order_relaxed));
  }

 protected:
  static std::uint32_t checked_count(std::int64_t n, const char* what);
  // Adds n unless that would pass `bound` (then throws ValueError with the
  // message `overflow`), and wakes up to n sleepers.
  void add(std::int64_t n, std::uint32_t bound, const char* overflow);

  // The counter (the futex word, which waiters sleep on while it is 0)
  // and the number of sleepers, so that release learns in its own atomic
  // step whether to make the wake-up system call, and a woken acquirer may
  // destroy the semaphore at once.
  sys::CountedFutex state_;

 private:
  friend class detail::LockForms<Semaphore>;

  bool try_take() noexcept {
    auto& v = state_.value();
    std::uint64_t cur = v.load(std::memory_order_relaxed);
    // Acquire: pairs with the release in add(), so what the releaser did
    // before release() is visible to the acquirer. The counter is non-zero,
    // so the decrement leaves the sleeper half alone.
    while (sys::CountedFutex::word_of(cur) != 0) {
      if (v.compare_exchange_weak(cur, cur - 1, std::memory_order_acquire,
                                  std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  bool acquire_until(const sys::Deadline& deadline) CONCUR_TRY_ACQUIRE(true) {
    return try_take() || acquire_slow(deadline);
  }
  bool acquire_slow(const sys::Deadline& deadline);
};

// BoundedSemaphore — Python's threading.BoundedSemaphore: a Semaphore whose
// release throws ValueError if it would raise the counter above its initial
// value, which catches releases without a matching acquire.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1);
  void release(std::int64_t n = 1) override CONCUR_RELEASE();

 private:
  std::uint32_t bound_;
};

// ---------------------------------------------------------------------------
// Event — Python's threading.Event: a flag that threads wait to be set.
//
// set() wakes every waiter; a waiter woken by set() returns true even if
// clear() follows at once (as in Python). wait(timeout) returns the flag,
// i.e. false on timeout.
//
// Thread safety: every member may be called concurrently from any thread.
class Event : public detail::WaitForms<Event> {
 public:
  Event() noexcept = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept {
    // Acquire: a thread that sees the flag set also sees what the setter
    // did before set().
    return (state_.value().load(std::memory_order_acquire) & kSetBit) != 0;
  }
  void set();
  void clear() noexcept;
  // wait() blocks until the flag is set and returns true; wait(timeout)
  // blocks at most `timeout` and returns whether the flag was set. The
  // library's own waits, which already hold a deadline, call this:
  [[nodiscard]] bool wait_until(const sys::Deadline& deadline);

 private:
  // The futex word: bit 0 is the flag; bits 1..31 count the times the flag
  // went from clear to set (mod 2^31). A waiter that saw a clear flag and
  // later sees another count knows a set() happened in between, even if a
  // clear() hid it again. With it, the number of sleepers (see
  // CountedFutex: set() learns in its own atomic step whether to wake, and
  // a woken waiter may destroy the Event at once).
  static constexpr std::uint64_t kSetBit = 1;
  sys::CountedFutex state_;
};

// ---------------------------------------------------------------------------
// Barrier — Python's threading.Barrier: `parties` threads wait until all of
// them have arrived, then all go on together; the barrier then resets
// itself for the next cycle.
//
// wait() returns an index distinct for each thread of a cycle, from 0 (the
// first to arrive) to parties-1 (the last, which also runs `action` before
// the others are released). If the action throws, or a wait times out, or
// abort() is called, the barrier is broken: every waiter, and every later
// wait() until reset(), throws BrokenBarrierError. reset() breaks the
// current cycle for its waiters and returns the barrier to its initial
// state. A zero-party barrier throws ValueError.
//
// Thread safety: every member may be called concurrently from any thread.
class Barrier {
 public:
  using Duration = std::chrono::steady_clock::duration;

  // parties must be at least 1 (ValueError otherwise); a default timeout
  // must not be negative.
  explicit Barrier(std::ptrdiff_t parties, std::function<void()> action = {},
                   std::optional<Duration> timeout = std::nullopt);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Waits for the other parties, for at most the default timeout if one was
  // given at construction.
  std::size_t wait();
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(sys::Deadline::after(timeout));
  }
  void reset();
  void abort();

  std::size_t parties() const noexcept { return parties_; }
  // Threads waiting in the current cycle.
  std::size_t n_waiting();
  bool broken();

 private:
  enum class State { kFilling, kDraining, kResetting, kBroken };
  std::size_t wait_until(const sys::Deadline& deadline);
  void enter() CONCUR_REQUIRES(lock_);
  void release_cycle() CONCUR_REQUIRES(lock_);
  void wait_cycle(const sys::Deadline& deadline) CONCUR_REQUIRES(lock_);
  void leave() CONCUR_REQUIRES(lock_);
  void break_barrier() CONCUR_REQUIRES(lock_);

  const std::size_t parties_;
  const std::function<void()> action_;
  const std::optional<Duration> timeout_;
  Lock lock_;
  Condition cond_{lock_};
  State state_ CONCUR_GUARDED_BY(lock_) = State::kFilling;
  std::size_t count_ CONCUR_GUARDED_BY(lock_) = 0;
};

// ---------------------------------------------------------------------------
// Thread — Python's threading.Thread.
//
// Construct with a target callable and its arguments (copied or moved into
// the thread, like std::thread), or derive from Thread and override run().
// start() runs it on a new OS thread; join() waits for it to end.
//
// A Thread is a handle: copies refer to the same thread, as two Python names
// bound to one Thread object do, and current_thread(), main_thread() and
// enumerate() return such handles. A thread with a target owns its target,
// so the handle may be destroyed while the thread runs (the thread goes on;
// a non-daemon one is still joined at exit). A thread that runs an
// overridden run() executes on the object that defines it, so that object
// must live until run() returns: destroying it earlier aborts the process
// with a message, because it cannot be made safe.
//
// Lifetime rules, as in Python: non-daemon threads are joined when the
// program exits normally (return from main or std::exit); daemon threads are
// not, and must not touch static objects that exit destroys. The daemon flag
// defaults to the creating thread's. An exception that escapes the target or
// run() goes to excepthook(), never to std::terminate.
//
// Misuse throws RuntimeError: start() twice, join() before start(), join()
// from the thread itself, set_daemon() after start().
//
// Thread safety: distinct handles, and the same handle, may be used from
// any thread concurrently.
//
// Differences from Python: when a target is given, the thread calls the
// target, not run() (a subclass that overrides run() takes no target);
// join(timeout) returns whether the thread ended instead of None; start()
// does not wait for the new thread to begin running (Python's does), which
// halves the cost of a start. The exit-time join is a stage of concur's exit
// sequence (<concur/atexit.hpp>): functions given to concur::atexit run
// after it, as Python's atexit handlers do; plain std::atexit handlers
// installed after the first start() run before it.
class Thread;

struct ThreadOptions {
  std::string name{};            // empty: "Thread-N"
  std::optional<bool> daemon{};  // empty: the creating thread's flag
};

}  // namespace concur::threading

namespace concur::threading_detail {
struct ThreadState;
// A type-erased, move-only `void()` that owns its callable and arguments.
struct Callable {
  virtual ~Callable() = default;
  virtual void operator()() = 0;
};
template <class F, class... Args>
struct BoundCall final : Callable {
  template <class G, class... A>
  explicit BoundCall(G&& g, A&&... a)
      : call(std::forward<G>(g), std::forward<A>(a)...) {}
  void operator()() override {
    std::apply([](auto& f, auto&... a) { std::invoke(f, a...); }, call);
  }
  std::tuple<F, Args...> call;
};
template <class F, class... Args>
std::unique_ptr<Callable> bind_call(F&& f, Args&&... args) {
  return std::make_unique<BoundCall<std::decay_t<F>, std::decay_t<Args>...>>(
      std::forward<F>(f), std::forward<Args>(args)...);
}
template <class F, class... Args>
concept Target = !std::is_base_of_v<threading::Thread, std::decay_t<F>> &&
                 !std::is_same_v<std::decay_t<F>, threading::ThreadOptions> &&
                 std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>;
}  // namespace concur::threading_detail

namespace concur::threading {

class Thread {
 public:
  // A thread with no target: run() does nothing unless a subclass overrides
  // it.
  Thread();
  explicit Thread(ThreadOptions options);
  template <class F, class... Args>
  requires threading_detail::Target<F, Args...>
  explicit Thread(F&& target, Args&&... args)
      : Thread(ThreadOptions{},
               threading_detail::bind_call(std::forward<F>(target),
                                           std::forward<Args>(args)...)) {}
  template <class F, class... Args>
  requires threading_detail::Target<F, Args...> Thread(ThreadOptions options,
                                                       F&& target,
                                                       Args&&... args)
      : Thread(std::move(options),
               threading_detail::bind_call(std::forward<F>(target),
                                           std::forward<Args>(args)...)) {}
  Thread(const Thread& other) noexcept;
  Thread& operator=(const Thread& other) noexcept;
  virtual ~Thread();

  // Starts the thread. Throws RuntimeError if it was started before, or if
  // the system cannot create a thread.
  void start();
  // Waits until the thread ends.
  void join() { join_until(sys::Deadline::never()); }
  // Waits at most `timeout`; returns whether the thread has ended.
  template <class Rep, class Period>
  [[nodiscard]] bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_until(sys::Deadline::after(timeout));
  }
  // From just before the target starts until just after it ends.
  bool is_alive() const noexcept;

  std::string name() const;
  void set_name(std::string name);
  bool daemon() const noexcept;
  void set_daemon(bool daemon);
  // pthread identifier (as get_ident() returns in that thread); empty until
  // started. May be reused by a later thread once this one has ended.
  std::optional<std::uint64_t> ident() const noexcept;
  // Kernel thread id (as get_native_id() returns in that thread); empty
  // until started.
  std::optional<long> native_id() const noexcept;

  friend bool operator==(const Thread& a, const Thread& b) noexcept {
    return a.state_ == b.state_;
  }

 protected:
  // What the thread does. The default calls the target, if any.
  virtual void run();

 protected:
  Thread(ThreadOptions options,
         std::unique_ptr<threading_detail::Callable> target);

 private:
  friend Thread current_thread();
  friend Thread main_thread();
  friend std::vector<Thread> enumerate();
  friend struct threading_detail::ThreadState;

  explicit Thread(
      std::shared_ptr<threading_detail::ThreadState> state) noexcept;
  bool join_until(const sys::Deadline& deadline);
  void let_go() noexcept;

  std::shared_ptr<threading_detail::ThreadState> state_;
};

// What excepthook() receives about an exception that escaped a thread.
struct ExceptHookArgs {
  std::exception_ptr exc_value;  // the exception itself, to rethrow
  std::string exc_type;          // its C++ type, demangled
  std::optional<Thread> thread;  // the thread it escaped from
};
using ExceptHook = std::function<void(const ExceptHookArgs&)>;

// Handles an exception that escaped a Thread: calls the installed hook.
void excepthook(const ExceptHookArgs& args);
// Installs `hook` and returns the previous one; an empty hook restores the
// default. Like assigning Python's threading.excepthook.
ExceptHook set_excepthook(ExceptHook hook);
// The default hook (Python's threading.__excepthook__): prints "Exception in
// thread NAME:" and "TYPE: what()" to stderr.
void default_excepthook(const ExceptHookArgs& args);

// ---------------------------------------------------------------------------
// Timer — Python's threading.Timer: a Thread that calls a function after an
// interval unless cancel() is called first.
//
// Like any targeted Thread, the handle may be destroyed after start(): the
// timer still fires (`Timer(1s, f).start();` works as in Python). A negative
// interval throws ValueError.
class Timer : public Thread {
 public:
  template <class Rep, class Period, class F, class... Args>
  requires std::is_invocable_v < std::decay_t<F>
  &, std::decay_t<Args>&... > Timer(std::chrono::duration<Rep, Period> interval,
                                    F&& function, Args&&... args)
      : Timer(std::make_shared<Event>(), sys::checked_timeout(interval),
              threading_detail::bind_call(std::forward<F>(function),
                                          std::forward<Args>(args)...)) {}
  // Stops the timer if it is still waiting; harmless afterwards.
  void cancel() { finished_->set(); }

 private:
  Timer(std::shared_ptr<Event> finished,
        std::chrono::steady_clock::duration interval,
        std::unique_ptr<threading_detail::Callable> function);
  std::shared_ptr<Event> finished_;
};

// ---------------------------------------------------------------------------
// local<T> — Python's threading.local: one T per thread.
//
// Each thread that calls get() (or uses -> or *) first gets its own T, made
// from the constructor arguments given to local (copied for each thread).
// A thread's T is destroyed when that thread ends (for a concur Thread,
// before join() returns), or when the local itself is destroyed, whichever
// comes first.
//
// Thread safety: get() may be called concurrently from any number of
// threads; each sees only its own T.
}  // namespace concur::threading

namespace concur::threading_detail {
struct LocalControl;
void* local_find(std::uint64_t id) noexcept;
void* local_insert(const std::shared_ptr<LocalControl>& control,
                   std::shared_ptr<void> value);
std::shared_ptr<LocalControl> local_control();
std::uint64_t local_id(const LocalControl& control) noexcept;
void local_release_thread() noexcept;
}  // namespace concur::threading_detail

namespace concur::threading {

template <class T>
class local {
 public:
  template <class... Args>
  explicit local(Args&&... args)
      : factory_([... a = std::forward<Args>(args)]() {
          return std::make_shared<T>(a...);
        }),
        control_(threading_detail::local_control()),
        id_(threading_detail::local_id(*control_)) {}
  local(const local&) = delete;
  local& operator=(const local&) = delete;

  T& get() {
    if (void* found = threading_detail::local_find(id_))
      return *static_cast<T*>(found);
    return *static_cast<T*>(
        threading_detail::local_insert(control_, factory_()));
  }
  T* operator->() { return &get(); }
  T& operator*() { return get(); }

 private:
  std::function<std::shared_ptr<T>()> factory_;
  std::shared_ptr<threading_detail::LocalControl> control_;
  std::uint64_t id_;
};

// ---------------------------------------------------------------------------
// Module functions.

// The calling thread's Thread: "MainThread" for the main thread, and a
// daemon "Dummy-N" for a thread concur did not start (alive until that
// thread ends; it cannot be joined).
Thread current_thread();
Thread main_thread();
// Every alive thread: started and not ended, the main thread and the dummies.
std::vector<Thread> enumerate();
std::size_t active_count();
// pthread identifier of the calling thread.
std::uint64_t get_ident() noexcept;
// Kernel thread id of the calling thread.
long get_native_id() noexcept;
// The stack size for threads started from now on (0: the system default).
std::size_t stack_size() noexcept;
// Sets it and returns the previous value. A size other than 0 below 32 KiB
// throws ValueError, as in Python.
std::size_t stack_size(std::size_t size);

}  // namespace concur::threading
