// Starting a program in a new process without copying this one: a child
// made with clone(CLONE_VM | CLONE_VFORK) runs on this process's memory,
// sets up what the plan names with raw system calls only, and executes the
// program. Its cost does not grow with the parent's memory, and no code of
// the parent (no handler, no lock, no allocator) runs in the child.
//
// It does what posix_spawn does, plus what posix_spawn cannot: a umask, a
// report of which step failed (a missing cwd is not a missing program),
// and streams whose sources are 0, 1 or 2 in any arrangement.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace concur::sys {

// What the child does between its start and the program's, in this order:
// session or process group, streams, pass_fds, close_fds, cwd, umask,
// exec. Every pointer must stay valid until spawn() returns.
struct SpawnPlan {
  // The source of each of the child's 0, 1, 2: a descriptor of the parent,
  // kInherit (the parent's own stream) or kChildStdout (for 2: whatever 1
  // has become).
  static constexpr int kInherit = -1;
  static constexpr int kChildStdout = -2;

  const char* file = nullptr;  // a path: no PATH search here
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  int streams[3] = {kInherit, kInherit, kInherit};
  bool new_session = false;
  pid_t process_group = -1;  // setpgid(0, it) unless negative
  // Descriptors above 2 the child keeps (close-on-exec cleared), sorted.
  // A pointer and a count, not a span: the child may call no function,
  // and a span's members are functions at -O0.
  const int* pass_fds = nullptr;
  std::size_t pass_fd_count = 0;
  // Every other descriptor above 2 is closed.
  bool close_fds = true;
  const char* cwd = nullptr;  // null: the parent's
  int umask = -1;             // negative: the parent's
};

// The step of the plan that failed in the child.
enum class SpawnStep : int {
  kNone,
  kSession,
  kStreams,
  kPassFds,
  kCloseFds,
  kCwd,
  kExec,
};

struct SpawnResult {
  pid_t pid = -1;  // the child, running the program; -1 if it failed
  SpawnStep failed = SpawnStep::kNone;
  int error = 0;  // the errno of the failed step
};

// Starts the plan's program. The child starts with an empty signal mask
// and with every caught signal, SIGPIPE and SIGXFSZ back at their default
// (Python's restore_signals); ignored ones stay ignored. A child that
// failed has been reaped when this returns. Throws OSError only when the
// child could not be created at all. Safe from any number of threads.
SpawnResult spawn(const SpawnPlan& plan);

}  // namespace concur::sys
