// concur/subprocess.hpp — Python's `subprocess` module for C++20: run
// programs, feed them input, collect their output.
//
// Children are started with clone(CLONE_VM | CLONE_VFORK): the child runs
// on the parent's memory, with raw system calls only, until it executes
// the program, so the launch cost does not grow with the parent's memory
// and no code of the parent runs in the child. Every descriptor concur
// opens is close-on-exec; with close_fds (the default) every other one the
// program has is closed in the child too (close_range), so a descriptor
// opened by one thread's launch never reaches another thread's child. A
// program that cannot be started raises in the parent, with the errno of
// the step that failed in the child: FileNotFoundError naming the program
// (found through PATH as execvp does) or the missing cwd,
// PermissionError, and so on.
//
// Thread safety: the free functions may be called from any number of
// threads at once. A Popen may be used from several threads (poll, wait,
// signals and returncode are safe together); communicate() and the
// streams of one Popen must be used by one thread at a time, as Python's.
//
// Differences from Python: the options are one struct (Options) whose
// members have Python's keyword names; output is a std::string holding
// the bytes (text = true also turns "\r\n" and "\r" into "\n", Python's
// universal newlines); a Popen whose child is still running when it is
// destroyed hands the child to a reaper that waits for it, so that no
// zombie is left (Python leaves it for its next call).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "concur/errors.hpp"

namespace concur::subprocess {

// The base of subprocess's own errors (Python's SubprocessError).
CONCUR_DEFINE_ERROR(SubprocessError, Error);

// A program ended with a non-zero status where check was asked for:
// "Command 'false' returned non-zero exit status 1." / "... died with
// <Signals.SIGKILL: 9>."; carries the output that was captured.
class CalledProcessError : public SubprocessError {
 public:
  CalledProcessError(int returncode, std::vector<std::string> cmd,
                     std::string output = {}, std::string error_output = {});
  CONCUR_ERROR_TYPE_NAME(CalledProcessError)
  int returncode() const noexcept { return returncode_; }
  const std::vector<std::string>& cmd() const noexcept { return cmd_; }
  // Python's output (alias stdout) and stderr.
  const std::string& output() const noexcept { return output_; }
  const std::string& error_output() const noexcept { return error_output_; }

 private:
  int returncode_;
  std::vector<std::string> cmd_;
  std::string output_;
  std::string error_output_;
};

// A wait or communicate ran out of time: "Command 'sleep 5' timed out
// after 0.5 seconds"; carries the output read until then.
class TimeoutExpired : public SubprocessError {
 public:
  TimeoutExpired(std::vector<std::string> cmd, double seconds,
                 std::string output = {}, std::string error_output = {});
  CONCUR_ERROR_TYPE_NAME(TimeoutExpired)
  const std::vector<std::string>& cmd() const noexcept { return cmd_; }
  double timeout() const noexcept { return seconds_; }
  const std::string& output() const noexcept { return output_; }
  const std::string& error_output() const noexcept { return error_output_; }

 private:
  std::vector<std::string> cmd_;
  double seconds_;
  std::string output_;
  std::string error_output_;
};

// Where one of the child's standard streams goes: the parent's own
// (inherit, the default), a new pipe (PIPE), /dev/null (DEVNULL), the
// child's stdout (STDOUT, for stderr only), or a descriptor of the caller.
class Redirect {
 public:
  enum class Kind { kInherit, kPipe, kDevnull, kStdout, kFd };
  constexpr Redirect() noexcept = default;
  // A descriptor the caller owns; it stays open in the parent. ValueError
  // (at launch) if negative.
  constexpr Redirect(int fd) noexcept : kind_(Kind::kFd), fd_(fd) {}  // NOLINT
  constexpr explicit Redirect(Kind kind) noexcept : kind_(kind) {}
  constexpr Kind kind() const noexcept { return kind_; }
  constexpr int fd() const noexcept { return fd_; }

