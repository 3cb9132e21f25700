// Popen: launching (through sys::spawn), the parent's ends of the pipes,
// communicate's poll loop, and the reaper that waits for the children of
// Popen objects destroyed before their child ended.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/fork.hpp"
#include "concur/annotations.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/subprocess.hpp"
#include "concur/threading.hpp"
#include "subprocess/text.hpp"
#include "sys/fd.hpp"
#include "sys/process.hpp"
#include "sys/spawn.hpp"

extern char** environ;

namespace concur::subprocess_detail {

namespace cd = concur::detail;
using subprocess::Options;
using subprocess::Redirect;
using sys::Deadline;
using sys::FileDescriptor;

struct PopenState {
  std::vector<std::string> args;
  bool text = false;
  pid_t pid = 0;
  FileDescriptor pidfd;  // empty where the kernel has no pidfds
  FileDescriptor in;     // the parent's ends of the pipes
  FileDescriptor out;
  FileDescriptor err;
  mutable threading::Lock mu;
  std::optional<int> returncode CONCUR_GUARDED_BY(mu);
  // What communicate() has read and written so far, kept across a
  // TimeoutExpired so that the next call returns all of it.
  std::string out_so_far;
  std::string err_so_far;
  // The input communicate() sends: the caller's, while the call runs;
  // what is left of it is copied into `kept_input` when a call times out.
  std::string_view input;
  std::string kept_input;
  std::size_t input_sent = 0;
  bool input_given = false;
  // What readline() read past the line it returned, per stream.
  std::string out_buffer;
  std::string err_buffer;
  bool out_was_pipe = false;
  bool err_was_pipe = false;

  // Reaps the child if it has ended (waiting when `block`).
  std::optional<int> reap(bool block);
};

std::optional<int> PopenState::reap(bool block) {
  concur::ScopedLock guard(mu);
  if (returncode) return returncode;
  try {
    returncode = sys::reap(pid, block);
  } catch (const ChildProcessError&) {
    // Reaped by someone else (SIGCHLD ignored, a waitpid(-1)): its status
    // is lost; Python reports 0 then.
    returncode = 0;
  }
  return returncode;
}

namespace {

// ---------------------------------------------------------------------------
// The reaper: a thread, started by the first Popen destroyed while its
// child runs, that waits for such children on their pidfds and reaps them.
class Reaper {
 public:
  void adopt(pid_t pid, FileDescriptor pidfd) {
    if (!pidfd) {
      // No pidfd to wait on: a blocking reap would need a thread per
      // child; reap what has ended at each adoption instead.
      concur::ScopedLock guard(mu_);
      orphans_.push_back({pid, FileDescriptor()});
      reap_ended_locked();
      return;
    }
    concur::ScopedLock guard(mu_);
    orphans_.push_back({pid, std::move(pidfd)});
    if (!thread_) {
      wake_ = sys::make_pipe(O_NONBLOCK);
      thread_.emplace(
          threading::ThreadOptions{.name = "subprocess-reaper", .daemon = true},
          [this] { loop(); });
      thread_->start();
    } else {
      static_cast<void>(::write(wake_.write.get(), "x", 1));
    }
  }

  // Around fork(): a child has none of the parent's orphans, nor its
  // thread.
  void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS { mu_.acquire(); }
  void unlock_after_fork(bool in_child) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (in_child) {
      orphans_.clear();
      if (thread_) {
        // The thread does not exist in the child: forget its object
        // without joining it (it is never destroyed).
        static_cast<void>(
            new std::optional<threading::Thread>(std::move(thread_)));
        thread_.reset();
      }
      wake_ = {};
    }
    mu_.release();
  }

 private:
  struct Orphan {
    pid_t pid;
    FileDescriptor pidfd;
  };

  void reap_ended_locked() CONCUR_REQUIRES(mu_) {
    std::erase_if(orphans_, [](const Orphan& o) {
      try {
        return sys::reap(o.pid, false).has_value();
      } catch (const ChildProcessError&) {
        return true;  // reaped elsewhere
      }
    });
  }

  void loop() {
    std::vector<int> fds;
    for (;;) {
      {
        concur::ScopedLock guard(mu_);
        fds.assign(1, wake_.read.get());
        for (const Orphan& o : orphans_) {
          if (o.pidfd) fds.push_back(o.pidfd.get());
        }
      }
      static_cast<void>(sys::wait_any_readable(fds, Deadline::never()));
      char drain[64];
      while (::read(fds[0], drain, sizeof drain) > 0) {
      }
      concur::ScopedLock guard(mu_);
      reap_ended_locked();
    }
  }

