// concur/detail/deadlock_hooks.hpp — what each lock tells the deadlock
// detector (concur/deadlock.hpp): that it was taken, is about to be given
// up, or that a thread is about to sleep waiting for it.
//
// A lock embeds one LockTracker. While the detector is off, each hook is a
// relaxed load of one global and a branch that is not taken; built with
// CONCUR_DEADLOCK_DETECTION=0, the tracker is empty and the hooks vanish.
#pragma once

#include <atomic>

#include "concur/detail/call_site.hpp"

#include "concur/deadlock.hpp"

#ifndef CONCUR_DEADLOCK_DETECTION
#define CONCUR_DEADLOCK_DETECTION 1
#endif

namespace concur::deadlock_detail {

// The detector's state word: 0 off, else on in some mode, or not yet read
// from the environment (which the first hook then does).
extern std::atomic<int> state_word;

inline bool active() noexcept {
#if CONCUR_DEADLOCK_DETECTION
  // Relaxed: a mode is a setting, not a hand-off of data. A thread that
  // sees a change late misses (or tracks) a few more acquisitions, which
  // the detector allows for: it only trusts what it saw itself.
  return state_word.load(std::memory_order_relaxed) != 0;
#else
  return false;
#endif
}

struct Node;
struct ThreadRecord;

#if CONCUR_DEADLOCK_DETECTION

// One lock's identity in the detector: its name or its construction site,
// and its node in the lock-order graph, made when the detector first sees
// the lock taken. Thread safety: the hooks may run in any thread at once.
class LockTracker {
 public:
  constexpr explicit LockTracker(const char* name,
                                 concur::detail::CallSite site) noexcept
      : name_(name), site_(site) {}
  LockTracker(const LockTracker&) = delete;
  LockTracker& operator=(const LockTracker&) = delete;
  ~LockTracker() {
    if (node_.load(std::memory_order_relaxed) != nullptr) forget();
  }

  // After the lock was taken at `where`. `ordered`: the acquisition could
  // have waited (it adds lock-order edges); a non-blocking one does not.
  void acquired(concur::detail::CallSite where, bool ordered);
  // Before the lock is given up, by whichever thread gives it up.
  void releasing() noexcept;
  // Before the calling thread sleeps waiting for the lock. In raise mode,
  // throws DeadlockError when the sleep would close a cycle of waits,
  // unless `may_raise` is false (a Condition taking its lock back).
  void before_park(concur::detail::CallSite where, bool may_raise);
  // After that sleep, taken or not.
  void after_park() noexcept;

  const char* name() const noexcept { return name_; }
  concur::detail::CallSite site() const noexcept { return site_; }

 private:
  Node* node();
  // The node, when the detector watches this thread and this lock (a lock
  // used as a signal is not watched); sets `self` to the thread's record.
  Node* watched_node(ThreadRecord*& self);
  void forget() noexcept;

  const char* const name_;
  const concur::detail::CallSite site_;
  // The thread holding the lock, as far as the detector knows. Kept in
  // the lock, beside the word its holder has just taken, so that recording
  // a hold moves no other cache line between cores. Written by the holder;
  // relaxed: the detector's walkers read it under its mutex, after the
  // holder published its own wait there (see detector.cpp).
  std::atomic<ThreadRecord*> holder_{nullptr};
  // Acquire/release: the node is built before it is published here, and a
  // thread that finds it reads it whole.
  std::atomic<Node*> node_{nullptr};
};

#else

class LockTracker {
 public:
  constexpr explicit LockTracker(const char*,
                                 concur::detail::CallSite) noexcept {}
  void acquired(concur::detail::CallSite, bool) {}
  void releasing() noexcept {}
  void before_park(concur::detail::CallSite, bool) {}
  void after_park() noexcept {}
  const char* name() const noexcept { return nullptr; }
  concur::detail::CallSite site() const noexcept { return {}; }
};

#endif

// A misuse found outside the graph (releasing a lock nobody holds, joining
// oneself, destroying a held lock): reported in report and abort mode; the
// caller then raises its own error, as it does with the detector off.
void report_misuse(deadlock::Finding finding, const char* what,
                   concur::detail::CallSite where) noexcept;

// A task of a thread pool about to wait for its own future (or for a task
// it runs nested inside): reported, and in raise mode DeadlockError is
// thrown instead of a wait that could never end.
void report_wait_on_own_future();

// At the end of a concur Thread's run, before join() can return: reports
// the locks the thread still holds. (Other threads are seen at their exit.)
void thread_ending() noexcept;

}  // namespace concur::deadlock_detail
