#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "common/exception_type.hpp"
#include "common/exit_registry.hpp"
#include "common/fork.hpp"
#include "concur/detail/sys/futex.hpp"
#include "concur/threading.hpp"
#include "threading/thread_name.hpp"

namespace concur::threading_detail {

using threading::Event;
using threading::Lock;
using threading::Thread;

// What every handle of one thread shares. The OS thread holds a reference
// while it runs, so a targeted thread outlives its handles.
struct ThreadState : std::enable_shared_from_this<ThreadState> {
  enum class Kind { kUser, kMain, kDummy };

  ThreadState(Kind k, std::string n, bool d)
      : kind(k), name(std::move(n)), daemon(d) {}

  const Kind kind;
  mutable Lock mu;
  std::string name CONCUR_GUARDED_BY(mu);
  // The object whose run() the thread executes when it has no target; null
  // once that object is destroyed.
  Thread* runner CONCUR_GUARDED_BY(mu) = nullptr;
  // From start() until runner->run() returns: the span in which the runner
  // object must not be destroyed.
  bool in_run CONCUR_GUARDED_BY(mu) = false;
  // Set at construction, run and destroyed by the thread itself.
  std::unique_ptr<Callable> target;

  // Relaxed: a flag read on its own, publishing no other data.
  std::atomic<bool> daemon;
  // Release on the store in start() / acquire on reads: a thread that sees
  // started also sees the registry entry and ident that start() wrote.
  std::atomic<bool> started{false};
  // Relaxed: a value read on its own.
  std::atomic<std::uint64_t> ident{0};
  // The thread's kernel id, and the futex word native_id() waits on: 0
  // until the thread publishes its id (release; read with acquire), or
  // kNativeIdWaiter once a reader sleeps waiting for it. Kernel ids are
  // below 2^22, so the flag never collides with one.
  static constexpr std::uint32_t kNativeIdWaiter = 0x80000000u;
  std::atomic<std::uint32_t> native_id{0};
  // Set when the thread has ended: after its target, its excepthook call
  // and its local<> values are done.
  Event finished;

  // Thread's private parts that the thread machinery here needs.
  Thread handle() { return Thread(shared_from_this()); }
  static void call_run(Thread& thread) { thread.run(); }

  // Links in the registry's list of alive threads; guarded by its lock.
  ThreadState* prev = nullptr;
  ThreadState* next = nullptr;
};

}  // namespace concur::threading_detail

namespace concur::threading {

using threading_detail::ThreadState;

namespace {

// Every alive thread: the main thread, started threads that have not ended,
// and dummies for foreign threads. Intrusive, so that starting a thread
// allocates nothing here.
class Registry {
 public:
  void add(ThreadState* state) {
    concur::ScopedLock guard(mu_);
    state->prev = nullptr;
    state->next = head_;
    if (head_ != nullptr) head_->prev = state;
    head_ = state;
    ++size_;
  }
  void remove(ThreadState* state) {
    concur::ScopedLock guard(mu_);
    (state->prev != nullptr ? state->prev->next : head_) = state->next;
    if (state->next != nullptr) state->next->prev = state->prev;
    state->prev = state->next = nullptr;
    --size_;
  }
  std::vector<std::shared_ptr<ThreadState>> snapshot() {
    concur::ScopedLock guard(mu_);
    std::vector<std::shared_ptr<ThreadState>> all;
    all.reserve(size_);
    for (ThreadState* s = head_; s != nullptr; s = s->next) {
      all.push_back(s->shared_from_this());
    }
    return all;
  }
  std::size_t size() {
    concur::ScopedLock guard(mu_);
    return size_;
  }

  // Around fork() (common/fork.hpp): held from prepare to parent/child.
  void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS { mu_.acquire(); }
  void unlock_after_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS { mu_.release(); }
  // In a forked child, under lock_for_fork: every thread but `self` (which
  // may be null) is gone. Their states leave the registry and count as
  // ended, so that joining them returns and the exit sequence does not wait
  // for them, as Python's threading._after_fork marks them stopped.
  void keep_only_after_fork(ThreadState* self)
      CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    ThreadState* s = head_;
    head_ = nullptr;
    size_ = 0;
    while (s != nullptr) {
      ThreadState* next = s->next;
      s->prev = s->next = nullptr;
      if (s == self) {
        s->next = head_;
        head_ = s;
        size_ = 1;
      } else {
        s->finished.set();
      }
      s = next;
    }
  }
  // In a forked child, under lock_for_fork.
  void add_after_fork(ThreadState* state) CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    state->next = head_;
    if (head_ != nullptr) head_->prev = state;
    head_ = state;
    ++size_;
  }

