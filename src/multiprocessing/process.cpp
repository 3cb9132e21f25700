#include <fcntl.h>
#include <signal.h>
#include <stdio_ext.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/code_map.hpp"
#include "common/exception_type.hpp"
#include "common/exit_registry.hpp"
#include "common/fork.hpp"
#include "concur/multiprocessing.hpp"
#include "multiprocessing/forkserver.hpp"
#include "sys/fd.hpp"
#include "sys/process.hpp"

namespace concur::multiprocessing_detail {

namespace cd = concur::detail;
using multiprocessing::Process;

// What every handle of one process object shares.
struct ProcessState : std::enable_shared_from_this<ProcessState> {
  // A child this process started (or will start); the process itself; or
  // the one that started it.
  enum class Kind { kChild, kCurrent, kParent };

  ProcessState(Kind k, std::string n, bool d) noexcept
      : kind(k), name(std::move(n)), daemon(d) {}

  const Kind kind;
  mutable threading::Lock mu;
  std::string name CONCUR_GUARDED_BY(mu);
  bool daemon CONCUR_GUARDED_BY(mu);
  // Where it sits among its ancestors' children ("2:1": the first child of
  // the main process's second child), which names its own children.
  std::string identity;
  // The process that made this object (Python's _parent_pid): only it may
  // start, join or test it.
  pid_t creator = ::getpid();
  bool started CONCUR_GUARDED_BY(mu) = false;
  // 0 until fork() returned in the parent.
  pid_t pid CONCUR_GUARDED_BY(mu) = 0;
  // How it is started; empty: the default context at start().
  std::optional<multiprocessing::Context> context;
  // A forkserver child: the sentinel is its status pipe, which the server
  // writes the returncode to, and signals go through its pidfd.
  bool from_server CONCUR_GUARDED_BY(mu) = false;
  sys::FileDescriptor pidfd CONCUR_GUARDED_BY(mu);
  sys::FileDescriptor sentinel CONCUR_GUARDED_BY(mu);
  std::optional<int> exitcode CONCUR_GUARDED_BY(mu);
  bool closed CONCUR_GUARDED_BY(mu) = false;
  std::unique_ptr<ProcessTarget> target;
  // The object whose run() the child calls when there is no target; null
  // once that object is destroyed.
  Process* runner CONCUR_GUARDED_BY(mu) = nullptr;

  Process handle() { return Process(shared_from_this()); }
  static void call_run(Process& p) { p.run(); }

  void check_open() const CONCUR_REQUIRES(mu) {
    if (closed) throw ValueError("process object is closed");
  }
  // Reaps the child if it has ended (waiting when `block`); returns whether
  // it has.
  bool poll(bool block) CONCUR_REQUIRES(mu);
  // start() for the forkserver start method.
  void start_from_server(const std::string& parent_name);
};

namespace {

// The children started and not yet reaped, so that they are reaped even
// when no handle is left (Python's process._children).
class Children {
 public:
  void add(std::shared_ptr<ProcessState> s) {
    concur::ScopedLock guard(mu_);
    all_.push_back(std::move(s));
  }
  void remove(const ProcessState* s) {
    concur::ScopedLock guard(mu_);
    std::erase_if(all_, [s](const auto& c) { return c.get() == s; });
  }
  std::vector<std::shared_ptr<ProcessState>> snapshot() {
    concur::ScopedLock guard(mu_);
    return all_;
  }
  // Around fork() (common/fork.hpp). The child has no children.
  void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS { mu_.acquire(); }
  void unlock_after_fork(bool in_child) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    if (in_child) all_.clear();
    mu_.release();
  }

