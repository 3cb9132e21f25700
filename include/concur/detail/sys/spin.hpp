// Spinning: the short busy-wait every blocking call in concur makes before
// it parks, and the back-off for waiting out another thread's few
// instructions. The one home of both, so that every module spins the same
// way and none spins where it cannot help.
#pragma once

#include <thread>

namespace concur::sys {

// One step of a busy-wait: tells the core that this is a spin loop, which
// frees pipeline resources for the sibling hyper-thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How many times a waiter re-checks before it parks. Long enough to cover a
// short critical section on the other core (a few hundred nanoseconds),
// short enough that an oversubscribed machine loses little to it.
inline constexpr int kSpinLimit = 100;

// Set once, at start-up (src/sys/cpu.cpp).
extern const int process_spin_limit;

// kSpinLimit, or 0 when the process may run on one CPU only: there the
// thread that would end the wait cannot run while we spin, so spinning
// only delays it. Read once, from the process's CPU set at start-up;
// inline, since every wait in a fork-join tree asks.
inline int spin_limit() noexcept { return process_spin_limit; }

// Calls ready() up to `spins` times, pausing between calls, until it
// returns true; returns its last answer. The spin half of every
// spin-then-park wait in concur (the park half is the caller's futex
// protocol, or EventCount::await).
template <class Ready>
bool spin_until(Ready&& ready, int spins = spin_limit()) {
  for (int i = 0; i < spins; ++i) {
    if (ready()) return true;
    cpu_relax();
  }
  return ready();
}

// Calls ready() after 1, 2, 4, ..., 2^(kBackoffLooks - 1) pauses until it
// returns true; returns its last answer. The spin of a contended lock: few
// looks, so that the spinner seldom pulls the cache line away from a holder
// that releases and re-acquires it (a look after every pause, as
// spin_until does, made two threads sharing a counter 10-30% slower than
// with std::mutex, which does not spin at all), and a few microseconds in
// all, so that spinning on a holder that was descheduled, which only a
// wake-up ends, costs little. No spin where spin_limit() is 0 (one CPU).
inline constexpr int kBackoffLooks = 7;
template <class Ready>
bool spin_backoff_until(Ready&& ready) {
  if (spin_limit() == 0) return ready();
  for (int look = 0; look < kBackoffLooks; ++look) {
    for (int i = 0; i < (1 << look); ++i) cpu_relax();
    if (ready()) return true;
  }
  return false;
}

// Calls ready() up to `looks` times, kSpacedGap pauses apart, until it
// returns true; returns its last answer. The spin of a side waiting for
// the other across processes (a shared-memory queue's consumer waiting for
// its producer): each look pulls the cache line the other side writes, so
// looks far apart let it write many items per transfer (a look after
// every pause made a queue between two processes twice as slow); and the
// wait is longer in all than spin_until's, since the futex sleep it saves
// costs both sides tens of microseconds. The price is latency: an item
// that arrives at an empty queue waits up to one gap (about 3 us). No spin
// where spin_limit() is 0 (one CPU).
inline constexpr int kSpacedGap = 128;
template <class Ready>
bool spin_spaced_until(Ready&& ready, int looks) {
  if (spin_limit() == 0) return ready();
  for (int look = 0; look < looks; ++look) {
    if (ready()) return true;
    for (int i = 0; i < kSpacedGap; ++i) cpu_relax();
  }
  return ready();
}

// As spin_until, for a step that returns an optional (an item taken from a
// queue): its first engaged value, or an empty one.
template <class Take>
auto spin_take(Take&& take, int spins = spin_limit()) -> decltype(take()) {
  for (int i = 0; i < spins; ++i) {
    if (auto value = take()) return value;
    cpu_relax();
  }
  return take();
}

// Waits for another thread that is in the middle of a short step (writing
// a slot, linking a block): spins with growing pauses, then yields, because
// if that thread was preempted only giving up the processor lets it finish.
class Backoff {
 public:
  void pause() noexcept {
    if (step_ < kYieldStep) {
      for (int i = 0; i < (1 << step_); ++i) cpu_relax();
      ++step_;
    } else {
      std::this_thread::yield();
    }
  }

 private:
  // 2^0 + ... + 2^5 = 63 pauses (a few microseconds) before yielding.
  static constexpr int kYieldStep = 6;
  int step_ = 0;
};

}  // namespace concur::sys
