#include "concur/detail/assert.hpp"

#include <sched.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "concur/detail/sys/spin.hpp"

namespace concur::detail {

void assert_failed(const char* condition, const char* why, const char* file,
                   int line) noexcept {
  std::fprintf(stderr, "concur: invariant broken at %s:%d: %s (%s)\n", file,
               line, why, condition);
  std::abort();
}

void chaos_point() noexcept {
  // A per-thread xorshift: no shared state, so the chaos itself adds no
  // synchronisation that could hide a race.
  thread_local std::uint64_t state =
      0x9e3779b97f4a7c15u ^ reinterpret_cast<std::uintptr_t>(&state);
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  const std::uint64_t r = state;
  if ((r & 15) == 0) {
    sched_yield();  // 1 in 16: let another thread run here
  } else if ((r & 3) == 0) {
    // 1 in 4 of the rest: stall for up to 64 pauses.
    for (std::uint64_t i = 0; i < ((r >> 8) & 63); ++i) sys::cpu_relax();
  }
}

}  // namespace concur::detail