 private:
  threading::Lock mu_;
  std::vector<std::shared_ptr<ProcessState>> all_ CONCUR_GUARDED_BY(mu_);
};

// Never destroyed: the exit sequence reaps children while statics die.
Children& children() {
  static auto* c = [] {
    cd::at_fork(cd::ForkOrder::kChildren,
                {[] { children().lock_for_fork(); },
                 [] { children().unlock_after_fork(false); },
                 [] { children().unlock_after_fork(true); }});
    return new Children;
  }();
  return *c;
}

// This process. Set in a child before its run() starts, while it has one
// thread; a plain pointer (the child's own Process keeps the state alive),
// so that setting it writes one word where a child writes as little as it
// can: every page it writes first is copied.
ProcessState* current_raw = nullptr;

// The main process's state; never destroyed (exit handlers ask for it).
std::shared_ptr<ProcessState>* main_process = nullptr;

std::shared_ptr<ProcessState> current() {
  static const bool made = [] {
    main_process =
        new std::shared_ptr<ProcessState>(std::make_shared<ProcessState>(
            ProcessState::Kind::kCurrent, "MainProcess", false));
    ProcessState& main = **main_process;
    main.creator = ::getppid();
    concur::ScopedLock guard(main.mu);
    main.started = true;
    main.pid = ::getpid();
    // A forkserver child is itself before it first asks.
    if (current_raw == nullptr) current_raw = &main;
    return true;
  }();
  static_cast<void>(made);
  return current_raw->shared_from_this();
}

// The process that started this one, made when first asked for: its pid
// and name (which lives on in the child's copy of the parent's memory) are
// all a child records when it starts.
pid_t parent_pid = 0;
const std::string* parent_name = nullptr;
// Started by the forkserver: the parent is the server's client, not the
// server that forked this process.
bool parent_is_client = false;
threading::Lock parent_mu;
std::shared_ptr<ProcessState> parent_state CONCUR_GUARDED_BY(parent_mu);

std::shared_ptr<ProcessState> parent() {
  if (parent_pid == 0) return nullptr;
  concur::ScopedLock guard(parent_mu);
  if (!parent_state) {
    auto s = std::make_shared<ProcessState>(ProcessState::Kind::kParent,
                                            *parent_name, false);
    concur::ScopedLock state_guard(s->mu);
    s->started = true;
    s->pid = parent_pid;
    s->creator = 0;
    // A parent that has died left no process to refer to: the sentinel is
    // then a pipe at end of file, as readable as a pidfd of a process that
    // ended.
    if (::getppid() == parent_pid || parent_is_client) {
      try {
        s->sentinel = sys::pidfd_open(parent_pid);
      } catch (const ProcessLookupError&) {
      }
    }
    if (!s->sentinel) s->sentinel = sys::make_pipe().read;
    parent_state = s;
  }
  return parent_state;
}

// Relaxed: the counter only hands out distinct numbers; a child resets it
// while it has one thread.
std::atomic<unsigned> name_counter{0};
// Relaxed: a setting read on its own.
std::atomic<bool> fork_warning{true};
std::atomic<bool> warned{false};

bool pidfds_work() {
  static const bool works = static_cast<bool>(sys::pidfd_open(::getpid()));
  return works;
}

// Python's multiprocessing.util._exit_function: at normal exit, terminate
// the daemon children, then join every child.
void finish_children() {
  for (auto& s : children().snapshot()) {
    Process p = s->handle();
    if (p.daemon()) p.terminate();
  }
  for (auto& s : children().snapshot()) s->handle().join();
}

void warn_if_threaded() {
  if (!fork_warning.load(std::memory_order_relaxed) ||
      sys::thread_count() <= 1 || warned.exchange(true)) {
    return;
  }
  std::string text =
      "DeprecationWarning: This process (pid=" + std::to_string(::getpid()) +
      ") is multi-threaded, use of fork() may lead to "
      "deadlocks in the child.\n";
  std::fputs(text.c_str(), stderr);
}

// Python flushes sys.stdout and sys.stderr around fork; here C stdio's,
// which std::cout and std::cerr write through (unless the program called
// sync_with_stdio(false)). __fpending only reads, so a child with nothing
// to flush does not copy libc's pages by locking the streams.
void flush_stdio() {
  if (__fpending(stdout) != 0) std::fflush(stdout);
  if (__fpending(stderr) != 0) std::fflush(stderr);
}

// In the child, with one thread: it is `self` now, started by `parent`.
[[noreturn]] void child_main(std::shared_ptr<ProcessState> self,
                             const std::string& my_parent_name, pid_t parent) {
  // Python's child reads its stdin from /dev/null.
  static_cast<void>(sys::stdin_from_devnull());
  parent_pid = parent;
  parent_name = &my_parent_name;
  Process* runner = nullptr;
  {
    concur::ScopedLock guard(self->mu);
    self->pid = ::getpid();
    runner = self->runner;
  }
  current_raw = self.get();
  name_counter.store(0, std::memory_order_relaxed);
  warned.store(false, std::memory_order_relaxed);

  int code = 0;
  try {
    if (self->target) {
      (*self->target)();
    } else if (runner != nullptr) {
      ProcessState::call_run(*runner);
    }
  } catch (const SystemExit& e) {
    code = e.code();
  } catch (...) {
    std::string name;
    {
      concur::ScopedLock guard(self->mu);
      name = self->name;
    }
    std::string text =
        "Process " + name + ":\n" + cd::describe_current_exception() + "\n";
    std::fputs(text.c_str(), stderr);
    code = 1;
  }
  cd::run_child_exit_sequence();
  flush_stdio();
  sys::exit_now(code);
}

}  // namespace

