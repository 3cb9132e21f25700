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
#include <bit>
#include <cstdint>

#include "concur/detail/sys/deadline.hpp"

namespace concur::sys {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "futex words must be plain 32-bit integers");
static_assert(sizeof(std::atomic<std::uint64_t>) == sizeof(std::uint64_t));

enum class FutexScope : bool { kPrivate, kShared };

// The 32 bits the kernel compares and sleeps on: the word itself, or the
// low half of a 64-bit word, for objects that keep a futex word and a count
// (of sleepers, of references) in one atomic. The sleeper compares only the
// low half, so the count may change meanwhile without waking it.
inline std::uint32_t* futex_address(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}
inline std::uint32_t* futex_address(std::atomic<std::uint64_t>& word) noexcept {
  auto* halves = reinterpret_cast<std::uint32_t*>(&word);
  return std::endian::native == std::endian::little ? halves : halves + 1;
}

// Sleeps while the 32 bits at `address` hold `expected`, until woken or
// until `deadline`. Returns false only when the deadline passed; a true
// return may be spurious (or mean the word already differed), so callers
// re-check their condition. Any other failure of the system call is a bug
// in the caller (a bad address): it is reported and the process aborts,
// never taken for a wake-up.
bool futex_wait_at(std::uint32_t* address, std::uint32_t expected,
                   const Deadline& deadline, FutexScope scope) noexcept;
// Wakes up to `count` threads sleeping on `address`. The memory may be gone
// already (a woken thread may free it at once): the call then wakes nobody,
// or, if the memory was reused, causes a spurious wake-up.
void futex_wake_at(std::uint32_t* address, int count,
                   FutexScope scope) noexcept;

// The same on a 32-bit atomic word, or on the low half of a 64-bit one.
template <class Word>
bool futex_wait(std::atomic<Word>& word, std::uint32_t expected,
                const Deadline& deadline,
                FutexScope scope = FutexScope::kPrivate) noexcept {
  return futex_wait_at(futex_address(word), expected, deadline, scope);
}
template <class Word>
void futex_wake(std::atomic<Word>& word, int count,
                FutexScope scope = FutexScope::kPrivate) noexcept {
  futex_wake_at(futex_address(word), count, scope);
}
template <class Word>
void futex_wake_all(std::atomic<Word>& word,
                    FutexScope scope = FutexScope::kPrivate) noexcept {
  futex_wake_at(futex_address(word), 0x7fffffff, scope);
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
