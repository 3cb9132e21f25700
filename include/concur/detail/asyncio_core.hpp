// The state that every asyncio future and task shares, and the protocol by
// which a suspended task is woken or cancelled. Internal to
// <concur/asyncio.hpp>.
//
// FutureCore is Python's asyncio.Future without its value: the state
// (pending, cancelled, finished), the error, the done-callbacks, a reference
// count. TaskCore adds what a task is: the coroutine to resume next, what
// the task waits on (a Suspension), and the cancellation counters. A
// coroutine awaited inside a task runs in that task, as in Python; the task
// resumes its innermost coroutine from a loop of its own (step()), so a
// chain of coroutines completing at once never deepens the stack, even
// where the compiler makes no tail call of a symmetric transfer (g++ 12 at
// -O0 and under the sanitizers).
//
// Thread safety: everything here belongs to the thread that runs the loop,
// as in Python; only the reference count is atomic, so that a handle may be
// dropped on another thread.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "concur/detail/block_cache.hpp"
#include "concur/errors.hpp"

namespace concur::asyncio {

class EventLoop;
template <class T = void>
class Task;
template <class T = void>
class Future;

// The task or future was cancelled: awaiting it, or its result(), raises
// this, with the message given to cancel(). Thrown into a cancelled task at
// the co_await where it waits, so that its cleanup runs. Not an Error, as
// since Python 3.8: `catch (const concur::Error&)` lets it pass.
class CancelledError : public BaseException {
 public:
  explicit CancelledError(std::string message = {})
      : BaseException(std::move(message)) {}
  CONCUR_ERROR_TYPE_NAME(CancelledError)
};

// result() of a future that is not done, or set_result() on one that is.
CONCUR_DEFINE_ERROR(InvalidStateError, Error);

}  // namespace concur::asyncio

namespace concur::asyncio_detail {

class FutureCore;
class TaskCore;

// A done-callback, as an intrusive node: the awaiter of a task keeps its
// own in the awaiting coroutine's frame, so awaiting costs no allocation.
struct DoneCallback {
  void (*fn)(DoneCallback* self, FutureCore& future) = nullptr;
  // For a node the future owns (DoneFunction): frees it unrun, when the
  // future is destroyed with the callback still listed.
  void (*drop)(DoneCallback* self) = nullptr;
  void* owner = nullptr;
  DoneCallback* next = nullptr;
};

// Python's asyncio.Future without the value (the derived class keeps it).
class FutureCore {
 public:
  enum class State : std::uint8_t { kPending, kCancelled, kFinished };

  explicit FutureCore(asyncio::EventLoop* loop) noexcept : loop_(loop) {}
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  // Relaxed: taking a reference needs one already held. Acquire-release on
  // the last release orders every use before the destruction.
  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if (error_ != nullptr && !retrieved_ && state_ == State::kFinished) {
        report_unretrieved();
      }
      destroy();
    }
  }
  // The ready-queue entry that runs the callbacks, and what a closing loop
  // does with one it drops.
  static void run_callbacks(void* self) noexcept;
  static void drop_callbacks(void* self) noexcept;

  State state() const noexcept { return state_; }
  bool done() const noexcept { return state_ != State::kPending; }
  bool cancelled() const noexcept { return state_ == State::kCancelled; }
  asyncio::EventLoop* loop() const noexcept { return loop_; }

  // Python's Future.cancel(): a pending future becomes cancelled (true);
  // a done one is left alone (false). Task overrides it.
  virtual bool cancel(std::string message);

  // Runs cb on the loop once the future is done (scheduled at once if it
  // is). A callback may be removed until it runs.
  void add_done_callback(DoneCallback* cb);
  bool remove_done_callback(DoneCallback* cb) noexcept;

  // What awaiting the future raises: its CancelledError, its exception, or
  // null if it has a value. Marks the exception retrieved.
  std::exception_ptr outcome_error() noexcept {
    retrieved_ = true;
    return error_;
  }
  // The exception, without marking it retrieved.
  const std::exception_ptr& peek_error() const noexcept { return error_; }
  // Python's result() and exception() checks: InvalidStateError if pending.
  void check_done(const char* what) const;

  // Completes the future. The value, if any, is the derived class's; these
  // raise InvalidStateError when the future is already done.
  void finish_error(std::exception_ptr error);
  void finish_value();
  // Completes it as cancelled with a CancelledError carrying `message`.
  void finish_cancelled(const std::string& message);

  // Closing loop: the future may no longer reach it.
  void forget_loop() noexcept { loop_ = nullptr; }

  // The "<Task ...>" or "<Future ...>" that reports name the future by.
  virtual std::string describe() const;

 protected:
  virtual ~FutureCore();
  virtual void destroy() noexcept = 0;
  void set_loop(asyncio::EventLoop* loop) noexcept { loop_ = loop; }
  // Completes without the done-state checks (a task's own ending).
  void settle(State state, std::exception_ptr error) noexcept;

 private:
  void queue_callbacks() noexcept;

  // The report of an exception nobody retrieved, before destruction.
  void report_unretrieved() noexcept;

  std::atomic<std::uint32_t> refs_{1};
  State state_ = State::kPending;
  bool retrieved_ = false;
  bool callbacks_queued_ = false;
  asyncio::EventLoop* loop_;
  DoneCallback* callbacks_ = nullptr;
  DoneCallback* last_callback_ = nullptr;
  // The exception of a failed future; the CancelledError of a cancelled one.
  std::exception_ptr error_;
};

