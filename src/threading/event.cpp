#include <atomic>
#include <cstdint>

#include "concur/detail/sys/futex.hpp"
#include "concur/detail/sys/spin.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

using sys::CountedFutex;

void Event::set() {
  auto& v = state_.value();
  std::uint64_t cur = v.load(std::memory_order_relaxed);
  std::uint64_t next = 0;
  do {
    if ((cur & kSetBit) != 0) return;
    // The next count, the flag set, the sleepers kept.
    std::uint32_t word = (CountedFutex::word_of(cur) + 2) | kSetBit;
    next = (cur & ~std::uint64_t{0xffffffff}) | word;
    // seq_cst: the release half publishes what the setter did before set();
    // the total order makes this CAS and a waiter's sleeper increment see
    // each other in one order or the other, so no sleeper is missed.
  } while (!v.compare_exchange_weak(cur, next, std::memory_order_seq_cst,
                                    std::memory_order_relaxed));
  // After the CAS only the address is used: the Event may be gone already.
  if (CountedFutex::sleepers_of(cur) != 0) state_.wake(0x7fffffff);
}

void Event::clear() noexcept {
  // Relaxed: clearing publishes nothing; a thread that sees the flag clear
  // goes on to wait, and reads no data on the strength of it.
  state_.value().fetch_and(~kSetBit, std::memory_order_relaxed);
}

bool Event::wait_until(const sys::Deadline& deadline) {
  auto& v = state_.value();
  // Acquire on every load that can return true: pairs with set().
  const std::uint32_t seen =
      CountedFutex::word_of(v.load(std::memory_order_acquire));
  if ((seen & kSetBit) != 0) return true;
  // Any change of the word since `seen` means a set() happened: the only
  // other change, clear(), applies to a set flag.
  auto was_set = [&] {
    return CountedFutex::word_of(v.load(std::memory_order_seq_cst)) != seen;
  };
  if (sys::spin_until(was_set)) return true;
  v.fetch_add(CountedFutex::kOneSleeper, std::memory_order_seq_cst);
  bool result = true;
  while (!was_set()) {
    if (!state_.wait(seen, deadline)) {
      result = was_set();
      break;
    }
  }
  v.fetch_sub(CountedFutex::kOneSleeper, std::memory_order_relaxed);
  return result;
}

}  // namespace concur::threading
