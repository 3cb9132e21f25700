// concur/asyncio/locks.hpp — synchronization between the tasks of one loop
// (Python's asyncio.locks): Lock, Event, Condition, Semaphore,
// BoundedSemaphore, Barrier.
//
// Every primitive queues its waiters in FIFO order and belongs to one
// loop's thread; none blocks the thread. A waiter cancelled before it is
// woken leaves the queue; one cancelled after being woken passes its
// wake-up on, so a cancel never loses a wake-up (Python's rules, and its
// test_locks checks them).
//
// C++ has no `async with`: acquire() and release() are Python's calls, and
// `auto held = co_await lock.scoped();` holds the lock until `held` goes
// out of scope.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "concur/asyncio/tasks.hpp"
#include "concur/detail/asyncio_core.hpp"
#include "concur/threading.hpp"

namespace concur::asyncio {

using threading::BrokenBarrierError;

// Python's asyncio.Lock: not re-entrant, owned by no task in particular
// (any task may release it, as in Python).
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  class [[nodiscard]] Acquire {
   public:
    explicit Acquire(Lock& lock) noexcept : lock_(lock) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> /*unused*/);
    bool await_resume();

   private:
    Lock& lock_;
    asyncio_detail::WaitList::Waiter waiter_;
    asyncio_detail::TaskCore* task_ = nullptr;
  };
  // Releases the lock when destroyed.
  class [[nodiscard]] Held {
   public:
    explicit Held(Lock& lock) noexcept : lock_(&lock) {}
    Held(Held&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
    Held& operator=(Held&&) = delete;
    ~Held() {
      if (lock_ != nullptr) lock_->release();
    }

   private:
    Lock* lock_;
  };
  class [[nodiscard]] Scoped : public Acquire {
   public:
    explicit Scoped(Lock& lock) noexcept : Acquire(lock), lock_(lock) {}
    Held await_resume() {
      Acquire::await_resume();
      return Held(lock_);
    }

   private:
    Lock& lock_;
  };

  // Waits for the lock; gives true.
  Acquire acquire() noexcept { return Acquire(*this); }
  // Waits for the lock; gives a guard that releases it.
  Scoped scoped() noexcept { return Scoped(*this); }
  // RuntimeError "Lock is not acquired." if it is not held.
  void release();
  bool locked() const noexcept { return locked_; }

 private:
  bool locked_ = false;
  asyncio_detail::WaitList waiters_;
};

// Python's asyncio.Event.
class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  class [[nodiscard]] Wait {
   public:
    explicit Wait(Event& event) noexcept : event_(event) {}
    bool await_ready() const noexcept { return event_.set_; }
    bool await_suspend(std::coroutine_handle<> /*unused*/);
    bool await_resume();

   private:
    Event& event_;
    asyncio_detail::WaitList::Waiter waiter_;
    asyncio_detail::TaskCore* task_ = nullptr;
  };

  // Waits until the event is set; gives true.
  Wait wait() noexcept { return Wait(*this); }
  // Wakes every waiter; later waits return at once until clear().
  void set() noexcept;
  void clear() noexcept { set_ = false; }
  bool is_set() const noexcept { return set_; }

 private:
  bool set_ = false;
  asyncio_detail::WaitList waiters_;
};

// Python's asyncio.Condition, over a Lock of its own or one given (which
// must outlive it).
class Condition {
 public:
  Condition() noexcept : lock_(&own_) {}
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  Lock::Acquire acquire() noexcept { return lock_->acquire(); }
  Lock::Scoped scoped() noexcept { return lock_->scoped(); }
  void release() { lock_->release(); }
  bool locked() const noexcept { return lock_->locked(); }

  // Releases the lock, waits for a notify, and takes the lock back before
  // returning or throwing, even when cancelled. RuntimeError if the lock
  // is not held. Gives true.
  Task<bool> wait();
  // Waits until predicate() is true (checked first, then after each
  // wake-up); gives true.
  template <class Predicate>
  Task<bool> wait_for(Predicate predicate) {
    while (!predicate()) {
      co_await wait();
    }
    co_return true;
  }
  // Wakes up to n waiters (all). RuntimeError if the lock is not held.
  void notify(std::size_t n = 1);
  void notify_all();

 private:
  class Notified {
   public:
    explicit Notified(Condition& cond) noexcept : cond_(cond) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> /*unused*/);
    void await_resume();

   private:
    Condition& cond_;
    asyncio_detail::WaitList::Waiter waiter_;
    asyncio_detail::TaskCore* task_ = nullptr;
  };
  Lock own_;
  Lock* lock_;
  asyncio_detail::WaitList waiters_;
};

// Python's asyncio.Semaphore: strictly FIFO (a newcomer never overtakes a
// queued waiter). ValueError for a negative value.
class Semaphore {
 public:
  explicit Semaphore(std::ptrdiff_t value = 1);
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;
  virtual ~Semaphore() = default;

  class [[nodiscard]] Acquire {
   public:
    explicit Acquire(Semaphore& sem) noexcept : sem_(sem) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> /*unused*/);
    bool await_resume();

   private:
    Semaphore& sem_;
    asyncio_detail::WaitList::Waiter waiter_;
    asyncio_detail::TaskCore* task_ = nullptr;
  };

  Acquire acquire() noexcept { return Acquire(*this); }
  virtual void release();
  // Whether acquire() would wait.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty(); }
  std::ptrdiff_t value() const noexcept { return value_; }

 protected:
  std::ptrdiff_t value_;

 private:
  bool wake_next() noexcept;
  void wake_while_available() noexcept;
  asyncio_detail::WaitList waiters_;
};

// A Semaphore that raises ValueError when released above its initial
// value (Python's BoundedSemaphore).
class BoundedSemaphore final : public Semaphore {
 public:
  explicit BoundedSemaphore(std::ptrdiff_t value = 1)
      : Semaphore(value), bound_(value) {}
  void release() override;

 private:
  std::ptrdiff_t bound_;
};

// Python's asyncio.Barrier: `parties` tasks wait until all have arrived;
// each gets its arrival index. abort() breaks it (waiters and later callers
// get BrokenBarrierError); reset() breaks the current round and refills.
// ValueError for parties < 1.
class Barrier {
 public:
  explicit Barrier(std::ptrdiff_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  Task<std::size_t> wait();
  Task<void> reset();
  Task<void> abort();

  std::size_t parties() const noexcept { return parties_; }
  // The tasks waiting in the round being filled.
  std::size_t n_waiting() const noexcept {
    return state_ == State::kFilling ? count_ : 0;
  }
  bool broken() const noexcept { return state_ == State::kBroken; }

 private:
  enum class State { kFilling, kDraining, kResetting, kBroken };
  Task<void> block();
  Task<void> wait_round();
  void exit();

  std::size_t parties_;
  std::size_t count_ = 0;
  State state_ = State::kFilling;
  Condition cond_;
};

}  // namespace concur::asyncio
