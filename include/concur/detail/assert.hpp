// Checked invariants and the chaos build.
//
// CONCUR_ASSERT(condition, why) states an invariant of concur's own state:
// a state word that may only move forward, a count that may not go below
// zero. With CONCUR_ASSERTS=1 (the debug, sanitizer and chaos presets) a
// broken one prints the condition, the reason and the place, and aborts;
// otherwise it compiles to nothing (the condition is not evaluated).
//
// CONCUR_CHAOS_POINT() marks an atomic step of a lock-free structure (the
// segmented queue, the pool's inbox and deques, a future's state word, the
// scheduler's counters). With CONCUR_CHAOS=1 (the chaos preset) each one
// pauses or yields the processor at random, so that the stress tests see
// interleavings an unloaded machine almost never produces; otherwise it
// compiles to nothing.
//
// Both are set for the whole build by CMake (CONCUR_ASSERTS, CONCUR_CHAOS);
// a program must be built with the same settings as the library.
#pragma once

#ifndef CONCUR_ASSERTS
#define CONCUR_ASSERTS 0
#endif
#ifndef CONCUR_CHAOS
#define CONCUR_CHAOS 0
#endif

namespace concur::detail {
[[noreturn]] void assert_failed(const char* condition, const char* why,
                                const char* file, int line) noexcept;
void chaos_point() noexcept;
}  // namespace concur::detail

#if CONCUR_ASSERTS
#define CONCUR_ASSERT(condition, why) \
  ((condition)                        \
       ? static_cast<void>(0)         \
       : ::concur::detail::assert_failed(#condition, why, __FILE__, __LINE__))
#else
#define CONCUR_ASSERT(condition, why) static_cast<void>(sizeof(!(condition)))
#endif

#if CONCUR_CHAOS
#define CONCUR_CHAOS_POINT() ::concur::detail::chaos_point()
#else
#define CONCUR_CHAOS_POINT() static_cast<void>(0)
#endif
