// concur/sys.hpp — the part of Python's `sys` module that concurrency code
// uses: exit(code), which ends the calling thread's target or a
// multiprocessing child with an exit code by unwinding it.
//
// Thread safety: any thread may call it.
//
// Differences from Python: in the main thread, SystemExit that escapes
// main() ends the program through std::terminate, not with the code;
// return the code from main() there (or catch SystemExit and do so).
#pragma once

#include "concur/errors.hpp"

namespace concur::sys {

// Throws SystemExit(code): a Thread's target ends quietly, a Process
// child ends with exitcode `code`, and the destructors on the way run.
[[noreturn]] inline void exit(int code = 0) { throw SystemExit(code); }

}  // namespace concur::sys