 private:
  Kind kind_ = Kind::kInherit;
  int fd_ = -1;
};
inline constexpr Redirect PIPE{Redirect::Kind::kPipe};
inline constexpr Redirect DEVNULL{Redirect::Kind::kDevnull};
inline constexpr Redirect STDOUT{Redirect::Kind::kStdout};

// A command: a program and its arguments, never split by a shell; or,
// with Options::shell, one command line for /bin/sh -c.
class Args {
 public:
  Args(std::vector<std::string> args) : args_(std::move(args)) {}  // NOLINT
  Args(std::initializer_list<std::string> args) : args_(args) {}
  Args(std::string_view one) : args_{std::string(one)} {}  // NOLINT
  Args(const char* one) : args_{std::string(one)} {}       // NOLINT
  const std::vector<std::string>& get() const noexcept { return args_; }

 private:
  std::vector<std::string> args_;
};

using Environment = std::map<std::string, std::string>;

// Popen's and run's keyword arguments, with Python's names.
struct Options {
  Redirect stdin{};
  Redirect stdout{};
  Redirect stderr{};
  // run(), communicate(): the bytes written to the child's stdin (which
  // becomes a pipe), then closed.
  std::optional<std::string> input{};
  // run(): stdout and stderr are pipes, and their bytes are returned.
  bool capture_output = false;
  // run(), call(), check_*: the child is killed and reaped, then
  // TimeoutExpired is raised, once this much time has passed.
  std::optional<std::chrono::duration<double>> timeout{};
  // run(): CalledProcessError for a non-zero returncode.
  bool check = false;
  // The child's working directory; empty: the caller's.
  std::optional<std::string> cwd{};
  // The child's whole environment; empty: the caller's.
  std::optional<Environment> env{};
  // Set (or replaced) on top of env or the caller's environment.
  Environment extra_env{};
  // args is one command line, run by /bin/sh -c.
  bool shell = false;
  // Close every descriptor but 0, 1, 2 and pass_fds in the child.
  bool close_fds = true;
  std::vector<int> pass_fds{};
  // setsid() in the child; or setpgid(0, process_group).
  bool start_new_session = false;
  std::optional<pid_t> process_group{};
  // The child's umask (0 to 0777); empty: the caller's.
  std::optional<mode_t> umask{};
  // Universal newlines in what is read back.
  bool text = false;
};

// What run() returns.
struct CompletedProcess {
  std::vector<std::string> args;
  int returncode = 0;
  std::string stdout;  // empty unless captured
  std::string stderr;
  // CalledProcessError if returncode is not 0.
  void check_returncode() const;
};

}  // namespace concur::subprocess

namespace concur::subprocess {
class Popen;
}  // namespace concur::subprocess

namespace concur::subprocess_detail {
struct PopenState;
// The library's (asyncio's pipes and exit watch): takes the parent's end
// of the child's stream 0, 1 or 2 from the Popen (-1 if it has none), and
// lends its pidfd (-1 where the kernel has none).
int release_pipe(subprocess::Popen& popen, int stream) noexcept;
int pidfd_of(const subprocess::Popen& popen) noexcept;
}  // namespace concur::subprocess_detail

namespace concur::subprocess {

// ---------------------------------------------------------------------------
// Popen — Python's subprocess.Popen: a running child, its pipes, its end.
//
// The child is started by the constructor. A Popen is movable, not
// copyable. Destroying it closes the pipes; if the child still runs, a
// reaper thread waits for it (the destructor never blocks, no zombie is
// left). kill() and the other signals go through a pidfd where the kernel
// has one, and are never sent once the child was reaped, so a recycled
// pid is never hit.
class Popen {
 public:
  // Throws OSError (FileNotFoundError, PermissionError, ...) if the
  // program cannot be started; ValueError for bad options.
  explicit Popen(const Args& args, const Options& options = {});
  // So that Popen({"prog", "arg"}) is not ambiguous with the move
  // constructor.
  explicit Popen(std::initializer_list<std::string> args,
                 const Options& options = {})
      : Popen(Args(args), options) {}
  Popen(Popen&&) noexcept;
  Popen& operator=(Popen&&) noexcept;
  ~Popen();

