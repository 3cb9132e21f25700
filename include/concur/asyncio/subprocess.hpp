// concur/asyncio/subprocess.hpp — child processes with stream pipes on the
// event loop (Python's asyncio.subprocess): create_subprocess_exec,
// create_subprocess_shell, Process.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "concur/asyncio/streams.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/subprocess.hpp"

namespace concur::asyncio {
class Process;
}  // namespace concur::asyncio

namespace concur::asyncio_detail {
struct ProcessState;
asyncio::Process start_process(const subprocess::Args& args,
                               const subprocess::Options& options,
                               std::size_t limit);
}  // namespace concur::asyncio_detail

namespace concur::asyncio {

// Python's asyncio.subprocess.PIPE, DEVNULL and STDOUT.
using subprocess::DEVNULL;
using subprocess::PIPE;
using subprocess::STDOUT;

// ---------------------------------------------------------------------------
// Process — a child started by create_subprocess_exec or _shell (Python's
// asyncio.subprocess.Process).
//
// stdin is a StreamWriter and stdout and stderr are StreamReaders where
// the options asked for a PIPE; nullopt otherwise (Python's None). The
// loop learns of the child's end through a pidfd (or, on a kernel without
// pidfds, by polling), reaps it, and sets returncode; wait() and
// communicate() never block the loop. A handle: copies refer to one child.
// The last handle to go closes the pipes; a child still running then is
// reaped by subprocess's reaper, so no zombie is left. Belongs to the
// loop's thread, like the streams.
class Process {
 public:
  Process() = default;

  std::optional<StreamWriter> stdin;
  std::optional<StreamReader> stdout;
  std::optional<StreamReader> stderr;

  pid_t pid() const;
  // Empty while the child runs (or has ended unnoticed by the loop); minus
  // the signal number when a signal killed it.
  std::optional<int> returncode() const;
  // Waits for the child to end; returns the returncode. With stdout or
  // stderr a pipe, a child that writes more than the pipe holds waits
  // for a reader: use communicate() (as Python warns).
  Task<int> wait();
  // Writes `input` (if any) to stdin and closes it, reads stdout and stderr
  // to their end, all at once, then waits for the child; gives both
  // outputs (empty for a stream that is not a pipe). A child that stops
  // reading its input early is no error (the rest is dropped). `input` must
  // outlive the task. ValueError for input without a stdin pipe. Cancel it
  // with wait_for or timeout; the child goes on running.
  Task<std::pair<std::string, std::string>> communicate(
      std::optional<std::string_view> input = std::nullopt);

  // No effect once the child has been reaped, so a recycled pid is never
  // hit.
  void send_signal(int signum);
  void terminate();  // SIGTERM
  void kill();       // SIGKILL

 private:
  friend Process asyncio_detail::start_process(const subprocess::Args&,
                                               const subprocess::Options&,
                                               std::size_t);
  // RuntimeError for a default-made Process.
  asyncio_detail::ProcessState& state() const;
  std::shared_ptr<asyncio_detail::ProcessState> s_;
};

// Starts `args` (a program found through PATH, and its arguments) as a
// child of the running loop's thread, with subprocess::Options for its
// streams and the rest of Popen's settings; `limit` is the StreamReaders'
// buffer limit.
//
// Differences from Python: not awaited — the child is running when it
// returns, since a concur launch (a vfork-like clone) takes microseconds
// and waits for nothing the loop could serve meanwhile; this keeps the
// command's temporaries out of a co_await, which g++ 12 mishandles.
// OSError (FileNotFoundError, ...) if the program cannot be started;
// ValueError for options that belong to run() (input, capture_output,
// timeout, check), for text (Python: "text must be False") or shell;
// RuntimeError without a running loop.
Process create_subprocess_exec(const subprocess::Args& args,
                               const subprocess::Options& options = {},
                               std::size_t limit = kDefaultStreamLimit);
// Runs `cmd` through /bin/sh -c; otherwise as create_subprocess_exec.
Process create_subprocess_shell(std::string_view cmd,
                                const subprocess::Options& options = {},
                                std::size_t limit = kDefaultStreamLimit);

}  // namespace concur::asyncio