bool ProcessState::poll(bool block) {
  if (exitcode) return true;
  if (pid == 0 || kind != Kind::kChild) return false;
  std::optional<int> code;
  if (from_server) {
    if (!block &&
        !sys::wait_readable(sentinel.get(),
                            sys::Deadline::after(std::chrono::seconds(0)))) {
      return false;
    }
    std::int32_t status = 0;
    auto* bytes = reinterpret_cast<std::byte*>(&status);
    // A server that died before the child ended reported nothing: 255,
    // as for a child whose end is unknown.
    code =
        sys::read_full(sentinel.get(), {bytes, sizeof status}) == sizeof status
            ? status
            : 255;
  } else {
    code = sys::reap(pid, block);
  }
  if (!code) return false;
  exitcode = code;
  children().remove(this);
  return true;
}

void ProcessState::start_from_server(const std::string& parent_name) {
  codec::Buffer request;
  codec::Writer w(request);
  {
    concur::ScopedLock guard(mu);
    codec::encode(w, name);
    codec::encode(w, daemon);
  }
  codec::encode(w, identity);
  codec::encode(w, static_cast<std::int32_t>(::getpid()));
  codec::encode(w, parent_name);
  codec::encode(w, cd::loaded_objects());
  sys::Pipe status = sys::make_pipe();
  Outbox out;
  out.add(STDOUT_FILENO);
  out.add(STDERR_FILENO);
  out.add(status.write.get());
  if (!target) {
    throw ValueError(
        "a forkserver child cannot run a Process subclass's run(): give the "
        "Process a target function");
  }
  if (!target->encode(w, out)) {
    throw ValueError(
        "a forkserver child's target must be a function or a captureless "
        "lambda, and its arguments encodable (concur/codec.hpp) or "
        "multiprocessing's shared objects");
  }
  flush_stdio();
  ServerChild child = spawn_from_server(request.bytes(), out.fds());
  concur::ScopedLock guard(mu);
  pid = child.pid;
  from_server = true;
  pidfd = std::move(child.pidfd);
  sentinel = std::move(status.read);
}

namespace {

// A forkserver child's target: the entry its parent named, with the
// encoded call and its descriptors.
struct ReceivedCall final : ProcessTarget {
  ReceivedCall(std::vector<std::byte> c, std::vector<int> fds)
      : call(std::move(c)), inbox(std::move(fds)) {}
  void operator()() override {
    codec::Reader r(call);
    const auto entry = detail::receive_argument<Entry>(r);
    entry(r, inbox);
  }
  bool encode(codec::Writer&, Outbox&) const override { return false; }
  std::vector<std::byte> call;
  Inbox inbox;
};

}  // namespace

void run_server_child(std::span<const std::byte> request,
                      std::vector<int> fds) {
  // Every string here lives until the process ends (child_main keeps
  // pointers to them).
  static std::string my_parent_name;
  std::shared_ptr<ProcessState> self;
  pid_t parent = 0;
  try {
    codec::Reader r(request);
    auto name = codec::decode<std::string>(r);
    const bool daemon = codec::decode<bool>(r);
    auto identity = codec::decode<std::string>(r);
    parent = codec::decode<std::int32_t>(r);
    my_parent_name = codec::decode<std::string>(r);
    cd::adopt_sender_objects(codec::decode<std::vector<cd::LoadedObject>>(r));
    self = std::make_shared<ProcessState>(ProcessState::Kind::kChild,
                                          std::move(name), daemon);
    self->identity = std::move(identity);
    self->creator = parent;
    {
      concur::ScopedLock guard(self->mu);
      self->started = true;
    }
    const auto rest = request.subspan(request.size() - r.remaining());
    self->target = std::make_unique<ReceivedCall>(
        std::vector<std::byte>(rest.begin(), rest.end()), std::move(fds));
  } catch (...) {
    const std::string text =
        "forkserver child: " + cd::describe_current_exception() + "\n";
    std::fputs(text.c_str(), stderr);
    sys::exit_now(1);
  }
  parent_is_client = true;
  child_main(std::move(self), my_parent_name, parent);
}

}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

