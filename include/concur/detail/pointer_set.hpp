// PointerSet: which of a known number of pointers have been seen, for the
// calls that take each of their futures once (wait(), as_completed(),
// Python's set(fs)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace concur::detail {

// A set of non-null pointers sized once for at most `capacity` of them:
// open addressing with linear probing in a table of 1.5 slots per pointer,
// so an insert is one hash and a few probes, with no allocation per element
// (std::unordered_set allocates a node for each, which dominated wait() over
// a large batch of futures). Not thread-safe: one thread fills it.
class PointerSet {
 public:
  explicit PointerSet(std::size_t capacity)
      : slots_(capacity + capacity / 2 + 1, nullptr) {}

  // True if `p` was not in the set (and is now).
  bool insert(const void* p) {
    for (std::size_t i = slot(p);; i = i + 1 == slots_.size() ? 0 : i + 1) {
      if (slots_[i] == p) return false;
      if (slots_[i] == nullptr) {
        slots_[i] = p;
        return true;
      }
    }
  }

 private:
  // Fibonacci hashing spreads objects of one size class, a fixed stride
  // apart; the product of its top half with the size maps it onto the
  // table with no division (for tables of up to 2^32 slots).
  std::size_t slot(const void* p) const noexcept {
    const auto bits =
        static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
    const std::uint64_t hash = (bits * 0x9E3779B97F4A7C15ull) >> 32;
    const std::uint64_t size = slots_.size();
    return static_cast<std::size_t>(size >> 32 == 0 ? (hash * size) >> 32
                                                    : hash % size);
  }

  std::vector<const void*> slots_;
};

}  // namespace concur::detail
