// concur/atexit.hpp — Python's `atexit` module: functions to run when the
// program exits normally.
//
// At normal exit (return from main, or std::exit) concur runs its exit
// sequence in Python's order:
//   1. every ThreadPoolExecutor still alive is shut down and finishes its
//      queued work (Python's threading._register_atexit);
//   2. every non-daemon threading::Thread is joined (threading._shutdown);
//   3. the functions given to register_ run, the last registered first;
//   4. daemon child processes (multiprocessing::Process) are terminated,
//      and every child process is joined (multiprocessing.util's
//      _exit_function).
// A step's work may start more work for a later step, never for an earlier
// one.
//
// Thread safety: register_ may be called from any thread, also from a
// function that runs at exit (it then runs in its turn).
//
// Differences from Python: `register` is a C++ keyword, hence register_.
// The sequence is one std::atexit handler, installed by the first use of
// concur that needs it (the first Thread or Process started, pool made or
// register_ call): std::atexit handlers installed after that, and static
// objects first constructed after that, run or are destroyed before the
// sequence, as C++ orders them. An exception escaping a function is reported on
// stderr (as Python prints it) and the others still run.
#pragma once

#include <functional>

namespace concur::atexit {

// Runs `fn` at normal exit, after concur has joined its threads.
void register_(std::function<void()> fn);

}  // namespace concur::atexit