// What a suspended task waits on (a timer, a lock's queue, another future):
// the way Task::cancel reaches the wait.
class Suspension {
 public:
  // Passes a cancellation on. True: the wait was told and ends by itself
  // (the awaited task is being cancelled, and the awaiter is woken when it
  // is done). False: the wait let go of the task, which must be woken with
  // CancelledError.
  virtual bool cancel_wait(const std::string& message) = 0;
  // Lets go of the task without waking it (the loop is closing with the
  // task still pending).
  virtual void abandon() noexcept = 0;

 protected:
  ~Suspension() = default;
};

// The task whose coroutine runs on this thread now (Python's
// current_task()); null outside every task. Set by TaskCore::step.
inline constinit thread_local TaskCore* tls_current_task = nullptr;

// The state of a task, in the promise of its coroutine. Every coroutine of
// type Task<T> has one; only those that create_task() scheduled (roots) use
// the task parts, the others run inside the root that awaits them.
class TaskCore : public FutureCore {
 public:
  TaskCore() noexcept : FutureCore(nullptr) {}

  bool cancel(std::string message) override;
  int cancelling() const noexcept { return cancels_requested_; }
  int uncancel() noexcept {
    if (cancels_requested_ > 0) --cancels_requested_;
    if (cancels_requested_ == 0) must_cancel_ = false;
    return cancels_requested_;
  }
  std::string describe() const override;
  const std::string& name();
  void set_name(std::string name);

  // For awaiters, in await_suspend: the task now waits on `wait`. False if
  // a cancellation is pending: the awaiter must not suspend, and its
  // await_resume throws (throw_if_cancelled).
  bool suspend_on(Suspension* wait) noexcept {
    if (must_cancel_) return false;
    waiting_on_ = wait;
    return true;
  }
  // The wait is over (a lock was handed over): the task runs on the loop's
  // next pass.
  void wake() noexcept;
  // The wait is over, and the caller is a callback of the loop (a timer, a
  // done-callback): the task runs now, as Python's Task.__wakeup does.
  void resume_waiting() noexcept {
    waiting_on_ = nullptr;
    step();
  }
  // One pass of the loop without a wait (sleep(0)): the task is queued, not
  // waiting, so a cancel meanwhile is thrown when it resumes.
  void yield_once() noexcept;
  // For awaiters, in await_resume: throws the pending CancelledError.
  void throw_if_cancelled() {
    if (must_cancel_) raise_cancelled();
  }
  bool cancel_pending() const noexcept { return must_cancel_; }

  // Makes this task a root on `loop` (create_task), and its first step.
  void schedule_first(asyncio::EventLoop& loop);
  // Runs the task until it waits or ends: resumes its innermost coroutine
  // for as long as it runs on at once (a trampoline, see the file comment).
  void step() noexcept;
  static void step_entry(void* self) noexcept {
    static_cast<TaskCore*>(self)->step();
  }
  // Closing loop: lets go of what the task waits on.
  void abandon() noexcept;
  // A wait list's waiter that has been woken and is still listed (until
  // the task runs): the closing loop must unlink it too.
  Suspension* lingering = nullptr;

  bool started() const noexcept { return started_; }
  bool is_root() const noexcept { return root_ == this; }
  TaskCore* root() const noexcept { return root_; }

  // Inline awaiting: `parent` awaits this coroutine, inside `root`.
  void start_inline(TaskCore* root, std::coroutine_handle<> self,
                    std::coroutine_handle<> parent) noexcept {
    root_ = root;
    parent_ = parent;
    started_ = true;
    set_loop(root->loop());
    root->leaf_ = self;
    root->runnable_ = true;
  }
  // From the final suspension of the coroutine: hands the trampoline back
  // to the awaiting coroutine, or ends the task.
  void on_final(std::exception_ptr error) noexcept;

  // The loop's list of its live tasks (Python's all_tasks()).
  TaskCore* prev_in_loop = nullptr;
  TaskCore* next_in_loop = nullptr;

 protected:
  std::coroutine_handle<> leaf_;

 private:
  [[noreturn]] void raise_cancelled();

  TaskCore* root_ = this;
  std::coroutine_handle<> parent_;
  Suspension* waiting_on_ = nullptr;
  std::uint64_t id_ = 0;
  int cancels_requested_ = 0;
  bool must_cancel_ = false;
  bool runnable_ = false;
  bool started_ = false;
  bool ran_ = false;
  // Rarely set: a name given by set_name, the message of a pending cancel.
  struct Extras {
    std::string name;
    std::string cancel_message;
  };
  std::unique_ptr<Extras> extras_;
  Extras& extras();
};

