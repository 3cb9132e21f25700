// concur/deadlock.hpp — the deadlock detector's controls. Python has no
// such module; the locks it watches stay where they are (threading.hpp).
//
// The detector watches every Lock, RLock and Condition lock:
//   * Lock order. When a thread takes lock B while it holds lock A (a
//     blocking or timed acquisition; a non-blocking one cannot wait, so it
//     orders nothing), the edge A -> B joins a graph of the orders seen so
//     far. An edge that closes a cycle is a *potential* deadlock, reported
//     whether or not this run hung: two threads taking the cycle's locks
//     at the wrong moment would wait for each other for ever.
//   * Waits. A thread that has slept 1 ms waiting for a lock follows the
//     chain: the lock's holder, the lock that holder waits for, its holder,
//     and so on. A chain that comes back to the thread is a deadlock now.
//     In raise mode that thread gets DeadlockError instead of sleeping on,
//     and the others go on once it lets go of its locks, as a database's
//     lock manager breaks a deadlock. Waits with a timeout longer than 1 ms
//     take part too. (A deadlocked wait never ends, so waiting 1 ms before
//     looking loses nothing, and the short sleeps of a busy lock cost the
//     detector nothing.)
//   * Misuse: releasing a lock that is not held, destroying a held lock,
//     joining the current thread, and a thread that ends holding a lock.
//   * A task of a ThreadPoolExecutor that waits for its own future (or for
//     a task that runs beneath it on the same worker): it could never end,
//     so in raise mode that wait throws DeadlockError.
//
// Each finding is reported once, through the handler (stderr by default),
// naming each lock (its name, else where it was constructed), each thread
// and where each acquisition or wait happened.
//
// The mode is read once from the environment variable CONCUR_DEADLOCK
// (report, raise or abort; anything else is off) unless set_mode() was
// called first. Off costs a relaxed load and a branch per acquire and
// release; building with CONCUR_DEADLOCK_DETECTION=0 removes even that.
// On, an acquisition whose lock-order edges the thread has seen before
// takes no global lock and writes only to the lock and the thread's own
// records; a new edge, a new lock and a wait past 1 ms take the
// detector's mutex (bench/deadlock_bench.cpp measures each).
//
// What the detector does not see: locks taken while it was off (their
// release is not a misuse), and a Lock used as a signal (taken by one
// thread and released by another, as Python allows): from the first such
// release on, that lock leaves both graphs, since it has no owner to wait
// for. A wait that closes a cycle through such a lock before that first
// release is reported as a deadlock.
//
// Thread safety: every function here may be called from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>
#include "concur/detail/call_site.hpp"

#include "concur/errors.hpp"

namespace concur::deadlock {

enum class Mode {
  kOff,     // watch nothing
  kReport,  // report each finding and go on
  kRaise,   // report; a wait that closes a cycle throws DeadlockError
  kAbort,   // report the first finding and abort the process
};

// The mode in force (read from CONCUR_DEADLOCK on the first call of
// anything here or the first lock operation, unless set before).
Mode mode() noexcept;
// Locks acquired before detection was turned on are unknown to it.
void set_mode(Mode mode) noexcept;

enum class Finding {
  kLockOrderCycle,     // a potential deadlock
  kDeadlock,           // threads waiting for each other now
  kReleaseUnheld,      // releasing a lock that is not held
  kDestroyHeld,        // destroying a lock that is held
  kThreadEndsHolding,  // a thread ended holding a lock
  kJoinSelf,           // a thread joining itself
  kWaitOnOwnFuture,    // a pool's task waiting for its own future
};

// One link of a cycle: `thread` holds `held` (taken at `held_at`) and takes,
// or waits for, `wanted` at `wanted_at`. Sites are "file:line".
struct Link {
  std::string thread;
  std::string held;
  std::string held_at;
  std::string wanted;
  std::string wanted_at;
};

struct Report {
  Finding finding;
  std::vector<Link> cycle;  // empty for a misuse
  std::string message;      // the whole report, as printed
};

using Handler = std::function<void(const Report&)>;

// Replaces the handler (an empty one restores printing to stderr) and
// returns the previous one. It runs outside the detector's lock, in the
// thread that found the problem; locks it takes are not watched.
Handler set_handler(Handler handler);

}  // namespace concur::deadlock
