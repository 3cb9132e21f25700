// concur/asyncio/events.hpp — the event loop (Python's asyncio.events and
// base_events): callbacks, timers, descriptors, and the loop that runs them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/asyncio_core.hpp"
#include "concur/detail/sys/deadline.hpp"

namespace concur::futures {
class ThreadPoolExecutor;
}  // namespace concur::futures

namespace concur::asyncio_detail {

// A callback scheduled with call_soon or call_later, reference-counted: the
// loop holds one reference while it is queued, the Handle another.
class HandleBase {
 public:
  using Clock = std::chrono::steady_clock;
  HandleBase() = default;
  HandleBase(const HandleBase&) = delete;
  HandleBase& operator=(const HandleBase&) = delete;

  // Relaxed, then acquire-release on the last release, as FutureCore's.
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // Cancelling is lazy: a cancelled timer stays in the loop's heap until
  // its time comes (or the heap is compacted), and is then dropped.
  // Acquire-release: a cancel from another thread (only through
  // call_soon_threadsafe's callbacks) is seen before the run.
  void cancel() noexcept;
  bool cancelled() const noexcept {
    return cancelled_.load(std::memory_order_acquire);
  }
  Clock::time_point when() const noexcept { return when_; }

  // The ready queue's entry point: runs the callback unless cancelled,
  // then drops the queue's reference.
  static void run_entry(void* self) noexcept;

 protected:
  virtual ~HandleBase() = default;
  virtual void run() = 0;

 private:
  friend class concur::asyncio::EventLoop;
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> cancelled_{false};
  bool in_heap_ = false;
  asyncio::EventLoop* loop_ = nullptr;
  Clock::time_point when_{};
};

template <class F>
class CallbackHandle final : public HandleBase {
 public:
  explicit CallbackHandle(F fn) : fn_(std::move(fn)) {}

 private:
  void run() override { fn_(); }
  F fn_;
};

// One entry of the ready queue.
struct Ready {
  void (*fn)(void*) noexcept;
  void* arg;
};

// The ready queue: a growable ring, FIFO.
class ReadyRing {
 public:
  bool empty() const noexcept { return head_ == tail_; }
  std::size_t size() const noexcept { return tail_ - head_; }
  void push(Ready r) {
    if (tail_ - head_ == slots_.size()) grow();
    slots_[tail_++ & (slots_.size() - 1)] = r;
  }
  Ready pop() noexcept { return slots_[head_++ & (slots_.size() - 1)]; }

 private:
  void grow();
  std::vector<Ready> slots_;
  std::size_t head_ = 0;
  std::size_t tail_ = 0;
};

struct LoopImpl;
struct ThreadsafeInbox;
// Queues h (adopting one reference) for the loop of `inbox`, from any
// thread; false if that loop has closed (h is then released).
bool post_threadsafe(const std::shared_ptr<ThreadsafeInbox>& inbox,
                     HandleBase* h);

// fn on the loop of `inbox`, from any thread; false (and fn dropped) if
// the loop has closed or been destroyed.
template <class F>
bool post(const std::shared_ptr<ThreadsafeInbox>& inbox, F&& fn) {
  return post_threadsafe(
      inbox, new CallbackHandle<std::decay_t<F>>(std::forward<F>(fn)));
}

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

// A callback scheduled by call_soon, call_later or call_at (Python's Handle
// and TimerHandle in one): cancel() stops it if it has not run. Copies
// refer to the same callback. May be cancelled from the loop's thread only,
// as in Python (a cancel from elsewhere goes through call_soon_threadsafe).
class Handle {
 public:
  Handle() = default;
  Handle(const Handle& other) noexcept : h_(other.h_) {
    if (h_ != nullptr) h_->retain();
  }
  Handle(Handle&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  Handle& operator=(Handle other) noexcept {
    std::swap(h_, other.h_);
    return *this;
  }
  ~Handle() {
    if (h_ != nullptr) h_->release();
  }

  void cancel() noexcept {
    if (h_ != nullptr) h_->cancel();
  }
  bool cancelled() const noexcept { return h_ != nullptr && h_->cancelled(); }
  // When a timer is due, on the loop's clock (time()); 0 for call_soon.
  double when() const noexcept;

 private:
  friend class EventLoop;
  // Adopts the creator's reference.
  explicit Handle(asyncio_detail::HandleBase* h) noexcept : h_(h) {}
  asyncio_detail::HandleBase* h_ = nullptr;
};

// What the loop's exception handler receives (Python's context dict): the
// message and, if there is one, the exception.
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  // The task, future or callback concerned ("<Task finished ...>").
  std::string object;
};

// ---------------------------------------------------------------------------
// EventLoop — Python's asyncio event loop on epoll: a FIFO of ready
// callbacks, a heap of timers, and descriptors to watch.
//
// Each pass runs the callbacks that were ready when it began (callbacks
// they schedule wait for the next pass, as in Python), after polling the
// descriptors and moving the timers that are due to the ready queue.
//
// Thread safety: a loop belongs to the thread that runs it. Only
// call_soon_threadsafe and run_coroutine_threadsafe may be called from
// other threads; the other calls, made from another thread while the loop
// runs, raise RuntimeError. One loop runs at a time on a thread.
//
// Differences from Python: the clock is the steady clock, as Python's
// time.monotonic(); time() is in seconds, as Python's. The default executor
// (run_in_executor(nullptr, ...), to_thread) is made on first use and shut
// down, waiting, by close(). A loop destroyed while running terminates;
// one destroyed unclosed is closed.
class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;

  EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Runs until stop() (Python's run_forever). RuntimeError if this loop is
  // running already, another runs on this thread, or it is closed.
  void run_forever();
  // Runs the loop until `awaitable` (a Task or a Future) is done, and gives
  // its value or throws its exception (Python's run_until_complete).
  // Schedules an unstarted task. RuntimeError if the loop stops first.
  template <class Awaitable>
  typename Awaitable::value_type run_until_complete(Awaitable awaitable);
  // Schedules the task on this loop (asyncio::create_task).
  template <class T>
  Task<T> create_task(Task<T> task, std::string name = {});
  // Ends run_forever after the pass under way.
  void stop() noexcept;
  bool is_running() const noexcept;
  bool is_closed() const noexcept;
  // Closes the loop: drops what is queued, releases pending tasks (reported
  // as "Task was destroyed but it is pending!"), shuts the default executor
  // down. RuntimeError while running; idempotent.
  void close();

  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > Handle call_soon(F&& fn) {
    check_thread();
    auto* h = new asyncio_detail::CallbackHandle<std::decay_t<F>>(
        std::forward<F>(fn));
    Handle handle(h);
    enqueue(h);
    return handle;
  }
  template <class Rep, class Period, class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > Handle call_later(std::chrono::duration<Rep, Period> delay, F&& fn) {
    const auto when = Clock::now() + sys::checked_timeout(delay);
    return call_at_point(when, std::forward<F>(fn));
  }
  // `when` is on the loop's clock (time()).
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > Handle call_at(double when, F&& fn) {
    return call_at_point(time_point_of(when), std::forward<F>(fn));
  }
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > Handle call_at_point(Clock::time_point when, F&& fn) {
    check_thread();
    auto* h = new asyncio_detail::CallbackHandle<std::decay_t<F>>(
        std::forward<F>(fn));
    Handle handle(h);
    add_timer(h, when);
    return handle;
  }
  // From any thread; wakes the loop. RuntimeError if the loop is closed.
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > Handle call_soon_threadsafe(F&& fn) {
    auto* h = new asyncio_detail::CallbackHandle<std::decay_t<F>>(
        std::forward<F>(fn));
    Handle handle(h);
    enqueue_threadsafe(h);
    return handle;
  }

  // The loop's clock, in seconds (Python's loop.time()).
  double time() const noexcept;
  static Clock::time_point time_point_of(double when) noexcept;

  // Calls fn on the loop whenever `fd` is readable (writable), until
  // removed; a second add replaces the first. remove_* return whether the
  // descriptor was watched. OSError from epoll (EBADF, EPERM for a regular
  // file), ValueError for a negative descriptor.
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > void add_reader(int fd, F&& fn) {
    watch(fd, false,
          new asyncio_detail::CallbackHandle<std::decay_t<F>>(
              std::forward<F>(fn)));
  }
  template <class F>
  requires std::is_invocable_v < std::decay_t<F>
  & > void add_writer(int fd, F&& fn) {
    watch(fd, true,
          new asyncio_detail::CallbackHandle<std::decay_t<F>>(
              std::forward<F>(fn)));
  }
  bool remove_reader(int fd) { return unwatch(fd, false); }
  bool remove_writer(int fd) { return unwatch(fd, true); }

  // The exception handler (Python's set_exception_handler): receives what
  // a callback raised, a task exception never retrieved, a task destroyed
  // pending. Null restores the default, which prints to stderr.
  using ExceptionHandler =
      std::function<void(EventLoop&, const ExceptionContext&)>;
  void set_exception_handler(ExceptionHandler handler);
  void call_exception_handler(const ExceptionContext& context) noexcept;
  // What the default handler does: prints the report on stderr.
  static void print_report(const ExceptionContext& context) noexcept;

  // The executor of run_in_executor(nullptr, ...) and to_thread: a
  // ThreadPoolExecutor made on first use.
  futures::ThreadPoolExecutor& default_executor();

  // Where other threads post callbacks; it outlives the loop and refuses
  // them once the loop has closed (for the library's cross-thread links).
  std::shared_ptr<asyncio_detail::ThreadsafeInbox> inbox() const;

  // The loop's live tasks (Python's all_tasks(loop)), in creation order.
  std::size_t task_count() const noexcept;

  // --- for the library's awaiters (asyncio_detail) -------------------------
  // Queues fn(arg) for the next pass. Loop thread only.
  void push_ready(void (*fn)(void*) noexcept, void* arg) {
    ready_.push({fn, arg});
  }
  // A timer owned by the caller's handle (retained while queued).
  void add_timer(asyncio_detail::HandleBase* h, Clock::time_point when);
  // RuntimeError when called from another thread while the loop runs.
  void check_thread() const {
    const char* owner = owner_.load(std::memory_order_relaxed);
    if (owner != nullptr && owner != &tls_thread_tag) wrong_thread();
  }
  // A handle's cancel of a timer still in the heap (for compaction).
  void timer_cancelled() noexcept;
  void adopt_task(asyncio_detail::TaskCore& task) noexcept;
  void forget_task(asyncio_detail::TaskCore& task) noexcept;
  asyncio_detail::TaskCore* first_task() const noexcept { return tasks_; }

 private:
  friend class asyncio_detail::HandleBase;
  inline static constinit thread_local char tls_thread_tag = 0;
  [[noreturn]] static void wrong_thread();

  void enqueue(asyncio_detail::HandleBase* h) {
    h->retain();
    h->loop_ = this;
    ready_.push({&asyncio_detail::HandleBase::run_entry, h});
  }
  void enqueue_threadsafe(asyncio_detail::HandleBase* h);
  void watch(int fd, bool write, asyncio_detail::HandleBase* h);
  bool unwatch(int fd, bool write);
  void run_once();
  void drop_queued() noexcept;

  asyncio_detail::ReadyRing ready_;
  // The thread running the loop (its tls_thread_tag), or null. Relaxed:
  // another thread only compares it with its own tag, which it cannot
  // equal, so any value read answers "not the owner" rightly.
  std::atomic<const char*> owner_{nullptr};
  bool stopping_ = false;
  bool closed_ = false;
  asyncio_detail::TaskCore* tasks_ = nullptr;
  asyncio_detail::TaskCore* last_task_ = nullptr;
  std::size_t task_count_ = 0;
  std::unique_ptr<asyncio_detail::LoopImpl> impl_;
};

// The loop running on this thread; RuntimeError "no running event loop" if
// none (Python's get_running_loop()).
EventLoop& get_running_loop();
// The running loop, or null.
EventLoop* running_loop() noexcept;
// The running loop if there is one, else this thread's default loop, made
// on first use (Python's get_event_loop() outside a coroutine, as the
// seeds call it before Python 3.12 warned about it).
EventLoop& get_event_loop();
// A new loop, owned by the caller.
std::unique_ptr<EventLoop> new_event_loop();

}  // namespace concur::asyncio