namespace cd = concur::detail;
using multiprocessing_detail::ProcessState;

Process::Process() : Process(ProcessOptions{}, nullptr) {}
Process::Process(ProcessOptions options)
    : Process(std::move(options), nullptr) {}

Process::Process(
    ProcessOptions options,
    std::unique_ptr<multiprocessing_detail::ProcessTarget> target) {
  ProcessState& me = *multiprocessing_detail::current();
  bool daemon = false;
  {
    concur::ScopedLock guard(me.mu);
    daemon = options.daemon.value_or(me.daemon);
  }
  const unsigned n = multiprocessing_detail::name_counter.fetch_add(
                         1, std::memory_order_relaxed) +
                     1;
  std::string identity =
      (me.identity.empty() ? "" : me.identity + ":") + std::to_string(n);
  std::string name =
      options.name.empty() ? "Process-" + identity : std::move(options.name);
  state_ = std::make_shared<ProcessState>(ProcessState::Kind::kChild,
                                          std::move(name), daemon);
  state_->identity = std::move(identity);
  state_->context = options.context;
  state_->target = std::move(target);
  concur::ScopedLock guard(state_->mu);
  state_->runner = this;
}

Process::Process(std::shared_ptr<ProcessState> state) noexcept
    : state_(std::move(state)) {}
Process::Process(const Process& other) noexcept : state_(other.state_) {}

Process& Process::operator=(const Process& other) noexcept {
  if (this != &other) {
    let_go();
    state_ = other.state_;
  }
  return *this;
}

Process::~Process() { let_go(); }

void Process::let_go() noexcept {
  if (!state_) return;
  concur::ScopedLock guard(state_->mu);
  if (state_->runner == this) state_->runner = nullptr;
}

void Process::run() {
  if (state_->target) (*state_->target)();
}

void Process::start() {
  ProcessState& s = *state_;
  {
    concur::ScopedLock guard(s.mu);
    s.check_open();
    if (s.started) throw RuntimeError("cannot start a process twice");
    if (s.creator != ::getpid()) {
      throw RuntimeError(
          "can only start a process object created by current process");
    }
    if (!s.target && s.runner == nullptr) {
      throw RuntimeError(
          "cannot start a Process whose run() object was destroyed");
    }
    s.started = true;
  }
  std::string my_name;
  {
    ProcessState& me = *multiprocessing_detail::current();
    concur::ScopedLock guard(me.mu);
    if (me.daemon) {
      concur::ScopedLock undo(s.mu);
      s.started = false;
      throw RuntimeError("daemonic processes are not allowed to have children");
    }
    my_name = me.name;
  }
  static const bool finishes_at_exit = [] {
    cd::at_exit(cd::ExitStage::kChildren,
                multiprocessing_detail::finish_children);
    return true;
  }();
  static_cast<void>(finishes_at_exit);
  // Python's _cleanup: reap the children that ended, so that starting
  // many short-lived processes leaves no zombies behind.
  static_cast<void>(active_children());
  if (s.context.value_or(get_context()).uses_forkserver()) {
    try {
      s.start_from_server(my_name);
    } catch (...) {
      concur::ScopedLock guard(s.mu);
      s.started = false;
      throw;
    }
    multiprocessing_detail::children().add(state_);
    return;
  }
  multiprocessing_detail::warn_if_threaded();

  // Without pidfds the sentinel is a pipe whose write end only the child
  // holds: it reads end of file when the child is gone.
  sys::Pipe fallback;
  if (!multiprocessing_detail::pidfds_work()) fallback = sys::make_pipe();
  multiprocessing_detail::flush_stdio();
  const pid_t parent_pid = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    fallback.read.reset();
    static_cast<void>(fallback.write.release());
    multiprocessing_detail::child_main(state_, my_name, parent_pid);
  }
  if (pid < 0) {
    const int err = errno;
    {
      concur::ScopedLock guard(s.mu);
      s.started = false;
    }
    throw_os_error(err);
  }
  {
    concur::ScopedLock guard(s.mu);
    s.pid = pid;
    s.sentinel =
        fallback.read ? std::move(fallback.read) : sys::pidfd_open(pid);
  }
  multiprocessing_detail::children().add(state_);
}

