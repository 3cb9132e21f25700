#include "concur/detail/sys/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace concur::sys {

namespace {

int op(int base, FutexScope scope) noexcept {
  return scope == FutexScope::kPrivate ? base | FUTEX_PRIVATE_FLAG : base;
}

bool wait_on(std::uint32_t* address, std::uint32_t expected,
             const Deadline& deadline, FutexScope scope) noexcept {
  timespec ts{};
  const timespec* tsp = nullptr;
  if (!deadline.is_never()) {
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time.
    ts = deadline.absolute_timespec();
    tsp = &ts;
  }
  const long rc = syscall(SYS_futex, address, op(FUTEX_WAIT_BITSET, scope),
                          expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return true;
  switch (errno) {
    case ETIMEDOUT:
      return false;
    case EAGAIN:  // the word differed already
    case EINTR:   // a signal handler ran
      return true;
    default: {
      // EFAULT, EINVAL, ENOSYS: the caller passed a bad word or the kernel
      // cannot park. Retrying would spin for ever; carrying on as if woken
      // would break whatever invariant the wait protects.
      char reason[128];
      std::fprintf(stderr, "concur: futex wait failed: %s\n",
                   strerror_r(errno, reason, sizeof reason));
      std::abort();
    }
  }
}

void wake_on(std::uint32_t* address, int count, FutexScope scope) noexcept {
  // The result is ignored on purpose: see futex_wake in the header.
  syscall(SYS_futex, address, op(FUTEX_WAKE, scope), count, nullptr, nullptr,
          0);
}

std::uint32_t* word_address(std::atomic<std::uint32_t>& word) noexcept {
  return reinterpret_cast<std::uint32_t*>(&word);
}

// The futex half of a 64-bit word: its low 32 bits.
std::uint32_t* low_half(std::atomic<std::uint64_t>& word) noexcept {
  auto* halves = reinterpret_cast<std::uint32_t*>(&word);
  return std::endian::native == std::endian::little ? halves : halves + 1;
}

}  // namespace

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Deadline& deadline, FutexScope scope) noexcept {
  return wait_on(word_address(word), expected, deadline, scope);
}

void futex_wake(std::atomic<std::uint32_t>& word, int count,
                FutexScope scope) noexcept {
  wake_on(word_address(word), count, scope);
}

bool futex_wait(std::atomic<std::uint64_t>& word, std::uint32_t expected,
                const Deadline& deadline, FutexScope scope) noexcept {
  return wait_on(low_half(word), expected, deadline, scope);
}

void futex_wake(std::atomic<std::uint64_t>& word, int count,
                FutexScope scope) noexcept {
  wake_on(low_half(word), count, scope);
}

}  // namespace concur::sys
