// concur/multiprocessing.hpp — Python's `multiprocessing` module for C++20:
// processes, and what they share.
//
// A Process runs a callable in a child process made with fork(): the child
// starts with a copy of the parent's memory, so the callable may be any
// callable with any arguments, as with Python's "fork" start method (the
// default on Linux before Python 3.14). The child shares nothing with the
// parent afterwards; values cross between processes through the IPC types
// of this header.
//
// Conventions shared by every class here are threading's (threading.hpp):
// the three blocking forms, bool on timeout where Python returns one,
// ValueError for a negative timeout, RuntimeError for a call the object's
// state does not allow (where Python raises AssertionError, since C++ has
// no assert statement that survives NDEBUG). Every handle may be used from
// many threads at once.
//
// fork() and threads: only the forking thread exists in the child. concur
// keeps its own state usable there: its internal locks are released, the
// parent's other threads count as ended (joining them returns), and a
// ThreadPoolExecutor inherited from the parent is broken in the child: its
// submit raises BrokenThreadPool, and its shutdown and destructor return at
// once; futures that were pending at the fork stay pending in the child.
// What concur cannot protect is other code's locks (the C library's,
// another library's) held by a thread at the instant of the fork: so, as
// Python 3.12 does, Process::start() warns on stderr when the process has
// other threads (set_fork_warning(false) turns it off).
//
// The child's end, as Python's: run() returns (exitcode 0), calls
// sys::exit(n) (exitcode n), or throws (exitcode 1, with "Process NAME:" and
// the error on stderr); then the child runs the exit sequence without the
// atexit functions (it shuts down its pools, joins its non-daemon threads
// and children) and leaves with _exit, flushing stdio but running no
// static destructors of the parent's program. The child's stdin reads from
// /dev/null. A signal that kills it gives exitcode -signum.
//
// At normal exit of the parent (atexit.hpp's last stage) daemon children
// are terminated and every child is joined, as Python does. A Process
// object may be destroyed while its child runs: the child is still reaped,
// by active_children(), the next start() or the exit sequence, so no
// zombie outlives the program.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/sys/deadline.hpp"
#include "concur/errors.hpp"
#include "concur/os.hpp"
#include "concur/threading.hpp"

namespace concur::multiprocessing {

class Process;

struct ProcessOptions {
  std::string name{};            // empty: "Process-N" ("Process-1:N" in a
                                 // child's children, as Python names them)
  std::optional<bool> daemon{};  // empty: the creating process's flag
};

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {
struct ProcessState;
template <class F, class... Args>
concept Target =
    !std::is_base_of_v<multiprocessing::Process, std::decay_t<F>> &&
    !std::is_same_v<std::decay_t<F>, multiprocessing::ProcessOptions> &&
    std::is_invocable_v<std::decay_t<F>&, std::decay_t<Args>&...>;
}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

// ---------------------------------------------------------------------------
// Process — Python's multiprocessing.Process: a callable run in a child
// process, or a subclass that overrides run().
//
// A Process is a handle: copies refer to the same process. Thread safety:
// every member may be called from any thread; join() from several threads
// at once returns in each when the child ends, and the child is reaped
// exactly once.
//
// The object whose run() a subclass overrides may be destroyed once
// start() returns: the child runs its own copy.
class Process {
 public:
  // A process with no target: run() does nothing unless overridden.
  Process();
  explicit Process(ProcessOptions options);
  template <class F, class... Args>
  requires multiprocessing_detail::Target<F, Args...>
  explicit Process(F&& target, Args&&... args)
      : Process(ProcessOptions{},
                threading_detail::bind_call(std::forward<F>(target),
                                            std::forward<Args>(args)...)) {}
  template <class F, class... Args>
  requires multiprocessing_detail::Target<F, Args...> Process(
      ProcessOptions options, F&& target, Args&&... args)
      : Process(std::move(options),
                threading_detail::bind_call(std::forward<F>(target),
                                            std::forward<Args>(args)...)) {}
  Process(const Process& other) noexcept;
  Process& operator=(const Process& other) noexcept;
  virtual ~Process();

  // Forks the child, which calls run(). Throws RuntimeError if started
  // before, if this object was made in another process, or from a daemon
  // process; OSError if fork fails; ValueError once closed.
  void start();
  // Waits until the child ends and reaps it. RuntimeError before start()
  // and for a process that is not a child of the caller.
  void join() { static_cast<void>(join_until(sys::Deadline::never())); }
  // Waits at most `timeout`; returns whether the child has ended. (Python
  // returns None; test exitcode() there.)
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return join_until(sys::Deadline::after(timeout));
  }
  // From start() until the child ends; the current process is alive.
  bool is_alive();
  // SIGTERM / SIGKILL to the child; nothing once it has been reaped, so a
  // later process that reuses the pid is never signalled.
  void terminate();
  void kill();
  // Releases the process's resources (its sentinel). ValueError while the
  // child runs; every later call but close() throws ValueError.
  void close();

  // Empty until the child has ended (reaping it if it has); then its exit
  // status, or minus the signal that ended it.
  std::optional<int> exitcode();
  // The child's process id; empty before start().
  std::optional<pid_t> pid() const;
  std::optional<pid_t> ident() const { return pid(); }
  // A descriptor that becomes readable when the child ends, for poll or
  // epoll (a pidfd, or a pipe on kernels before 5.3). Owned by the
  // Process: valid until close(). ValueError before start().
  int sentinel() const;

  std::string name() const;
  void set_name(std::string name);
  bool daemon() const;
  // RuntimeError once started.
  void set_daemon(bool daemon);

  friend bool operator==(const Process& a, const Process& b) noexcept {
    return a.state_ == b.state_;
  }

 protected:
  // What the child does. The default calls the target, if any.
  virtual void run();
  Process(ProcessOptions options,
          std::unique_ptr<threading_detail::Callable> target);

 private:
  friend struct multiprocessing_detail::ProcessState;
  friend Process current_process();
  friend std::optional<Process> parent_process();
  friend std::vector<Process> active_children();

  explicit Process(
      std::shared_ptr<multiprocessing_detail::ProcessState> state) noexcept;
  bool join_until(const sys::Deadline& deadline);
  void signal(int signum);
  void let_go() noexcept;

  std::shared_ptr<multiprocessing_detail::ProcessState> state_;
};

// The process that calls it: "MainProcess" in the program's own process,
// the Process object that was started in a child.
Process current_process();
// The process that started this one (name, pid, is_alive, join, sentinel);
// empty in the main process. Its exitcode() stays empty: only its own
// parent can reap it.
std::optional<Process> parent_process();
// The children of this process that are still running; those that ended
// are reaped on the way.
std::vector<Process> active_children();

// CPUs in the system, and those this process may run on (its affinity).
inline std::size_t cpu_count() noexcept { return os::cpu_count(); }
inline std::size_t process_cpu_count() noexcept {
  return os::process_cpu_count();
}

// Whether Process::start() warns when forking a process that has other
// threads (on by default, as Python 3.12's DeprecationWarning). Returns the
// previous setting.
bool set_fork_warning(bool enabled) noexcept;

}  // namespace concur::multiprocessing
