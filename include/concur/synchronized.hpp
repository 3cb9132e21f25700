// concur/synchronized.hpp — data that can only be reached through its lock.
// Python has no such type (its shared data relies on the programmer taking
// the right lock); this one makes the seeds' races impossible to write.
//
//   concur::Synchronized<long> balance{100};
//   balance.lock()->operator+=(10);            // held for the statement
//   { auto held = balance.lock(); *held -= 5; }  // held for the scope
//   balance.with_lock([](long& b) { b *= 2; });
//   long now = balance.copy();
//
// Over a reader-writer lock (one with lock_shared, e.g. std::shared_mutex),
// rlock() and with_rlock() share the lock among readers; wlock() and
// with_wlock() take it alone. Over any other lock they all take it alone.
//
// acquire_locked(a, b) holds two Synchronized at once, taking their locks
// in one global order (by address), so two threads that lock the same pair
// from opposite ends cannot deadlock.
//
// Thread safety: every member may be called from any thread at once; the
// data is reached only while its lock is held. A LockedPtr belongs to the
// thread that made it (for a threading::Lock, another thread may end it, as
// Python allows a Lock's release there). The deadlock detector watches the
// lock as it watches any other (deadlock.hpp).
#pragma once

#include <chrono>
#include <concepts>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>
#include "concur/detail/call_site.hpp"

#include "concur/annotations.hpp"
#include "concur/errors.hpp"
#include "concur/threading.hpp"

namespace concur {

namespace synchronized_detail {

template <class L>
concept SharedLockable = requires(L& l) {
  l.lock_shared();
  l.unlock_shared();
};

// The handles below hold the lock past the calls that take it, which the
// analysis cannot follow: these calls are not analysed; the data is
// GUARDED_BY its lock, so code outside them still is.
template <class L>
void take(L& lock,
          concur::detail::CallSite where) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  if constexpr (requires { lock.lock(where); }) {
    lock.lock(where);
  } else {
    lock.lock();
  }
}

}  // namespace synchronized_detail

template <class T, class LockT = threading::Lock>
class Synchronized;

// Access to a Synchronized's data while its lock is held: a pointer-like
// handle that releases the lock when it is destroyed (or release()d).
// `Shared`: holds the lock shared, and gives const access only.
// Move-only; a moved-from or released handle holds nothing.
template <class T, class LockT, bool Shared>
class LockedPtr {
  using Data = std::conditional_t<Shared, const T, T>;

 public:
  LockedPtr(LockedPtr&& other) noexcept
      : lock_(std::exchange(other.lock_, nullptr)),
        data_(std::exchange(other.data_, nullptr)) {}
  LockedPtr& operator=(LockedPtr&& other) noexcept {
    if (this != &other) {
      release();
      lock_ = std::exchange(other.lock_, nullptr);
      data_ = std::exchange(other.data_, nullptr);
    }
    return *this;
  }
  LockedPtr(const LockedPtr&) = delete;
  LockedPtr& operator=(const LockedPtr&) = delete;
  ~LockedPtr() { release(); }

  Data* operator->() const noexcept { return data_; }
  Data& operator*() const noexcept { return *data_; }
  // Whether the handle holds the lock (false after a failed try or a move).
  explicit operator bool() const noexcept { return lock_ != nullptr; }

  // Releases the lock early; the handle then holds nothing.
  void release() noexcept(noexcept(std::declval<LockT&>().unlock()))
      CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (lock_ == nullptr) return;
    LockT* lock = std::exchange(lock_, nullptr);
    data_ = nullptr;
    if constexpr (Shared && synchronized_detail::SharedLockable<LockT>) {
      lock->unlock_shared();
    } else {
      lock->unlock();
    }
  }

 private:
  friend class Synchronized<T, LockT>;
  // Adopts a lock that is already held (nullptr: none).
  LockedPtr(LockT* held, Data* data) noexcept : lock_(held), data_(data) {}

  LockT* lock_;
  Data* data_;
};

