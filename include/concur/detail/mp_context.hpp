// Start methods (part of <concur/multiprocessing.hpp>; included by
// <concur/futures.hpp> too, for ProcessPoolOptions::mp_context).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace concur::multiprocessing {

class Process;

// Context — Python's multiprocessing context: the way child processes are
// started, for a Process (ProcessOptions::context, or ctx.Process(...)) and
// for a pool's workers (PoolOptions::context,
// ProcessPoolOptions::mp_context).
//
// "fork": the child is a fork() of the caller. It takes any callable (the
// child has the caller's memory) and starts fastest, but only the forking
// thread exists in the child: a lock another thread held at the fork stays
// held there forever (see multiprocessing.hpp).
//
// "forkserver": the child is a fork() of a server process that concur
// starts the first time it is needed, by executing this program's file
// anew (posix_spawn of /proc/self/exe, safe with any number of threads).
// The server runs no thread of the caller's and holds none of its locks,
// so a child can never inherit a lock held at the instant it starts, and
// its start time does not grow with the caller's memory. The costs: the
// target must be a plain function (or a captureless lambda) whose
// arguments are encodable (codec.hpp) or multiprocessing's own shared
// objects (queues, Connections, locks, events, conditions, Values and
// Arrays: these travel as descriptors over a Unix socket); a subclass's
// run() cannot travel (ValueError at start). The server is the program
// itself: its static initializers run in the server, as Python's
// forkserver imports the main module, but main() does not. Objects
// loaded with dlopen after startup are not in the server: their functions
// cannot be targets there. One server per process that uses it; a child of
// a forkserver child that uses forkserver starts its own.
//
// Thread safety: a value; every function below may be called from any
// thread.
class Context {
 public:
  // "fork" or "forkserver".
  std::string_view get_start_method() const noexcept;
  bool uses_forkserver() const noexcept { return forkserver_; }

  // ctx.Process(target, args...), as Python's: a Process started this way.
  template <class F, class... Args>
  multiprocessing::Process Process(F&& target, Args&&... args) const;

  friend bool operator==(const Context&, const Context&) = default;

 private:
  friend Context get_context(std::string_view method);
  explicit Context(bool forkserver) noexcept : forkserver_(forkserver) {}
  bool forkserver_;
};

// The context of `method` ("fork" or "forkserver"); empty: the default
// one, which set_start_method chooses ("fork" unless it is called).
// ValueError for any other name ("spawn" is not supported: a C++ program
// cannot be re-entered at a function the way Python imports a module).
Context get_context(std::string_view method = {});
// Chooses the default start method, once: RuntimeError ("context has
// already been set") if it was chosen or asked for before, unless `force`.
void set_start_method(std::string_view method, bool force = false);
// The default start method; fixes it ("fork") if none was chosen. With
// allow_none: empty while none was chosen, fixing nothing.
std::optional<std::string> get_start_method(bool allow_none = false);
// {"fork", "forkserver"}: the first is the default.
std::vector<std::string> get_all_start_methods();

}  // namespace concur::multiprocessing
