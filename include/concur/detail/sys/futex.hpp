// Parking and waking threads on a 32-bit word (Linux futex), in one process
// or across processes.
//
// Every blocking primitive in concur keeps its whole state in atomics and
// uses these calls only to sleep until a word changes. The futex itself
// carries no memory ordering that concur relies on: each caller publishes
// with a release (or stronger) operation and observes with an acquire (or
// stronger) load of the atomic, so ThreadSanitizer, which does not see the
// system call, still sees every happens-before edge.
//
// A word in memory that several processes map (MAP_SHARED) must be waited
// on and woken with FutexScope::kShared: the kernel then keys the waiters by
// the page, not by this process's address. kPrivate is faster and the
// default.
#pragma once

#include <atomic>
#include <cstdint>

#include "concur/detail/sys/deadline.hpp"

namespace concur::sys {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "futex words must be plain 32-bit integers");
static_assert(sizeof(std::atomic<std::uint64_t>) == sizeof(std::uint64_t));

enum class FutexScope : bool { kPrivate, kShared };

// Sleeps while `word` holds `expected`, until woken or until `deadline`.
// Returns false only when the deadline passed; a true return may be spurious
// (or mean the word already differed), so callers re-check their condition.
// Any other failure of the system call is a bug in the caller (a bad
// address): it is reported and the process aborts, never taken for a
// wake-up.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Deadline& deadline,
                FutexScope scope = FutexScope::kPrivate) noexcept;

// Wakes up to `count` threads sleeping on `word`. The word's memory may be
// gone already (a woken thread may free it at once): the call then wakes
// nobody, or, if the memory was reused, causes a spurious wake-up.
void futex_wake(std::atomic<std::uint32_t>& word, int count,
                FutexScope scope = FutexScope::kPrivate) noexcept;
inline void futex_wake_all(std::atomic<std::uint32_t>& word,
                           FutexScope scope = FutexScope::kPrivate) noexcept {
  futex_wake(word, 0x7fffffff, scope);
}

// The same on the low 32 bits of a 64-bit word, for objects that keep a
// futex word and a count (of sleepers, of references) in one atomic: the
// sleeper compares only the low half, so the count may change meanwhile
// without waking it.
bool futex_wait(std::atomic<std::uint64_t>& word, std::uint32_t expected,
                const Deadline& deadline,
                FutexScope scope = FutexScope::kPrivate) noexcept;
void futex_wake(std::atomic<std::uint64_t>& word, int count,
                FutexScope scope = FutexScope::kPrivate) noexcept;
inline void futex_wake_all(std::atomic<std::uint64_t>& word,
                           FutexScope scope = FutexScope::kPrivate) noexcept {
  futex_wake(word, 0x7fffffff, scope);
}

// A futex word paired with a count of the threads sleeping on it, in one
// 64-bit atomic: the low half is the word, the high half the count. A
// waker learns in the same atomic step that changes the word whether anyone
// sleeps, so after that step it touches only the address (in the system
// call) and never the object's memory: a woken thread may destroy the
// object at once, as the common "signal, then the waiter frees it" pattern
// needs.
class CountedFutex {
 public:
  static constexpr std::uint64_t kOneSleeper = std::uint64_t{1} << 32;
  static constexpr std::uint32_t word_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v);
  }
  static constexpr std::uint32_t sleepers_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v >> 32);
  }

  constexpr explicit CountedFutex(std::uint32_t word = 0) noexcept : v_(word) {}

  std::atomic<std::uint64_t>& value() noexcept { return v_; }
  const std::atomic<std::uint64_t>& value() const noexcept { return v_; }

  // Sleeps while the word holds `expected` (see futex_wait).
  bool wait(std::uint32_t expected, const Deadline& deadline) noexcept {
    return futex_wait(v_, expected, deadline);
  }
  void wake(int count) noexcept { futex_wake(v_, count); }

 private:
  std::atomic<std::uint64_t> v_;
};

}  // namespace concur::sys
