// Keeping concur's own state usable across fork(): each module that keeps
// process-wide state under a lock (the thread registry, the live pools, the
// exit sequence, the child processes) registers handlers here. Before a
// fork the prepare handlers take those locks, in ForkOrder, so that no other
// thread is inside one of them at the instant of the fork; after it, the
// parent's handlers release them, and the child's bring the state in line
// with a process that has only the forking thread, then release them.
//
// Python's os.register_at_fork with the same purpose; here the order is
// fixed, since the locks nest (a pool's lock is held while a thread starts,
// which takes the thread registry's) and must be taken in one order by all.
//
// Thread safety: at_fork may be called from any thread, not from a handler.
// The handlers run for every fork() of the process, also the user's own.
#pragma once

#include <sys/types.h>

namespace concur::detail {

// The order in which prepare handlers run; parent and child handlers run
// in the reverse order.
enum class ForkOrder {
  kPools,         // the live ThreadPoolExecutors, and each one's state lock
  kChildren,      // multiprocessing's registry of child processes
  kThreads,       // threading's registry of threads and its hook lock
  kExitSequence,  // the exit sequence's handler lists
  kForkserver,    // the connection to the forkserver
  kSubprocess,    // the subprocess reaper's orphans
  kDeadlock,      // the deadlock detector's graphs (taken by every lock)
  kAsyncio,       // the forking thread's running loop and task (child only)
};

struct ForkHandlers {
  void (*prepare)() = nullptr;
  void (*parent)() = nullptr;
  void (*child)() = nullptr;
};

// Installs the handlers of one ForkOrder slot (each slot has one owner).
void at_fork(ForkOrder order, ForkHandlers handlers);

// The calling process's id without a system call (glibc no longer caches
// getpid, and a pool asks on every submit whether it was inherited): a copy
// that the child of every fork() refreshes before fork() returns there.
pid_t current_pid() noexcept;

}  // namespace concur::detail