bool Process::join_until(const sys::Deadline& deadline) {
  int sentinel = -1;
  {
    concur::ScopedLock guard(state_->mu);
    state_->check_open();
    if (state_->kind == ProcessState::Kind::kParent) {
      // Python's _ParentProcess.join: wait for its sentinel.
      sentinel = state_->sentinel.get();
    } else if (state_->creator != ::getpid()) {
      throw RuntimeError("can only join a child process");
    }
    if (sentinel < 0) {
      if (state_->pid == 0) {
        throw RuntimeError("can only join a started process");
      }
      if (state_->exitcode) return true;
      sentinel = state_->sentinel.get();
    }
  }
  if (!sys::wait_readable(sentinel, deadline)) return false;
  if (state_->kind == ProcessState::Kind::kParent) return true;
  concur::ScopedLock guard(state_->mu);
  return state_->poll(true);
}

bool Process::is_alive() {
  if (state_ == multiprocessing_detail::current()) return true;
  concur::ScopedLock guard(state_->mu);
  state_->check_open();
  if (state_->kind == ProcessState::Kind::kParent) {
    return !sys::wait_readable(state_->sentinel.get(),
                               sys::Deadline::after(std::chrono::seconds(0)));
  }
  if (state_->creator != ::getpid()) {
    throw RuntimeError("can only test a child process");
  }
  if (state_->pid == 0) return false;
  return !state_->poll(false);
}

void Process::signal(int signum) {
  concur::ScopedLock guard(state_->mu);
  state_->check_open();
  if (state_->creator != ::getpid() || state_->pid == 0) {
    throw RuntimeError("can only signal a started child process");
  }
  // Not reaped yet (under the lock that reaping takes): the pid is still
  // this child's, even if it has ended, so the signal cannot reach another
  // process.
  if (state_->exitcode) return;
  if (state_->from_server && state_->pidfd) {
    // The server reaps it, perhaps already: its pidfd still names it.
    try {
      sys::pidfd_send_signal(state_->pidfd.get(), signum);
    } catch (const ProcessLookupError&) {
    }
    return;
  }
  if (::kill(state_->pid, signum) != 0 && errno != ESRCH) {
    throw_os_error(errno);
  }
}

void Process::terminate() { signal(SIGTERM); }
void Process::kill() { signal(SIGKILL); }

void Process::close() {
  concur::ScopedLock guard(state_->mu);
  if (state_->closed) return;
  if (state_->kind == ProcessState::Kind::kChild && state_->pid != 0 &&
      !state_->poll(false)) {
    throw ValueError(
        "Cannot close a process while it is still running. You should first "
        "call join() or terminate().");
  }
  state_->sentinel.reset();
  state_->closed = true;
}

std::optional<int> Process::exitcode() {
  concur::ScopedLock guard(state_->mu);
  state_->check_open();
  state_->poll(false);
  return state_->exitcode;
}

std::optional<pid_t> Process::pid() const {
  concur::ScopedLock guard(state_->mu);
  state_->check_open();
  if (state_->pid == 0) return std::nullopt;
  return state_->pid;
}

int Process::sentinel() const {
  concur::ScopedLock guard(state_->mu);
  state_->check_open();
  if (!state_->sentinel) throw ValueError("process not started");
  return state_->sentinel.get();
}

std::string Process::name() const {
  concur::ScopedLock guard(state_->mu);
  return state_->name;
}

void Process::set_name(std::string name) {
  concur::ScopedLock guard(state_->mu);
  state_->name = std::move(name);
}

bool Process::daemon() const {
  concur::ScopedLock guard(state_->mu);
  return state_->daemon;
}

void Process::set_daemon(bool daemon) {
  concur::ScopedLock guard(state_->mu);
  if (state_->started) throw RuntimeError("process has already started");
  state_->daemon = daemon;
}

Process current_process() { return Process(multiprocessing_detail::current()); }

std::optional<Process> parent_process() {
  auto parent = multiprocessing_detail::parent();
  if (!parent) return std::nullopt;
  return Process(std::move(parent));
}

std::vector<Process> active_children() {
  std::vector<Process> alive;
  for (auto& s : multiprocessing_detail::children().snapshot()) {
    bool ended = false;
    {
      concur::ScopedLock guard(s->mu);
      ended = s->poll(false);
    }
    // Outside the lock: a handle's destructor takes it.
    if (!ended) alive.push_back(s->handle());
  }
  return alive;
}

bool set_fork_warning(bool enabled) noexcept {
  return multiprocessing_detail::fork_warning.exchange(
      enabled, std::memory_order_relaxed);
}

}  // namespace concur::multiprocessing
