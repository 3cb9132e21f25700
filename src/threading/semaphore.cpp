#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "concur/detail/futex.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

namespace cd = concur::detail;

namespace {
constexpr std::int64_t kMaxValue = std::numeric_limits<std::uint32_t>::max();
}

Semaphore::Semaphore(std::int64_t value)
    : value_(checked_count(value, "semaphore initial value")) {}

std::uint32_t Semaphore::checked_count(std::int64_t n, const char* what) {
  if (n < 0) throw ValueError(std::string(what) + " must be >= 0");
  if (n > kMaxValue) {
    throw ValueError(std::string(what) + " must be at most 4294967295");
  }
  return static_cast<std::uint32_t>(n);
}

bool Semaphore::acquire_slow(const cd::Deadline& deadline) {
  for (int i = 0; i < cd::spin_limit(); ++i) {
    if (try_take()) return true;
    cd::cpu_relax();
  }
  // Announce ourselves before the final check, so that a release() either
  // sees a sleeper (and wakes it) or made value_ non-zero before our futex
  // compares it (and the futex returns at once). Both sides use seq_cst: a
  // store-load pattern (Dekker) needs the single total order.
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  bool taken = false;
  while (!(taken = try_take())) {
    if (!cd::futex_wait(value_, 0, deadline)) {
      taken = try_take();
      break;
    }
  }
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return taken;
}

void Semaphore::add(std::int64_t n, std::uint32_t bound, const char* overflow) {
  if (n < 1) throw ValueError("n must be one or more");
  std::uint32_t current = value_.load(std::memory_order_relaxed);
  do {
    if (n > static_cast<std::int64_t>(bound) - current)
      throw ValueError(overflow);
    // seq_cst: the release half publishes what this thread did before
    // release() to the thread whose acquire takes one of these units; the
    // total order is the Dekker pattern with sleepers_ (see acquire_slow).
  } while (!value_.compare_exchange_weak(
      current, current + static_cast<std::uint32_t>(n),
      std::memory_order_seq_cst, std::memory_order_relaxed));
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    cd::futex_wake(value_, n > 0x7fffffff ? 0x7fffffff : static_cast<int>(n));
  }
}

void Semaphore::release(std::int64_t n) {
  add(n, static_cast<std::uint32_t>(kMaxValue),
      "semaphore value would exceed 4294967295");
}

BoundedSemaphore::BoundedSemaphore(std::int64_t value)
    : Semaphore(value), bound_(Semaphore::value()) {}

void BoundedSemaphore::release(std::int64_t n) {
  add(n, bound_, "Semaphore released too many times");
}

}  // namespace concur::threading
