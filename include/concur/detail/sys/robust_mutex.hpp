// A mutex in memory that several processes map, which survives the death of
// its holder: pthread's robust, process-shared mutex. When the holder dies
// (killed at any instant, even inside lock or unlock), the kernel's robust
// futex list marks the mutex and wakes a waiter, before the dead process is
// even reaped; that waiter acquires it with kOwnerDied, repairs the state
// the mutex guards, and calls mark_consistent() before unlocking.
//
// Thread safety: every member may be called from any thread of any process
// that maps the object. Construct it once, in place, in the shared memory,
// before other processes use it; it needs no destruction (the memory goes
// with the last mapping).
#pragma once

#include <pthread.h>

#include "concur/detail/sys/deadline.hpp"

namespace concur::sys {

class RobustMutex {
 public:
  enum class Result {
    kAcquired,
    // Acquired, from a holder that died: repair, then mark_consistent().
    kOwnerDied,
    kTimedOut,
  };

  RobustMutex() noexcept;
  RobustMutex(const RobustMutex&) = delete;
  RobustMutex& operator=(const RobustMutex&) = delete;

  // Waits until the mutex is acquired or `deadline` passes.
  Result lock(const Deadline& deadline) noexcept;
  // kTimedOut if another thread or process holds it.
  Result try_lock() noexcept;
  // After kOwnerDied, once the guarded state is whole again. Without it,
  // the next unlock makes the mutex unusable for good, as POSIX says.
  void mark_consistent() noexcept;
  void unlock() noexcept;

 private:
  pthread_mutex_t mutex_;
};

}  // namespace concur::sys
