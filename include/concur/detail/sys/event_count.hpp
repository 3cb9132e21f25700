// EventCount: lets threads sleep until "something changed" without a lock,
// for conditions kept in other atomics (work in a pool's queues, a queue's
// task count reaching zero). The idea is folly's EventCount.
//
// A waiter announces itself and reads the epoch (prepare_wait), checks its
// condition, and then either withdraws (cancel_wait) or sleeps until the
// epoch moves (wait). A notifier changes the condition's atomics, then, if
// anyone announced, moves the epoch and wakes. The announcement and the
// check, and the change and the look for announcements, form a Dekker
// handshake, so no wake-up is lost, and a notifier with nobody to wake makes
// no system call. The waiter's check must read the condition with seq_cst
// loads (or read-modify-writes): an acquire load may be satisfied too early
// on a weakly ordered processor, and then both sides miss each other.
//
// Two ways to notify:
//   * notify_one / notify_all, after a change of any memory order: they look
//     for announcements with a read-modify-write of the word (see
//     announced());
//   * has_waiters, then wake_one / wake_all, for a notifier whose change was
//     itself a seq_cst operation (an exchange, a compare-exchange, a store):
//     a plain load suffices, which matters on a hot path, and the notifier
//     may decide between the look and the wake (a pool wakes nobody while a
//     worker is searching).
//
// wake_one coalesces: from the call until some waiter leaves (its wait
// returns or it cancels), the wake-up is pending, and further wake_one
// calls make no system call. A woken thread can take tens of microseconds
// to run on a virtual machine; without this, every submit of a burst in
// that time would pay a futex call of its own. A waiter that leaves takes
// the pending wake-up, for every change made before it left, so it must
// check the condition again before it sleeps or stops watching (or pass the
// wake on): fit for "there is something to look at" (a pool's workers), not
// for counting items.
//
// Thread safety: every member may be called from any thread concurrently.
// A notifier touches the object after its change (to look, then to wake),
// so the object must outlive every call on it: unlike threading::Event, a
// waiter that has seen the change may not destroy it while a notifier may
// still be inside notify or wake.
//
// BasicEventCount<FutexScope::kShared> works in memory that several
// processes map (MAP_SHARED), for the process-shared primitives.
#pragma once

#include <atomic>
#include <cstdint>

#include "concur/detail/assert.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"

namespace concur::sys {

template <FutexScope kScope = FutexScope::kPrivate>
class BasicEventCount {
 public:
  // The epoch the waiter saw when it announced itself.
  class Key {
   public:
    std::uint32_t epoch() const noexcept { return epoch_; }

   private:
    friend class BasicEventCount;
    explicit Key(std::uint32_t epoch) noexcept : epoch_(epoch) {}
    std::uint32_t epoch_;
  };

  BasicEventCount() noexcept = default;
  BasicEventCount(const BasicEventCount&) = delete;
  BasicEventCount& operator=(const BasicEventCount&) = delete;

