// Parking and waking threads on a 32-bit atomic word (Linux futex).
//
// Every blocking primitive in concur keeps its whole state in atomics and
// uses these two calls only to sleep until a word changes. The futex itself
// carries no memory ordering that concur relies on: each caller publishes
// with a release (or stronger) store and observes with an acquire (or
// stronger) load of the atomic, so ThreadSanitizer, which does not see the
// system call, still sees every happens-before edge.
#pragma once

#include <atomic>
#include <cstdint>

#include "concur/detail/deadline.hpp"

namespace concur::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "futex words must be plain 32-bit integers");

// Sleeps while `word` holds `expected`, until woken or until `deadline`.
// Returns false only when the deadline passed; a true return may be spurious
// (or mean the word already differed), so callers re-check their condition.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Deadline& deadline) noexcept;

// Wakes up to `count` threads sleeping on `word`.
void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept;
inline void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  futex_wake(word, 0x7fffffff);
}

// The same on the low 32 bits of a 64-bit word, for objects that keep a
// futex word and a count (of sleepers, of references) in one atomic: the
// sleeper compares only the low half, so the count may change meanwhile
// without waking it.
bool futex_wait(std::atomic<std::uint64_t>& word, std::uint32_t expected,
                const Deadline& deadline) noexcept;
void futex_wake(std::atomic<std::uint64_t>& word, int count) noexcept;
inline void futex_wake_all(std::atomic<std::uint64_t>& word) noexcept {
  futex_wake(word, 0x7fffffff);
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
  static std::uint32_t word_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v);
  }
  static std::uint32_t sleepers_of(std::uint64_t v) noexcept {
    return static_cast<std::uint32_t>(v >> 32);
  }

  explicit CountedFutex(std::uint32_t word = 0) noexcept : v_(word) {}

  std::atomic<std::uint64_t>& value() noexcept { return v_; }
  const std::atomic<std::uint64_t>& value() const noexcept { return v_; }

  // Sleeps while the word holds `expected` (see futex_wait).
  bool wait(std::uint32_t expected, const Deadline& deadline) noexcept;
  void wake(int count) noexcept;

 private:
  std::atomic<std::uint64_t> v_;
};

// One step of a bounded spin: tells the core that this is a busy-wait loop,
// which frees pipeline resources for the sibling hyper-thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How many times a waiter re-checks before it parks. Long enough to cover a
// short critical section on the other core (a few hundred nanoseconds),
// short enough that an oversubscribed machine loses little to it.
inline constexpr int kSpinLimit = 100;

// kSpinLimit, or 0 when the process may run on one CPU only: there the
// thread that would end the wait cannot run while we spin, so spinning
// only delays it. Read once, from the process's CPU set at start-up.
int spin_limit() noexcept;

}  // namespace concur::detail