  // The returncode once the child has ended (reaping it), empty before.
  std::optional<int> poll();
  // Waits for the end; returns the returncode. With a timeout, throws
  // TimeoutExpired when it passes first.
  int wait();
  template <class Rep, class Period>
  int wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_for(std::chrono::duration<double>(timeout));
  }
  // Writes `input` (if any) to stdin and closes it, reads stdout and
  // stderr to their end, waits for the child, and returns both outputs
  // (empty for a stream that is not a pipe). No deadlock whatever the
  // sizes. TimeoutExpired if `timeout` passes first; the child goes on, and
  // a later communicate() returns all the output, that read before too.
  std::pair<std::string, std::string> communicate(
      std::optional<std::string_view> input = std::nullopt,
      std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  void send_signal(int signum);
  void terminate();  // SIGTERM
  void kill();       // SIGKILL

  pid_t pid() const noexcept;
  // Empty while running; minus the signal number when killed by one.
  std::optional<int> returncode() const;
  const std::vector<std::string>& args() const noexcept;

  // The parent's ends of the pipes (-1 for a stream that is not a pipe,
  // or after it was closed), for the caller's own reads and writes.
  int stdin_fd() const noexcept;
  int stdout_fd() const noexcept;
  int stderr_fd() const noexcept;
  // Writes all of `data` to stdin (BrokenPipeError once the child closed
  // it); closes stdin.
  void write_stdin(std::string_view data);
  void close_stdin();

  // The pipe a read takes from (Python's p.stdout, p.stderr).
  enum class Stream { kStdout, kStderr };
  class Lines;
  // The next line, with its "\n" (in text mode a line may also end with
  // "\r\n" or "\r", and ends with "\n" when returned); empty at the end.
  // ValueError if the stream is not a pipe.
  std::string readline(Stream from = Stream::kStdout);
  // All the rest of the stream, to its end.
  std::string read(Stream from = Stream::kStdout);
  // The lines to come, read as the loop asks for them (Python's
  // `for line in p.stdout`).
  Lines lines(Stream from = Stream::kStdout);

 private:
  friend int subprocess_detail::release_pipe(Popen&, int) noexcept;
  friend int subprocess_detail::pidfd_of(const Popen&) noexcept;
  int wait_for(std::optional<std::chrono::duration<double>> timeout);
  std::unique_ptr<subprocess_detail::PopenState> state_;
};

// What Popen::lines() returns: a single-pass range over the lines of one
// of the child's pipes. Each step calls readline(); the range ends at the
// stream's end. It refers to its Popen, which must outlive it.
class Popen::Lines {
 public:
  class iterator {
   public:
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const std::string& operator*() const noexcept { return line_; }
    iterator& operator++() {
      line_ = popen_->readline(from_);
      if (line_.empty()) popen_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it,
                           std::default_sentinel_t) noexcept {
      return it.popen_ == nullptr;
    }

   private:
    friend class Lines;
    iterator(Popen* popen, Stream from) : popen_(popen), from_(from) {
      ++*this;
    }
    Popen* popen_ = nullptr;
    Stream from_ = Stream::kStdout;
    std::string line_;
  };

  iterator begin() { return iterator(popen_, from_); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend class Popen;
  Lines(Popen* popen, Stream from) noexcept : popen_(popen), from_(from) {}
  Popen* popen_;
  Stream from_;
};

// Python's run: starts args, communicates (input, timeout), and returns
// how it ended. With check, CalledProcessError for a non-zero end.
CompletedProcess run(Args args, Options options = {});
// The returncode (Python's call).
int call(Args args, Options options = {});
// 0, or CalledProcessError.
int check_call(Args args, Options options = {});
// The child's stdout; CalledProcessError (with the output) for a non-zero
// end.
std::string check_output(Args args, Options options = {});
// Python's getstatusoutput / getoutput: `cmd` run by the shell with
// stderr into stdout; the output without its last "\n".
std::pair<int, std::string> getstatusoutput(std::string_view cmd);
std::string getoutput(std::string_view cmd);

}  // namespace concur::subprocess