 private:
  Lock mu_;
  ThreadState* head_ CONCUR_GUARDED_BY(mu_) = nullptr;
  std::size_t size_ CONCUR_GUARDED_BY(mu_) = 0;
};

void before_fork();
void after_fork_in_parent();
void after_fork_in_child();

// Never destroyed: threads and exit handlers use it while statics die.
Registry& registry() {
  static auto* r = [] {
    concur::detail::at_fork(
        concur::detail::ForkOrder::kThreads,
        {before_fork, after_fork_in_parent, after_fork_in_child});
    return new Registry;
  }();
  return *r;
}

// Bumped by every rename and fork (see thread_name_stamp()). Release:
// pairs with the acquire there, so a reader that sees a bump finds the new
// name behind the Thread's lock.
std::atomic<std::uint64_t> renames{0};

std::atomic<std::uint64_t> name_counter{0};
std::string new_name(const char* prefix) {
  // Relaxed: the counter only has to hand out distinct numbers.
  return prefix + std::to_string(
                      name_counter.fetch_add(1, std::memory_order_relaxed) + 1);
}

long kernel_tid() noexcept { return static_cast<long>(syscall(SYS_gettid)); }

// main_state() once it is made. The deadlock detector asks for the main
// thread's name from inside locks that main_state() itself takes while it
// is being made, so it must not call main_state().
std::atomic<ThreadState*> main_state_made_whole{nullptr};

// The main thread's state. Made at static initialisation (which runs on the
// main thread), so that main_thread() from any thread later names the right
// one; never destroyed, since exit handlers may still ask for it.
std::shared_ptr<ThreadState>& main_state() {
  static auto* state = [] {
    auto s = std::make_shared<ThreadState>(ThreadState::Kind::kMain,
                                           "MainThread", false);
    s->started.store(true, std::memory_order_release);
    s->ident.store(static_cast<std::uint64_t>(pthread_self()),
                   std::memory_order_relaxed);
    s->native_id.store(static_cast<std::uint32_t>(getpid()),
                       std::memory_order_release);
    registry().add(s.get());
    // Release: known_thread_name() reads the state through this.
    main_state_made_whole.store(s.get(), std::memory_order_release);
    return new std::shared_ptr<ThreadState>(std::move(s));
  }();
  return *state;
}
[[maybe_unused]] const bool main_state_made = (main_state(), true);

// The calling thread's state, if concur knows it yet.
thread_local ThreadState* tls_current = nullptr;

// A dummy stays registered until its foreign thread ends.
struct DummyHolder {
  std::shared_ptr<ThreadState> state;
  ~DummyHolder() {
    if (state) {
      registry().remove(state.get());
      state->finished.set();
    }
  }
};
thread_local DummyHolder tls_dummy;

std::shared_ptr<ThreadState> current_state() {
  if (tls_current != nullptr) return tls_current->shared_from_this();
  if (kernel_tid() == static_cast<long>(getpid())) {
    tls_current = main_state().get();
    return main_state();
  }
  auto s = std::make_shared<ThreadState>(ThreadState::Kind::kDummy,
                                         new_name("Dummy-"), true);
  s->started.store(true, std::memory_order_release);
  s->ident.store(static_cast<std::uint64_t>(pthread_self()),
                 std::memory_order_relaxed);
  s->native_id.store(static_cast<std::uint32_t>(kernel_tid()),
                     std::memory_order_release);
  registry().add(s.get());
  tls_dummy.state = s;
  tls_current = s.get();
  return s;
}

// Relaxed: a setting read once per start(), publishing nothing else.
std::atomic<std::size_t> configured_stack_size{0};

Lock hook_mu;
ExceptHook installed_hook CONCUR_GUARDED_BY(hook_mu);  // empty: the default

void before_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  registry().lock_for_fork();
  hook_mu.acquire();
}

void after_fork_in_parent() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  hook_mu.release();
  registry().unlock_after_fork();
}

