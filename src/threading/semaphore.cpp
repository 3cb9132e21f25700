#include <atomic>
#include <cstdint>
#include <limits>
#include <string>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

using sys::CountedFutex;

namespace {
constexpr std::int64_t kMaxValue = std::numeric_limits<std::uint32_t>::max();
}

Semaphore::Semaphore(std::int64_t value)
    : state_(checked_count(value, "semaphore initial value")) {}

std::uint32_t Semaphore::checked_count(std::int64_t n, const char* what) {
  if (n < 0) throw ValueError(std::string(what) + " must be >= 0");
  if (n > kMaxValue) {
    throw ValueError(std::string(what) + " must be at most 4294967295");
  }
  return static_cast<std::uint32_t>(n);
}

bool Semaphore::acquire_slow(const sys::Deadline& deadline) {
  if (sys::spin_until([this] { return try_take(); })) return true;
  // Count ourselves as a sleeper before the final check, so that a release
  // either sees us (and wakes us) or made the counter non-zero before our
  // futex compares it (and the futex returns at once). seq_cst on both
  // sides gives the single order this store-then-load pattern needs.
  auto& v = state_.value();
  v.fetch_add(CountedFutex::kOneSleeper, std::memory_order_seq_cst);
  bool taken = false;
  while (!(taken = try_take())) {
    if (!state_.wait(0, deadline)) {
      taken = try_take();
      break;
    }
  }
  v.fetch_sub(CountedFutex::kOneSleeper, std::memory_order_relaxed);
  return taken;
}

void Semaphore::add(std::int64_t n, std::uint32_t bound, const char* overflow) {
  if (n < 1) throw ValueError("n must be one or more");
  auto& v = state_.value();
  std::uint64_t cur = v.load(std::memory_order_relaxed);
  do {
    if (n > static_cast<std::int64_t>(bound) - CountedFutex::word_of(cur)) {
      throw ValueError(overflow);
    }
    // seq_cst: the release half publishes what this thread did before
    // release() to the thread whose acquire takes one of these units; the
    // total order pairs with the sleeper count (see acquire_slow). The
    // bound check keeps the counter from carrying into the sleeper half.
  } while (!v.compare_exchange_weak(cur, cur + static_cast<std::uint64_t>(n),
                                    std::memory_order_seq_cst,
                                    std::memory_order_relaxed));
  // After the CAS only the address is used: the semaphore may be gone.
  if (CountedFutex::sleepers_of(cur) != 0) {
    state_.wake(n > 0x7fffffff ? 0x7fffffff : static_cast<int>(n));
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
