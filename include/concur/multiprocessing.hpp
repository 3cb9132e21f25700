// concur/multiprocessing.hpp — Python's `multiprocessing` module for C++20:
// processes, and what they share.
//
// A Process runs a callable in a child process made with fork(): the child
// starts with a copy of the parent's memory, so the callable may be any
// callable with any arguments, as with Python's "fork" start method (the
// default on Linux before Python 3.14). The "forkserver" start method
// (get_context, set_start_method: detail/mp_context.hpp) starts children
// from a server process instead, which holds none of the caller's locks.
// The child shares nothing with the parent afterwards; values cross
// between processes through the IPC types of this header.
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
//
// Pool (detail/mp_pool.hpp) is Python's Pool over ProcessPoolExecutor's
// workers: its tasks are plain functions with encodable arguments, since
// they are sent to worker processes that were forked before the call.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/codec.hpp"
#include "concur/detail/mp_context.hpp"
#include "concur/detail/mp_transfer.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/errors.hpp"
#include "concur/os.hpp"
#include "concur/threading.hpp"

namespace concur::multiprocessing {

// The base of multiprocessing's own errors (Python's ProcessError).
CONCUR_DEFINE_ERROR(ProcessError, Error);

// recv_bytes_into() was given a buffer too small for the message; the
// message is in message() (Python's BufferTooShort, whose args[0] it is).
class BufferTooShort : public ProcessError {
 public:
  explicit BufferTooShort(std::vector<std::byte> message)
      : ProcessError("buffer too small for a message of " +
                     std::to_string(message.size()) + " bytes"),
        message_(std::move(message)) {}
  CONCUR_ERROR_TYPE_NAME(BufferTooShort)
  const std::vector<std::byte>& message() const noexcept { return message_; }

 private:
  std::vector<std::byte> message_;
};

class Process;

struct ProcessOptions {
  std::string name{};            // empty: "Process-N" ("Process-1:N" in a
                                 // child's children, as Python names them)
  std::optional<bool> daemon{};  // empty: the creating process's flag
  // How the child is started (mp_context.hpp); empty: the default context
  // at start().
  std::optional<Context> context{};
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
                multiprocessing_detail::bind_target(
                    std::forward<F>(target), std::forward<Args>(args)...)) {}
  template <class F, class... Args>
  requires multiprocessing_detail::Target<F, Args...> Process(
      ProcessOptions options, F&& target, Args&&... args)
      : Process(std::move(options),
                multiprocessing_detail::bind_target(
                    std::forward<F>(target), std::forward<Args>(args)...)) {}
  Process(const Process& other) noexcept;
  Process& operator=(const Process& other) noexcept;
  virtual ~Process();

  // Starts the child, which calls run(): forked from this process, or from
  // the forkserver (ProcessOptions::context). Throws RuntimeError if
  // started before, if this object was made in another process, or from a
  // daemon process; OSError if the child cannot be made; ValueError once
  // closed, and for a forkserver child whose target cannot travel there
  // (mp_context.hpp).
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
  // epoll (a pidfd, or a pipe on kernels before 5.3; for a forkserver
  // child, the pipe the server writes its end to). Owned by the Process:
  // valid until close(). ValueError before start().
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
          std::unique_ptr<multiprocessing_detail::ProcessTarget> target);

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

template <class F, class... Args>
Process Context::Process(F&& target, Args&&... args) const {
  return multiprocessing::Process(ProcessOptions{.context = *this},
                                  std::forward<F>(target),
                                  std::forward<Args>(args)...);
}

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

// ---------------------------------------------------------------------------
// Connection — Python's multiprocessing.connection.Connection: one end of a
// Pipe, carrying whole messages between processes (or threads): bytes
// (send_bytes, recv_bytes) or encoded values (send, recv<T>; see
// codec.hpp for what can be encoded).
//
// Thread safety: every member but close() may be called from many threads
// at once: messages sent together never interleave, and each recv takes
// one whole message. (Python's Connection is not safe so.) close() must not
// race with other calls on the same end, as closing any descriptor must
// not; a blocked recv learns of the peer's close as EOFError.
//
// Differences from Python: recv<T>() names the type it expects, and a
// message that holds another type raises TypeError naming both (the wire
// carries the type's fingerprint); a message that is not a valid encoding
// raises ValueError or EOFError, never undefined behaviour. Messages are
// framed by an 8-byte length, so none is too large to send. Writing to a
// connection whose reader has gone raises BrokenPipeError: the first Pipe()
// ignores SIGPIPE unless the program chose its own disposition for it, as
// Python does at startup.
class Connection {
 public:
  static constexpr std::size_t kUnlimited =
      std::numeric_limits<std::size_t>::max();

