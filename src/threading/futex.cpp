#include "concur/detail/futex.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <ctime>

namespace concur::detail {

namespace {

bool wait_on(std::uint32_t* address, std::uint32_t expected,
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
  long rc = syscall(SYS_futex, address, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                    expected, tsp, nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void wake_on(std::uint32_t* address, int count) noexcept {
  syscall(SYS_futex, address, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count, nullptr,
          nullptr, 0);
}

// The futex half of a 64-bit word: its low 32 bits.
std::uint32_t* low_half(std::atomic<std::uint64_t>& v) noexcept {
  static_assert(sizeof(std::atomic<std::uint64_t>) == sizeof(std::uint64_t));
  auto* halves = reinterpret_cast<std::uint32_t*>(&v);
  return std::endian::native == std::endian::little ? halves : halves + 1;
}

}  // namespace

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                const Deadline& deadline) noexcept {
  return wait_on(reinterpret_cast<std::uint32_t*>(&word), expected, deadline);
}

namespace {
// Read at program start, from the process's CPU set (what taskset gives
// it): a thread pinned later to one CPU may still be waiting for a thread on
// another, so a thread's own affinity is the wrong question.
const int process_spin_limit = [] {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) != 0) return kSpinLimit;
  return CPU_COUNT(&cpus) > 1 ? kSpinLimit : 0;
}();
}  // namespace

int spin_limit() noexcept { return process_spin_limit; }

void futex_wake(std::atomic<std::uint32_t>& word, int count) noexcept {
  wake_on(reinterpret_cast<std::uint32_t*>(&word), count);
}

bool futex_wait(std::atomic<std::uint64_t>& word, std::uint32_t expected,
                const Deadline& deadline) noexcept {
  return wait_on(low_half(word), expected, deadline);
}

void futex_wake(std::atomic<std::uint64_t>& word, int count) noexcept {
  wake_on(low_half(word), count);
}

bool CountedFutex::wait(std::uint32_t expected,
                        const Deadline& deadline) noexcept {
  return futex_wait(v_, expected, deadline);
}

void CountedFutex::wake(int count) noexcept { futex_wake(v_, count); }

}  // namespace concur::detail
