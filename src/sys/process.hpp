// Child processes: reaping them and reading how they ended, the OS calls
// that multiprocessing and subprocess share.
#pragma once

#include <sys/types.h>

#include <optional>

namespace concur::sys {

// How a process ended, as Python reports it: its exit status, or minus the
// number of the signal that killed it.
int returncode_of(int wait_status) noexcept;

// Reaps child `pid` if it has ended (waiting for that when `block`), and
// returns its returncode_of; empty while it runs. Retries on EINTR; throws
// ChildProcessError when `pid` is not an unreaped child of this process
// (another part of the program reaped it, or SIGCHLD is ignored).
std::optional<int> reap(pid_t pid, bool block);

// Waits until child `pid` has ended, without reaping it (waitid with
// WNOWAIT), so that the caller can then reap it under its own lock without
// holding that lock while it waits. Returns at once if `pid` is not an
// unreaped child of this process.
void wait_ended(pid_t pid) noexcept;

// For a child just forked, which should write as few pages as it can (each
// page it first writes is copied): these make raw system calls through
// syscall(), which the parent has already bound, rather than call libc
// functions the parent never called, whose lazy binding in every child
// costs a page copy and a symbol lookup.
// Points stdin at /dev/null, as Python's children do; false if it failed.
bool stdin_from_devnull() noexcept;
// Ends the process at once with `code`, running nothing (_exit).
[[noreturn]] void exit_now(int code) noexcept;

// The threads this process has now, as the kernel counts them (every
// thread, not only those concur started); 0 if it cannot tell.
int thread_count() noexcept;

}  // namespace concur::sys
