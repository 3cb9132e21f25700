// The exit sequence: what concur's modules must do when the program exits
// normally, in Python's order, whichever module was used first. Modules
// register a handler for their stage; the public face is <concur/atexit.hpp>.
//
// Thread safety: add() may be called from any thread, also from a handler
// while the sequence runs; the sequence runs once, on the exiting thread.
#pragma once

#include <functional>

namespace concur::detail {

enum class ExitStage {
  kExecutors,  // shut down live pools; their queued work finishes
  kThreads,    // join non-daemon threads
  kAtexit,     // the user's atexit::register_ functions, last first
  kChildren,   // terminate daemon child processes, join the others
};

// Runs `handler` at normal exit, in its stage; within a stage, the last
// added runs first. Installs the sequence's std::atexit handler on first
// use.
void at_exit(ExitStage stage, std::function<void()> handler);

// The end of a multiprocessing child, which then leaves with _exit as
// Python's does: every stage runs but kAtexit, whose functions (the
// parent's, inherited through fork, and the child's own) Python's
// os._exit skips too.
void run_child_exit_sequence();

}  // namespace concur::detail