// The forking thread is the child's only thread, and its main thread, as
// in Python. If concur did not know it, it was the parent's main thread or
// a thread concur never saw; the latter gets a main-thread state of its own.
void after_fork_in_child() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
  std::shared_ptr<ThreadState>& main = main_state();
  ThreadState* self = tls_current;
  if (self == nullptr && main->ident.load(std::memory_order_relaxed) ==
                             static_cast<std::uint64_t>(pthread_self())) {
    self = main.get();
  }
  registry().keep_only_after_fork(self);
  if (self == nullptr) {
    auto fresh = std::make_shared<ThreadState>(ThreadState::Kind::kMain,
                                               "MainThread", false);
    fresh->started.store(true, std::memory_order_release);
    fresh->ident.store(static_cast<std::uint64_t>(pthread_self()),
                       std::memory_order_relaxed);
    self = fresh.get();
    registry().add_after_fork(self);
    main = std::move(fresh);
  }
  self->native_id.store(static_cast<std::uint32_t>(getpid()),
                        std::memory_order_release);
  if (main.get() != self) main = self->shared_from_this();
  tls_current = self;
  renames.fetch_add(1, std::memory_order_release);
  hook_mu.release();
  registry().unlock_after_fork();
}

// Python's threading._shutdown: at normal exit, wait for every non-daemon
// thread (the exit sequence's kThreads stage, after the pools' drain).
void join_non_daemon_threads() {
  ThreadState* self = tls_current;
  for (;;) {
    std::vector<std::shared_ptr<ThreadState>> pending;
    for (auto& s : registry().snapshot()) {
      if (s->kind == ThreadState::Kind::kUser && s.get() != self &&
          !s->daemon.load(std::memory_order_relaxed)) {
        pending.push_back(std::move(s));
      }
    }
    if (pending.empty()) return;
    for (auto& s : pending) s->finished.wait();
  }
}

void report_uncaught(ThreadState& state) {
  ExceptHookArgs args{std::current_exception(),
                      concur::detail::current_exception_type(), std::nullopt};
  args.thread.emplace(state.handle());
  try {
    excepthook(args);
  } catch (...) {
    std::string text = "Exception in threading.excepthook:\n" +
                       concur::detail::current_exception_type() + "\n";
    std::fputs(text.c_str(), stderr);
  }
}

}  // namespace

// The OS thread's entry point. `arg` is a heap-allocated reference to the
// state, handed over by start().
extern "C" void* concur_thread_main(void* arg) {
  std::shared_ptr<ThreadState> state(
      std::move(*static_cast<std::shared_ptr<ThreadState>*>(arg)));
  delete static_cast<std::shared_ptr<ThreadState>*>(arg);
  tls_current = state.get();
  state->ident.store(static_cast<std::uint64_t>(pthread_self()),
                     std::memory_order_relaxed);
  // Release: pairs with native_id()'s acquire. The wake-up costs a system
  // call, so it is made only when a reader flagged that it sleeps.
  if (state->native_id.exchange(static_cast<std::uint32_t>(kernel_tid()),
                                std::memory_order_release) ==
      ThreadState::kNativeIdWaiter) {
    sys::futex_wake_all(state->native_id);
  }
  {
    concur::ScopedLock guard(state->mu);
    // The kernel keeps 15 characters; the name is for debuggers and top.
    pthread_setname_np(pthread_self(), state->name.substr(0, 15).c_str());
  }

  try {
    if (state->target) {
      (*state->target)();
    } else {
      Thread* runner = nullptr;
      {
        concur::ScopedLock guard(state->mu);
        runner = state->runner;
      }
      struct EndRun {
        ThreadState& s;
        ~EndRun() {
          concur::ScopedLock guard(s.mu);
          s.in_run = false;
        }
      } end_run{*state};
      if (runner != nullptr) ThreadState::call_run(*runner);
    }
  } catch (const SystemExit&) {
    // Python's threading.excepthook ignores SystemExit: the thread ends.
  } catch (...) {
    report_uncaught(*state);
  }
  // As Python does: the target and its arguments die with the run.
  state->target.reset();
  threading_detail::local_release_thread();
  deadlock_detail::thread_ending();
  registry().remove(state.get());
  state->finished.set();
  tls_current = nullptr;
  return nullptr;
}

Thread::Thread() : Thread(ThreadOptions{}, nullptr) {}
Thread::Thread(ThreadOptions options) : Thread(std::move(options), nullptr) {}

