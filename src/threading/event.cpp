#include <atomic>
#include <cstdint>

#include "concur/detail/futex.hpp"
#include "concur/threading.hpp"

namespace concur::threading {

namespace cd = concur::detail;

void Event::set() {
  std::uint32_t word = word_.load(std::memory_order_relaxed);
  do {
    if ((word & kSetBit) != 0) return;
    // seq_cst: the release half publishes what the setter did before set();
    // the total order is the Dekker pattern with sleepers_ (see
    // wait_until), so that a sleeper is either seen here or sees the flag.
  } while (!word_.compare_exchange_weak(word, (word + 2) | kSetBit,
                                        std::memory_order_seq_cst,
                                        std::memory_order_relaxed));
  if (sleepers_.load(std::memory_order_seq_cst) != 0) cd::futex_wake_all(word_);
}

void Event::clear() noexcept {
  // Relaxed: clearing publishes nothing; a thread that sees the flag clear
  // goes on to wait, and reads no data on the strength of it.
  word_.fetch_and(~kSetBit, std::memory_order_relaxed);
}

bool Event::wait_until(const cd::Deadline& deadline) {
  // Acquire on every load that can return true: pairs with set().
  const std::uint32_t seen = word_.load(std::memory_order_acquire);
  if ((seen & kSetBit) != 0) return true;
  // Any change of the word since `seen` means a set() happened: the only
  // other change, clear(), applies to a set flag.
  auto was_set = [&](std::uint32_t now) { return now != seen; };
  for (int i = 0; i < cd::spin_limit(); ++i) {
    if (was_set(word_.load(std::memory_order_acquire))) return true;
    cd::cpu_relax();
  }
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  bool result = true;
  while (!was_set(word_.load(std::memory_order_seq_cst))) {
    if (!cd::futex_wait(word_, seen, deadline)) {
      result = was_set(word_.load(std::memory_order_acquire));
      break;
    }
  }
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return result;
}

}  // namespace concur::threading
