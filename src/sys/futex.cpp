#include "concur/detail/sys/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace concur::sys {

namespace {
int op(int base, FutexScope scope) noexcept {
  return scope == FutexScope::kPrivate ? base | FUTEX_PRIVATE_FLAG : base;
}
}  // namespace

bool futex_wait_at(std::uint32_t* address, std::uint32_t expected,
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

void futex_wake_at(std::uint32_t* address, int count,
                   FutexScope scope) noexcept {
  // The result is ignored on purpose: see the header.
  syscall(SYS_futex, address, op(FUTEX_WAKE, scope), count, nullptr, nullptr,
          0);
}

}  // namespace concur::sys