Thread::Thread(ThreadOptions options,
               std::unique_ptr<threading_detail::Callable> target) {
  bool daemon = options.daemon.has_value()
                    ? *options.daemon
                    : current_state()->daemon.load(std::memory_order_relaxed);
  std::string name =
      options.name.empty() ? new_name("Thread-") : std::move(options.name);
  state_ = std::make_shared<ThreadState>(ThreadState::Kind::kUser,
                                         std::move(name), daemon);
  state_->target = std::move(target);
  concur::ScopedLock guard(state_->mu);
  state_->runner = this;
}

Thread::Thread(std::shared_ptr<ThreadState> state) noexcept
    : state_(std::move(state)) {}
Thread::Thread(const Thread& other) noexcept : state_(other.state_) {}

Thread& Thread::operator=(const Thread& other) noexcept {
  if (this != &other) {
    let_go();
    state_ = other.state_;
  }
  return *this;
}

Thread::~Thread() { let_go(); }

void Thread::let_go() noexcept {
  if (!state_) return;
  concur::ScopedLock guard(state_->mu);
  if (state_->runner != this) return;
  state_->runner = nullptr;
  if (state_->in_run && tls_current != state_.get()) {
    std::fprintf(stderr,
                 "concur: Thread '%s' destroyed before its run() returned; "
                 "join() it before it goes out of scope\n",
                 state_->name.c_str());
    std::abort();
  }
}

void Thread::run() {
  if (state_->target) (*state_->target)();
}

void Thread::start() {
  ThreadState& s = *state_;
  {
    concur::ScopedLock guard(s.mu);
    if (s.kind != ThreadState::Kind::kUser ||
        s.started.load(std::memory_order_relaxed)) {
      throw RuntimeError("threads can only be started once");
    }
    if (!s.target && s.runner == nullptr) {
      throw RuntimeError(
          "cannot start a Thread whose run() object was destroyed");
    }
    // From here until run() returns, the object that defines run() must
    // live; let_go() checks it.
    s.in_run = !s.target;
    s.started.store(true, std::memory_order_release);
  }
  static const bool joins_at_exit = [] {
    concur::detail::at_exit(concur::detail::ExitStage::kThreads,
                            join_non_daemon_threads);
    return true;
  }();
  static_cast<void>(joins_at_exit);
  registry().add(&s);

  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (std::size_t size =
          configured_stack_size.load(std::memory_order_relaxed)) {
    pthread_attr_setstacksize(&attr, size);
  }
  auto* handoff = new std::shared_ptr<ThreadState>(state_);
  pthread_t tid{};
  int rc = pthread_create(&tid, &attr, &concur_thread_main, handoff);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    delete handoff;
    registry().remove(&s);
    {
      concur::ScopedLock guard(s.mu);
      s.in_run = false;
      s.started.store(false, std::memory_order_relaxed);
    }
    // strerror_r (GNU form) rather than strerror, which is not thread-safe.
    char reason[128];
    throw RuntimeError(std::string("can't start new thread: ") +
                       strerror_r(rc, reason, sizeof reason));
  }
  s.ident.store(static_cast<std::uint64_t>(tid), std::memory_order_relaxed);
}

bool Thread::join_until(const sys::Deadline& deadline) {
  if (!state_->started.load(std::memory_order_acquire)) {
    throw RuntimeError("cannot join thread before it is started");
  }
  if (state_->kind == ThreadState::Kind::kDummy) {
    throw RuntimeError("cannot join a dummy thread");
  }
  if (state_ == current_state()) {
    deadlock_detail::report_misuse(deadlock::Finding::kJoinSelf,
                                   "cannot join current thread",
                                   concur::detail::CallSite::current());
    throw RuntimeError("cannot join current thread");
  }
  return state_->finished.wait_until(deadline);
}

bool Thread::is_alive() const noexcept {
  return state_->started.load(std::memory_order_acquire) &&
         !state_->finished.is_set();
}

std::string Thread::name() const {
  concur::ScopedLock guard(state_->mu);
  return state_->name;
}

void Thread::set_name(std::string name) {
  {
    concur::ScopedLock guard(state_->mu);
    state_->name = std::move(name);
  }
  renames.fetch_add(1, std::memory_order_release);
}

bool Thread::daemon() const noexcept {
  return state_->daemon.load(std::memory_order_relaxed);
}

void Thread::set_daemon(bool daemon) {
  concur::ScopedLock guard(state_->mu);
  if (state_->started.load(std::memory_order_relaxed)) {
    throw RuntimeError("cannot set daemon status of active thread");
  }
  state_->daemon.store(daemon, std::memory_order_relaxed);
}