// Synchronized — a value of type T and the lock that guards it, reached only
// through the lock (folly's Synchronized, with Python's lock underneath).
// See the top of this file.
template <class T, class LockT>
class Synchronized {
 public:
  using Locked = LockedPtr<T, LockT, false>;
  using ConstLocked = LockedPtr<T, LockT, true>;

  Synchronized() = default;
  // The value is made in place from the arguments.
  template <class... Args>
  requires std::constructible_from<T, Args...>
  explicit Synchronized(std::in_place_t /*unused*/, Args&&... args)
      : data_(std::forward<Args>(args)...) {}
  explicit Synchronized(T value) : data_(std::move(value)) {}
  Synchronized(const Synchronized&) = delete;
  Synchronized& operator=(const Synchronized&) = delete;

  // Holds the lock (alone) until the returned handle goes.
  Locked lock(
      concur::detail::CallSite where = concur::detail::CallSite::current()) {
    synchronized_detail::take(lock_, where);
    return Locked(&lock_, &data_);
  }
  // As lock(), but gives up after `timeout`: the handle is then empty.
  template <class Rep, class Period>
  Locked try_lock_for(std::chrono::duration<Rep, Period> timeout)
      CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (!lock_.try_lock_for(timeout)) return Locked(nullptr, nullptr);
    return Locked(&lock_, &data_);
  }
  // Takes the lock only if it is free at once: else the handle is empty.
  Locked try_lock() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (!lock_.try_lock()) return Locked(nullptr, nullptr);
    return Locked(&lock_, &data_);
  }
  // Const access; shared with other readers over a reader-writer lock.
  ConstLocked rlock(concur::detail::CallSite where =
                        concur::detail::CallSite::current()) const {
    if constexpr (synchronized_detail::SharedLockable<LockT>) {
      lock_.lock_shared();
    } else {
      synchronized_detail::take(lock_, where);
    }
    return ConstLocked(&lock_, &data_);
  }
  // The same as lock(): named for reader-writer code.
  Locked wlock(
      concur::detail::CallSite where = concur::detail::CallSite::current()) {
    return lock(where);
  }

  // Calls fn(T&) with the lock held, and returns what it returns.
  template <class F>
  decltype(auto) with_lock(F&& fn) {
    Locked held = lock();
    return std::invoke(std::forward<F>(fn), *held);
  }
  template <class F>
  decltype(auto) with_wlock(F&& fn) {
    return with_lock(std::forward<F>(fn));
  }
  // Calls fn(const T&) with the lock held (shared, over a reader-writer lock).
  template <class F>
  decltype(auto) with_rlock(F&& fn) const {
    ConstLocked held = rlock();
    return std::invoke(std::forward<F>(fn), *held);
  }

  // A copy of the value, taken under the lock.
  T copy() const { return *rlock(); }
  // Replaces the value under the lock; returns the old one.
  T exchange(T value) {
    Locked held = lock();
    return std::exchange(*held, std::move(value));
  }

 private:
  template <class A, class LA, class B, class LB>
  friend std::pair<typename Synchronized<A, LA>::Locked,
                   typename Synchronized<B, LB>::Locked>
  acquire_locked(Synchronized<A, LA>& a, Synchronized<B, LB>& b);

  mutable LockT lock_;
  T data_ CONCUR_GUARDED_BY(lock_);
};

// Holds both a and b, whichever thread asks in whichever order: the lock at
// the lower address is always taken first. Throws ValueError when a and b
// are the same object (the second acquisition would wait for ever).
template <class A, class LA, class B, class LB>
std::pair<typename Synchronized<A, LA>::Locked,
          typename Synchronized<B, LB>::Locked>
acquire_locked(Synchronized<A, LA>& a, Synchronized<B, LB>& b) {
  if (static_cast<const void*>(&a) == static_cast<const void*>(&b)) {
    throw ValueError("acquire_locked: both arguments are the same object");
  }
  const bool a_first = std::less<const void*>()(&a.lock_, &b.lock_);
  if (a_first) {
    auto first = a.lock();
    return {std::move(first), b.lock()};
  }
  auto second = b.lock();
  return {a.lock(), std::move(second)};
}

}  // namespace concur