  threading::Lock mu_;
  std::vector<Orphan> orphans_ CONCUR_GUARDED_BY(mu_);
  std::optional<threading::Thread> thread_ CONCUR_GUARDED_BY(mu_);
  sys::Pipe wake_ CONCUR_GUARDED_BY(mu_);
};

// Never destroyed: Popen objects may die while statics do.
Reaper& reaper() {
  static auto* r = [] {
    cd::at_fork(cd::ForkOrder::kSubprocess,
                {[] { reaper().lock_for_fork(); },
                 [] { reaper().unlock_after_fork(false); },
                 [] { reaper().unlock_after_fork(true); }});
    return new Reaper;
  }();
  return *r;
}

// ---------------------------------------------------------------------------
// Launching.

// The C strings execve takes, pointing into `storage`.
struct CStrings {
  std::vector<std::string> storage;
  std::vector<char*> pointers;
  char** get() {
    pointers.clear();
    for (std::string& s : storage) pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers.data();
  }
};

CStrings environment_of(const Options& o) {
  subprocess::Environment env;
  if (o.env) {
    env = *o.env;
  } else {
    for (char** e = environ; *e != nullptr; ++e) {
      const char* eq = std::strchr(*e, '=');
      if (eq == nullptr) continue;
      env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)),
                  std::string(eq + 1));
    }
  }
  for (const auto& [key, value] : o.extra_env) env[key] = value;
  CStrings out;
  for (const auto& [key, value] : env) {
    if (key.empty() || key.find('=') != std::string::npos ||
        key.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      throw ValueError("illegal environment variable name or value: " + key);
    }
    std::string entry;
    entry.reserve(key.size() + 1 + value.size());
    entry.append(key).append(1, '=').append(value);
    out.storage.push_back(std::move(entry));
  }
  return out;
}

// The file to execute for `program`, looked up as execvp does, in the
// PATH of the child's environment (Python's os.get_exec_path(env)).
// Throws FileNotFoundError naming the program, or PermissionError.
std::string resolve(const std::string& program, const CStrings& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : env.storage) {
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  }
  bool denied = false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = path.find(':', start);
    const std::string_view dir =
        std::string_view(path).substr(start, end - start);
    std::string candidate(dir.empty() ? std::string_view(".") : dir);
    candidate += '/';
    candidate += program;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      denied = true;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  throw_os_error(denied ? EACCES : ENOENT, program);
}

