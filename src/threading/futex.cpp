#include "concur/detail/futex.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace concur::detail {

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Deadline& deadline) noexcept {
  timespec ts{};
  const timespec* tsp = nullptr;
  if (!deadline.is_never()) {
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, which is
    // what steady_clock reads on Linux; absolute means no drift on retries.
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  deadline.when().time_since_epoch())
                  .count();
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  long rc = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
                    FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, tsp,
                    nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

int spin_limit() noexcept {
  static const int limit = [] {
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return kSpinLimit;
    return CPU_COUNT(&cpus) > 1 ? kSpinLimit : 0;
  }();
  return limit;
}

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
          FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr, nullptr, 0);
}

}  // namespace concur::detail