std::optional<std::uint64_t> Thread::ident() const noexcept {
  std::uint64_t id = state_->ident.load(std::memory_order_relaxed);
  if (!state_->started.load(std::memory_order_acquire) || id == 0)
    return std::nullopt;
  return id;
}

std::optional<long> Thread::native_id() const noexcept {
  if (!state_->started.load(std::memory_order_acquire)) return std::nullopt;
  // The new thread publishes its id first thing; wait the moment it takes.
  auto& word = state_->native_id;
  std::uint32_t id = word.load(std::memory_order_acquire);
  while (id == 0 || id == ThreadState::kNativeIdWaiter) {
    if (id == 0 && !word.compare_exchange_weak(id, ThreadState::kNativeIdWaiter,
                                               std::memory_order_acquire)) {
      continue;
    }
    sys::futex_wait(word, ThreadState::kNativeIdWaiter, sys::Deadline::never());
    id = word.load(std::memory_order_acquire);
  }
  return static_cast<long>(id);
}

void excepthook(const ExceptHookArgs& args) {
  ExceptHook hook;
  {
    concur::ScopedLock guard(hook_mu);
    hook = installed_hook;
  }
  if (hook) {
    hook(args);
  } else {
    default_excepthook(args);
  }
}

ExceptHook set_excepthook(ExceptHook hook) {
  concur::ScopedLock guard(hook_mu);
  return std::exchange(installed_hook, std::move(hook));
}

void default_excepthook(const ExceptHookArgs& args) {
  std::string text =
      "Exception in thread " +
      (args.thread ? args.thread->name() : std::string("<unknown>")) + ":\n" +
      args.exc_type;
  try {
    if (args.exc_value) std::rethrow_exception(args.exc_value);
  } catch (const std::exception& e) {
    text += std::string(": ") + e.what();
  } catch (...) {  // not a std::exception: its type is all there is to say
  }
  text += "\n";
  // One write, so that reports from several threads do not interleave.
  std::fputs(text.c_str(), stderr);
}

Timer::Timer(std::shared_ptr<Event> finished,
             std::chrono::steady_clock::duration interval,
             std::unique_ptr<threading_detail::Callable> function)
    : Thread(ThreadOptions{},
             threading_detail::bind_call(
                 [finished, interval, fn = std::move(function)] {
                   if (!finished->wait(interval)) (*fn)();
                   finished->set();
                 })),
      finished_(std::move(finished)) {}

Thread current_thread() { return Thread(current_state()); }

Thread main_thread() { return Thread(main_state()); }

std::vector<Thread> enumerate() {
  std::vector<Thread> threads;
  for (auto& s : registry().snapshot()) threads.push_back(Thread(std::move(s)));
  return threads;
}

std::size_t active_count() { return registry().size(); }

std::uint64_t get_ident() noexcept {
  return static_cast<std::uint64_t>(pthread_self());
}

long get_native_id() noexcept { return kernel_tid(); }

std::size_t stack_size() noexcept {
  return configured_stack_size.load(std::memory_order_relaxed);
}

std::size_t stack_size(std::size_t size) {
  if (size != 0 && size < std::size_t{32} * 1024) {
    throw ValueError("size not valid: " + std::to_string(size) +
                     " bytes (0 or at least 32768)");
  }
  return configured_stack_size.exchange(size, std::memory_order_relaxed);
}

}  // namespace concur::threading

std::uint64_t concur::threading_detail::thread_name_stamp() noexcept {
  // Acquire: pairs with the release in Thread::set_name.
  return threading::renames.load(std::memory_order_acquire) << 1 |
         (threading::tls_current != nullptr ? 1 : 0);
}

std::string concur::threading_detail::known_thread_name() {
  threading::ThreadState* state = threading::tls_current;
  if (state == nullptr &&
      threading::kernel_tid() == static_cast<long>(getpid())) {
    // Acquire: pairs with the release in main_state().
    state = threading::main_state_made_whole.load(std::memory_order_acquire);
    if (state == nullptr) return {};  // being made: no name yet
    // As current_state() does: the next call makes no system call.
    threading::tls_current = state;
  }
  if (state == nullptr) {
    return "thread " + std::to_string(threading::kernel_tid());
  }
  // Not a blocking acquire: the caller may hold this very lock.
  if (!state->mu.acquire(false)) return {};
  std::string name = state->name;
  state->mu.release();
  return name;
}