  // A closed connection.
  Connection() noexcept;
  // Takes over descriptor `fd` (a pipe end or a stream socket).
  Connection(int fd, bool readable, bool writable);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  void send_bytes(std::span<const std::byte> data);
  void send_bytes(std::string_view text) {
    send_bytes(std::as_bytes(std::span(text.data(), text.size())));
  }
  // The next message. EOFError once the peer has closed and nothing is
  // left; OSError ("bad message length") for a message longer than
  // `maxlength`, after which the connection is unusable, as in Python.
  std::vector<std::byte> recv_bytes(std::size_t maxlength = kUnlimited);
  // The next message, into `buffer`; returns its length. BufferTooShort
  // (holding the message) if it does not fit.
  std::size_t recv_bytes_into(std::span<std::byte> buffer);

  // Encodes `obj` with its type's fingerprint and sends it as one message.
  template <codec::Encodable T>
  void send(const T& obj) {
    codec::Buffer buffer;
    codec::Writer writer(buffer);
    codec::encode_tagged(writer, obj);
    send_bytes(buffer.bytes());
  }
  // Receives one message holding a T. TypeError if it holds another type;
  // ValueError or EOFError if it is not a whole, valid encoding.
  template <codec::Encodable T>
  T recv() {
    std::optional<T> value;
    receive_with(
        [](void* out, std::span<const std::byte> message) {
          codec::Reader reader(message);
          static_cast<std::optional<T>*>(out)->emplace(
              codec::decode_tagged<T>(reader));
          if (reader.remaining() != 0) {
            throw ValueError("codec: " + std::to_string(reader.remaining()) +
                             " bytes left after a whole value in a message");
          }
        },
        &value);
    return std::move(*value);
  }

  // Whether a message (or the end of file) is waiting: poll() returns at
  // once, poll(timeout) waits at most that long.
  bool poll() {
    return poll_until(sys::Deadline::after(std::chrono::seconds(0)));
  }
  template <class Rep, class Period>
  bool poll(std::chrono::duration<Rep, Period> timeout) {
    return poll_until(sys::Deadline::after(timeout));
  }

  void close() noexcept;
  bool closed() const noexcept { return fd_ < 0; }
  bool readable() const noexcept { return readable_; }
  bool writable() const noexcept { return writable_; }
  // The descriptor; OSError once closed.
  int fileno() const;

 private:
  struct Locks;
  void check(bool readable_side) const;
  bool poll_until(const sys::Deadline& deadline);
  // Receives one message under the receive lock and hands it to `consume`
  // while the lock is held (the bytes live in this connection's buffer).
  void receive_with(void (*consume)(void*, std::span<const std::byte>),
                    void* context);
  // Under the receive lock.
  std::uint64_t read_header(std::size_t maxlength);
  void read_payload(std::span<std::byte> into);
  void read_payload(std::uint64_t length, std::vector<std::byte>& into);

  int fd_ = -1;
  bool readable_ = false;
  bool writable_ = false;
  bool broken_ = false;
  std::unique_ptr<Locks> locks_;
};

// Python's multiprocessing.Pipe: two connected Connections. Duplex (the
// default), both ends send and receive (a Unix stream socket pair);
// otherwise the first end only receives and the second only sends (a
// pipe, of 1 MiB where the system allows, so that messages of 64 KiB and
// more go through without a wake-up per 64 KiB). Both descriptors are
// close-on-exec.
std::pair<Connection, Connection> Pipe(bool duplex = true);

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {
// A Connection travels to a forkserver child as its descriptor.
CONCUR_MP_DECLARE_TRANSFER(Connection);
}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

namespace connection {
// Python's multiprocessing.connection.wait: the connections among
// `connections` that have a message or end of file waiting, after at most
// `timeout` (empty: no limit); empty when the time ran out.
std::vector<Connection*> wait(
    std::span<Connection* const> connections,
    std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
// The same for descriptors, such as Process::sentinel().
std::vector<int> wait(
    std::span<const int> fds,
    std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
}  // namespace connection

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

// The rest of the module, in the order they build on one another.
#include "concur/detail/mp_queue.hpp"

#include "concur/detail/mp_synchronize.hpp"

#include "concur/detail/mp_sharedctypes.hpp"

#include "concur/detail/mp_shared_memory.hpp"

#include "concur/detail/mp_pool.hpp"