// An intrusive FIFO of tasks waiting on a lock, an event or a queue. A
// waiter is woken at most once; one cancelled before its wake-up leaves the
// list at once; one cancelled after it passes the wake-up on (the owner's
// await_resume decides how), so no wake-up is ever lost.
class WaitList {
 public:
  class Waiter final : public Suspension {
   public:
    bool cancel_wait(const std::string&) override {
      list_->unlink(this);
      return false;
    }
    void abandon() noexcept override {
      if (list_ != nullptr) list_->unlink(this);
    }
    ~Waiter() {
      if (list_ != nullptr) list_->unlink(this);
    }
    bool woken() const noexcept { return woken_; }
    bool linked() const noexcept { return list_ != nullptr; }

   private:
    friend class WaitList;
    WaitList* list_ = nullptr;
    TaskCore* task_ = nullptr;
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    bool woken_ = false;
  };

  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  // Whether a waiter has been woken and not yet run.
  bool has_woken() const noexcept;

  // In await_suspend: queues `w` for the current task. False if the task
  // has a cancellation pending (then do not suspend).
  bool enqueue(Waiter& w, TaskCore& task) noexcept;
  // Wakes the head of the list unless it is woken already; a woken waiter
  // stays listed until it runs (then leave()). False if none was woken.
  bool wake_head() noexcept;
  // Wakes the first waiter not yet woken (it stays listed).
  bool wake_next() noexcept;
  // Wakes up to n waiters not yet woken (they stay listed); gives how many.
  std::size_t wake_up_to(std::size_t n) noexcept;
  // Wakes the head and unlinks it (queues: each wake-up is for one item).
  bool pop_first() noexcept;
  // The same, running the task now: only from a callback of the loop (a
  // descriptor's), never from inside a task.
  bool resume_first() noexcept;
  // In await_resume: the waiter leaves the list, if still on it.
  void leave(Waiter& w) noexcept {
    if (w.task_ != nullptr && w.task_->lingering == &w) {
      w.task_->lingering = nullptr;
    }
    unlink(&w);
  }

 private:
  void unlink(Waiter* w) noexcept;
  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

// Coroutine frames come from the thread's block cache (frames of up to 256
// bytes), since g++ 12 never elides their allocation.
struct FrameAllocation {
  static void* operator new(std::size_t size) {
    return detail::block_cache::allocate(size);
  }
  static void operator delete(void* frame, std::size_t size) noexcept {
    detail::block_cache::deallocate(frame, size);
  }
};

}  // namespace concur::asyncio_detail

namespace concur::asyncio_detail {

// The running task, or RuntimeError: the library's awaitables suspend
// tasks, and make no sense in another kind of coroutine.
TaskCore& current_task_or_throw();

// Where a future or task keeps its value. void keeps nothing.
template <class T>
class ResultSlot {
 public:
  ResultSlot() noexcept {}
  ResultSlot(const ResultSlot&) = delete;
  ResultSlot& operator=(const ResultSlot&) = delete;
  ~ResultSlot() {
    if (has_) value_.~T();
  }
  template <class... Args>
  void emplace(Args&&... args) {
    ::new (static_cast<void*>(&value_)) T(std::forward<Args>(args)...);
    has_ = true;
  }
  T& get() noexcept { return value_; }

 private:
  union {
    T value_;
  };
  bool has_ = false;
};
template <>
class ResultSlot<void> {
 public:
  void emplace() noexcept {}
  void get() noexcept {}
};

// Waits in a task for a future (or a scheduled task) to be done, as
// Python's Task.__step does when a coroutine yields a future. A cancel of
// the waiting task cancels the awaited future and keeps waiting for it to
// end, as in Python; a shielded wait lets go of it instead.
class CoreAwaiter : public Suspension {
 public:
  explicit CoreAwaiter(FutureCore& future, bool shielded = false) noexcept
      : future_(future), shielded_(shielded) {}
  CoreAwaiter(const CoreAwaiter&) = delete;
  CoreAwaiter& operator=(const CoreAwaiter&) = delete;

  bool await_ready() const noexcept { return future_.done(); }
  bool await_suspend(std::coroutine_handle<> /*unused*/);
  // Awaited bare: only waits (throws a pending cancel of the waiter).
  void await_resume() {
    if (task_ != nullptr) task_->throw_if_cancelled();
  }
  // Throws the waiting task's pending CancelledError, or the future's own
  // error; the caller then reads the value.
  void resume_checks() {
    await_resume();
    if (auto error = future_.outcome_error()) std::rethrow_exception(error);
  }

  bool cancel_wait(const std::string& message) override;
  void abandon() noexcept override { future_.remove_done_callback(&node_); }

 private:
  static void on_done(DoneCallback* cb, FutureCore& future);
  FutureCore& future_;
  TaskCore* task_ = nullptr;
  DoneCallback node_;
  bool shielded_;
};

}  // namespace concur::asyncio_detail