// Sets up child stream `target` (0, 1 or 2) as `r` says: returns the
// descriptor the child's stream comes from (a SpawnPlan source), and the
// parent's end of a new pipe in `parent_end`. `keep` holds the child's
// ends until the launch.
int stream_source(int target, const Redirect& r, FileDescriptor& parent_end,
                  std::vector<FileDescriptor>& keep) {
  switch (r.kind()) {
    case Redirect::Kind::kInherit:
      return sys::SpawnPlan::kInherit;
    case Redirect::Kind::kDevnull: {
      const int fd =
          ::open("/dev/null", (target == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
      if (fd < 0) throw_os_error(errno, "/dev/null");
      keep.emplace_back(fd);
      return fd;
    }
    case Redirect::Kind::kStdout:
      if (target != 2) throw ValueError("STDOUT is only for stderr");
      return sys::SpawnPlan::kChildStdout;
    case Redirect::Kind::kFd:
      if (r.fd() < 0) {
        throw ValueError("bad file descriptor " + std::to_string(r.fd()));
      }
      return r.fd();
    case Redirect::Kind::kPipe: {
      sys::Pipe p = sys::make_pipe();
      sys::grow_pipe(p.read.get());
      FileDescriptor& child = target == 0 ? p.read : p.write;
      const int fd = child.get();
      keep.push_back(std::move(child));
      parent_end = target == 0 ? std::move(p.write) : std::move(p.read);
      return fd;
    }
  }
  return sys::SpawnPlan::kInherit;
}

std::vector<std::string> command_of(const subprocess::Args& args,
                                    const Options& o) {
  const std::vector<std::string>& a = args.get();
  if (a.empty()) throw ValueError("args must not be empty");
  if (o.shell) {
    std::string line = a.front();
    for (std::size_t i = 1; i < a.size(); ++i) line += " " + a[i];
    return {"/bin/sh", "-c", line};
  }
  return a;
}

}  // namespace

std::unique_ptr<PopenState> launch(const subprocess::Args& args,
                                   const Options& o) {
  auto s = std::make_unique<PopenState>();
  s->args = args.get();
  s->text = o.text;
  std::vector<std::string> command = command_of(args, o);
  CStrings argv{std::move(command), {}};
  for (const std::string& a : argv.storage) {
    if (a.find('\0') != std::string::npos) {
      throw ValueError("embedded null byte");
    }
  }
  CStrings env = environment_of(o);
  const std::string file = resolve(argv.storage.front(), env);
  std::vector<int> passed = o.pass_fds;
  std::sort(passed.begin(), passed.end());
  passed.erase(std::unique(passed.begin(), passed.end()), passed.end());
  if (!passed.empty() && passed.front() < 3) {
    throw ValueError("pass_fds holds " + std::to_string(passed.front()) +
                     ": only descriptors above 2 may be passed");
  }
  if (o.umask && *o.umask > 0777) {
    throw ValueError("umask " + std::to_string(*o.umask) +
                     " is not a permission mask (0 to 0777)");
  }
  if (o.cwd && o.cwd->find('\0') != std::string::npos) {
    throw ValueError("embedded null byte");
  }

  sys::SpawnPlan plan;
  plan.file = file.c_str();
  plan.argv = argv.get();
  plan.envp = env.get();
  std::vector<FileDescriptor> child_ends;
  Redirect in = o.stdin;
  if (o.input) {
    if (in.kind() != Redirect::Kind::kInherit) {
      throw ValueError("stdin and input arguments may not both be used.");
    }
    in = subprocess::PIPE;
  }
  plan.streams[0] = stream_source(0, in, s->in, child_ends);
  // Writing to a child that stopped reading must raise BrokenPipeError
  // (or end communicate's input), not kill this process with SIGPIPE.
  if (s->in) sys::ignore_sigpipe();
  plan.streams[1] = stream_source(1, o.stdout, s->out, child_ends);
  plan.streams[2] = stream_source(2, o.stderr, s->err, child_ends);
  s->out_was_pipe = static_cast<bool>(s->out);
  s->err_was_pipe = static_cast<bool>(s->err);
  plan.new_session = o.start_new_session;
  if (o.process_group) {
    if (*o.process_group < 0) {
      throw ValueError("process_group must be 0 or a process group id");
    }
    plan.process_group = *o.process_group;
  }
  plan.pass_fds = passed.data();
  plan.pass_fd_count = passed.size();
  plan.close_fds = o.close_fds;
  plan.cwd = o.cwd ? o.cwd->c_str() : nullptr;
  plan.umask = o.umask ? static_cast<int>(*o.umask) : -1;

  const sys::SpawnResult started = sys::spawn(plan);
  switch (started.failed) {
    case sys::SpawnStep::kNone:
      break;
    case sys::SpawnStep::kCwd:
      throw_os_error(started.error, *o.cwd);
    case sys::SpawnStep::kExec:
      throw_os_error(started.error, argv.storage.front());
    default:
      throw_os_error(started.error);
  }
  const pid_t pid = started.pid;
  s->pid = pid;
  try {
    s->pidfd = sys::pidfd_open(pid);
  } catch (const OSError&) {
    // Not expected for a child not yet reaped; signals then use the pid.
  }
  if (o.input) {
    s->kept_input = *o.input;
    s->input = s->kept_input;
    s->input_given = true;
  }
  return s;
}

void abandon(PopenState& s) noexcept {
  s.in.reset();
  s.out.reset();
  s.err.reset();
  try {
    if (s.reap(false)) return;
    reaper().adopt(s.pid, std::move(s.pidfd));
  } catch (const std::exception& e) {
    // Out of threads, descriptors or memory: the child stays unreaped (a
    // zombie once it ends), which is better than ending the program from
    // a destructor.
    std::fprintf(stderr, "concur: child %d left unreaped: %s\n",
                 static_cast<int>(s.pid), e.what());
  }
}

// ---------------------------------------------------------------------------
// communicate's loop: returns false if `deadline` passed first.
bool exchange(PopenState& s, const Deadline& deadline) {
  if (!s.input_given && s.in) s.in.reset();
  for (;;) {
    pollfd fds[3];
    nfds_t n = 0;
    if (s.in) {
      if (s.input_sent == s.input.size()) {
        s.in.reset();
      } else {
        fds[n++] = {s.in.get(), POLLOUT, 0};
      }
    }
    if (s.out) fds[n++] = {s.out.get(), POLLIN, 0};
    if (s.err) fds[n++] = {s.err.get(), POLLIN, 0};
    if (n == 0) return true;
    const int ready = ::poll(fds, n, deadline.poll_timeout_ms());
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_os_error(errno);
    }
    if (ready == 0) return false;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (s.in && fds[i].fd == s.in.get()) {
        const auto rest = s.input.substr(s.input_sent);
        const long w = ::write(s.in.get(), rest.data(),
                               std::min<std::size_t>(rest.size(), 1 << 16));
        if (w > 0) {
          s.input_sent += static_cast<std::size_t>(w);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          s.in.reset();  // EPIPE: the child does not read its input
        }
        continue;
      }
      FileDescriptor& from = fds[i].fd == s.out.get() ? s.out : s.err;
      std::string& into = &from == &s.out ? s.out_so_far : s.err_so_far;
      char buffer[1 << 16];
      const long r = ::read(from.get(), buffer, sizeof buffer);
      if (r > 0) {
        into.append(buffer, static_cast<std::size_t>(r));
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        from.reset();
      }
    }
  }
}