  // Announces a waiter; check the condition after this.
  Key prepare_wait() noexcept {
    // seq_cst: the waiter's half of the Dekker handshake (see the top).
    return Key(
        epoch_of(word_.fetch_add(kOneWaiter, std::memory_order_seq_cst)));
  }
  // Withdraws the announcement: the condition held after all. Takes a
  // pending wake_one (see the top).
  void cancel_wait() noexcept {
    std::uint64_t cur = word_.load(std::memory_order_relaxed);
    // seq_cst: a notifier whose wake_one found the wake-up pending read the
    // word before this step, so the caller's next check, after it, sees
    // that notifier's change.
    while (!word_.compare_exchange_weak(cur, (cur - kOneWaiter) & ~kPending,
                                        std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
    }
    CONCUR_ASSERT(waiters_of(cur) != 0,
                  "an event count's waiter withdrew twice");
  }
  // Sleeps until the epoch moves past `key` or the deadline passes, then
  // withdraws the announcement. Returns false if the deadline passed with
  // the epoch unmoved. The caller re-checks its condition either way.
  bool wait(Key key, const Deadline& deadline) noexcept {
    bool moved = true;
    // Acquire: pairs with the epoch's release in wake_*, so that a waiter
    // that sees the new epoch sees what the notifier changed before it.
    while (epoch_of(word_.load(std::memory_order_acquire)) == key.epoch_) {
      if (!futex_wait(word_, key.epoch_, deadline, kScope)) {
        moved = epoch_of(word_.load(std::memory_order_acquire)) != key.epoch_;
        break;
      }
    }
    cancel_wait();
    return moved;
  }

  // Whether a waiter has announced itself. seq_cst: the notifier's half of
  // the handshake, after its own seq_cst change.
  bool has_waiters() const noexcept {
    return waiters_of(word_.load(std::memory_order_seq_cst)) != 0;
  }
  // Moves the epoch and wakes one sleeper, whether or not anyone announced
  // itself; nothing while a wake_one is pending (see the top).
  void wake_one() noexcept {
    // seq_cst: read before the step of the waiter that takes the pending
    // wake-up, which then sees this caller's change (see cancel_wait).
    std::uint64_t cur = word_.load(std::memory_order_seq_cst);
    do {
      if ((cur & kPending) != 0) return;
    } while (!word_.compare_exchange_weak(
        cur, next_epoch(cur) | (waiters_of(cur) != 0 ? kPending : 0),
        std::memory_order_seq_cst, std::memory_order_seq_cst));
    if (waiters_of(cur) != 0) futex_wake(word_, 1, kScope);
  }
  // Moves the epoch and wakes every sleeper, whether or not anyone
  // announced itself.
  void wake_all() noexcept {
    advance();
    futex_wake_all(word_, kScope);
  }

  // After any change to the condition: wakes one / every waiter, if any.
  void notify_one() noexcept {
    if (announced()) wake_one();
  }
  void notify_all() noexcept {
    if (announced()) wake_all();
  }

  // Spins on ready(), then parks until it holds or the deadline passes;
  // returns its last answer. The spin-then-park loop of every condition
  // kept beside an event count.
  template <class Ready>
  bool await(Ready&& ready, const Deadline& deadline) {
    if (spin_until(ready)) return true;
    for (;;) {
      const Key key = prepare_wait();
      if (ready()) {
        cancel_wait();
        return true;
      }
      if (!wait(key, deadline)) return ready();
    }
  }

 private:
  // The word: the epoch in the low half (the futex word, so that a waiter
  // sleeps only on the epoch); above it the pending bit of wake_one, and
  // the waiters that announced themselves in the 31 bits above that.
  static constexpr std::uint64_t kPending = std::uint64_t{1} << 32;
  static constexpr std::uint64_t kOneWaiter = std::uint64_t{1} << 33;
  static constexpr std::uint32_t epoch_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v);
  }
  static constexpr std::uint32_t waiters_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v >> 33);
  }
  // The word with its epoch one further, wrapping within the low half.
  static constexpr std::uint64_t next_epoch(std::uint64_t v) noexcept {
    return (v & ~std::uint64_t{0xffffffff}) |
           static_cast<std::uint32_t>(epoch_of(v) + 1);
  }

  // The look for announcements after a change of any memory order: a
  // read-modify-write of the word itself, which the waiters' prepare_wait
  // also modifies. In the word's modification order either a waiter's
  // announcement comes first, and this reads it, or this comes first, and
  // the waiter's announcement reads from it (acq_rel), so the waiter's
  // check sees the change. (A seq_cst fence would do the same, but
  // ThreadSanitizer does not model fences.)
  bool announced() noexcept {
    return waiters_of(word_.fetch_add(0, std::memory_order_acq_rel)) != 0;
  }

  void advance() noexcept {
    std::uint64_t cur = word_.load(std::memory_order_relaxed);
    // seq_cst: in the single order with the waiters' prepare_wait, so a
    // waiter that announced after this reads the new epoch and does not
    // sleep on the old one.
    while (!word_.compare_exchange_weak(cur, next_epoch(cur),
                                        std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
    }
  }

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a word shared between processes must be lock-free");
  std::atomic<std::uint64_t> word_{0};
};

using EventCount = BasicEventCount<>;

}  // namespace concur::sys
