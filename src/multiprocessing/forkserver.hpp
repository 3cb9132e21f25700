// The forkserver: a process started from this program's file anew, which
// forks the children of the "forkserver" start method (mp_context.hpp).
//
// One server per process that uses it, started at the first request. A
// request carries the child's encoded description and descriptors (its
// stdout, stderr, the write end of its status pipe, then those of its
// arguments); the server forks, answers with the child's pid and a pidfd
// of it, reaps it when it ends and writes its returncode to the status
// pipe. The server ends when the connection to it closes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <vector>

#include "sys/fd.hpp"

namespace concur::multiprocessing_detail {

// The descriptors every request begins with.
inline constexpr std::size_t kRequestStdout = 0;
inline constexpr std::size_t kRequestStderr = 1;
inline constexpr std::size_t kRequestStatus = 2;
inline constexpr std::size_t kRequestFds = 3;

struct ServerChild {
  pid_t pid;
  sys::FileDescriptor pidfd;  // empty where the kernel lacks pidfds
};

// Has the forkserver fork a child for `request` with `fds` (request
// descriptors first). Thread safe; starts the server if it is not running.
// Throws OSError if the server cannot be started or cannot fork.
ServerChild spawn_from_server(std::span<const std::byte> request,
                              std::span<const int> fds);

// In a child the server forked, with one thread: becomes the process that
// `request` describes and runs its target, with `fds` (the request's
// descriptors, stdio already in place); never returns. (process.cpp)
[[noreturn]] void run_server_child(std::span<const std::byte> request,
                                   std::vector<int> fds);

}  // namespace concur::multiprocessing_detail