int release_pipe(subprocess::Popen& popen, int stream) noexcept {
  PopenState& s = *popen.state_;
  FileDescriptor& end = stream == 0 ? s.in : stream == 1 ? s.out : s.err;
  return end.release();
}

int pidfd_of(const subprocess::Popen& popen) noexcept {
  return popen.state_->pidfd.get();
}

}  // namespace concur::subprocess_detail

namespace concur::subprocess {

namespace sd = concur::subprocess_detail;

Popen::Popen(const Args& args, const Options& options)
    : state_(sd::launch(args, options)) {}

Popen::Popen(Popen&&) noexcept = default;

Popen& Popen::operator=(Popen&& other) noexcept {
  if (this != &other) {
    if (state_) sd::abandon(*state_);
    state_ = std::move(other.state_);
  }
  return *this;
}

Popen::~Popen() {
  if (state_) sd::abandon(*state_);
}

std::optional<int> Popen::poll() { return state_->reap(false); }

int Popen::wait() { return wait_for(std::nullopt); }

int Popen::wait_for(std::optional<std::chrono::duration<double>> timeout) {
  const sys::Deadline deadline =
      timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  if (auto code = state_->reap(false)) return *code;
  if (state_->pidfd) {
    if (!sys::wait_readable(state_->pidfd.get(), deadline)) {
      throw TimeoutExpired(state_->args, timeout->count());
    }
  } else if (timeout) {
    // No pidfd: poll, as Python does, with growing naps.
    auto nap = std::chrono::microseconds(100);
    while (!state_->reap(false)) {
      if (deadline.expired()) {
        throw TimeoutExpired(state_->args, timeout->count());
      }
      std::this_thread::sleep_for(nap);
      nap = std::min(nap * 2, std::chrono::microseconds(50'000));
    }
  } else {
    // Not under the lock that reaping takes, which signals take too.
    sys::wait_ended(state_->pid);
  }
  return *state_->reap(true);
}

std::pair<std::string, std::string> Popen::communicate(
    std::optional<std::string_view> input,
    std::optional<std::chrono::duration<double>> timeout) {
  sd::PopenState& s = *state_;
  if (input) {
    if (!s.in && !s.input_given) {
      throw ValueError(
          "communicate() was given input, but stdin is not a pipe");
    }
    if (!s.input_given) {
      s.input = *input;
      s.input_given = true;
    }
  }
  // What readline() read ahead comes first.
  s.out_so_far += std::exchange(s.out_buffer, {});
  s.err_so_far += std::exchange(s.err_buffer, {});
  for (sys::FileDescriptor* fd : {&s.in, &s.out, &s.err}) {
    if (*fd) sys::set_nonblocking(fd->get(), true);
  }
  const sys::Deadline deadline =
      timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  if (!sd::exchange(s, deadline)) {
    // A later call may come without the input: keep what is left of it.
    if (s.input.data() != s.kept_input.data()) {
      s.kept_input = std::string(s.input.substr(s.input_sent));
      s.input = s.kept_input;
      s.input_sent = 0;
    }
    throw TimeoutExpired(s.args, timeout->count(),
                         sd::translated(s.out_so_far, s.text),
                         sd::translated(s.err_so_far, s.text));
  }
  const std::optional<std::chrono::duration<double>> left =
      timeout ? std::optional<std::chrono::duration<double>>(std::max(
                    deadline.remaining(), sys::Deadline::Clock::duration{}))
              : std::nullopt;
  try {
    static_cast<void>(wait_for(left));
  } catch (const TimeoutExpired&) {
    throw TimeoutExpired(s.args, timeout->count(),
                         sd::translated(s.out_so_far, s.text),
                         sd::translated(s.err_so_far, s.text));
  }
  return {sd::translated(std::exchange(s.out_so_far, {}), s.text),
          sd::translated(std::exchange(s.err_so_far, {}), s.text)};
}

void Popen::send_signal(int signum) {
  sd::PopenState& s = *state_;
  // Under the lock that reaping takes: not reaped yet, so the pid (and
  // the pidfd) still name this child, even if it has ended.
  concur::ScopedLock guard(s.mu);
  if (s.returncode) return;
  if (s.pidfd) {
    try {
      sys::pidfd_send_signal(s.pidfd.get(), signum);
    } catch (const ProcessLookupError&) {
    }
    return;
  }
  if (::kill(s.pid, signum) != 0 && errno != ESRCH) throw_os_error(errno);
}

void Popen::terminate() { send_signal(SIGTERM); }
void Popen::kill() { send_signal(SIGKILL); }

pid_t Popen::pid() const noexcept { return state_->pid; }

std::optional<int> Popen::returncode() const {
  concur::ScopedLock guard(state_->mu);
  return state_->returncode;
}

const std::vector<std::string>& Popen::args() const noexcept {
  return state_->args;
}

int Popen::stdin_fd() const noexcept { return state_->in.get(); }
int Popen::stdout_fd() const noexcept { return state_->out.get(); }
int Popen::stderr_fd() const noexcept { return state_->err.get(); }

void Popen::write_stdin(std::string_view data) {
  if (!state_->in) throw ValueError("stdin is not an open pipe");
  sys::write_all(state_->in.get(), std::as_bytes(std::span(data)));
}

void Popen::close_stdin() { state_->in.reset(); }

namespace {

// Where the line that starts `bytes` ends (past its end of line), if the
// bytes hold all of it. In text mode "\r" ends a line too, so a final
// "\r" is a line end only at the stream's end (it may start a "\r\n").
std::optional<std::size_t> line_end(std::string_view bytes, bool text,
                                    bool at_end) {
  const std::size_t at = bytes.find_first_of(text ? "\r\n" : "\n");
  if (at == std::string_view::npos) return std::nullopt;
  if (bytes[at] == '\n') return at + 1;
  if (at + 1 < bytes.size()) return bytes[at + 1] == '\n' ? at + 2 : at + 1;
  return at_end ? std::optional<std::size_t>(at + 1) : std::nullopt;
}

}  // namespace

std::string Popen::readline(Stream from) {
  sd::PopenState& s = *state_;
  sys::FileDescriptor& fd = from == Stream::kStdout ? s.out : s.err;
  std::string& buffer = from == Stream::kStdout ? s.out_buffer : s.err_buffer;
  if (!fd && buffer.empty()) {
    // Python's read of a closed file is ValueError; a stream that is not
    // a pipe has no file at all.
    if (from == Stream::kStdout ? s.out_was_pipe : s.err_was_pipe) return {};
    throw ValueError("the stream is not a pipe");
  }
  for (;;) {
    if (const auto end = line_end(buffer, s.text, !fd)) {
      std::string line = buffer.substr(0, *end);
      buffer.erase(0, *end);
      return sd::translated(std::move(line), s.text);
    }
    if (!fd) return sd::translated(std::exchange(buffer, {}), s.text);
    char chunk[4096];
    const std::size_t n =
        sys::read_some(fd.get(), std::as_writable_bytes(std::span(chunk)));
    if (n == 0) {
      fd.reset();
    } else {
      buffer.append(chunk, n);
    }
  }
}

std::string Popen::read(Stream from) {
  sd::PopenState& s = *state_;
  sys::FileDescriptor& fd = from == Stream::kStdout ? s.out : s.err;
  std::string all =
      std::exchange(from == Stream::kStdout ? s.out_buffer : s.err_buffer, {});
  if (!fd && all.empty() &&
      !(from == Stream::kStdout ? s.out_was_pipe : s.err_was_pipe)) {
    throw ValueError("the stream is not a pipe");
  }
  if (fd) {
    char chunk[1 << 16];
    for (;;) {
      const std::size_t n =
          sys::read_some(fd.get(), std::as_writable_bytes(std::span(chunk)));
      if (n == 0) break;
      all.append(chunk, n);
    }
    fd.reset();
  }
  return sd::translated(std::move(all), s.text);
}

Popen::Lines Popen::lines(Stream from) { return Lines(this, from); }

}  // namespace concur::subprocess
