// concur/asyncio/tasks.hpp — Task<T> and what drives tasks (Python's
// asyncio.tasks): create_task, sleep, gather, wait, wait_for, shield,
// as_completed, to_thread, run_coroutine_threadsafe.
#pragma once

#include <array>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "concur/asyncio/events.hpp"
#include "concur/asyncio/futures.hpp"
#include "concur/detail/asyncio_core.hpp"
#include "concur/futures.hpp"

namespace concur::asyncio_detail {

// What the promises of every Task<T> share: the lazy start, the final
// suspension that hands the trampoline back (TaskCore::on_final), the
// exception, and the frame's destruction at the last reference.
template <class Promise>
class PromiseBase : public TaskCore, public FrameAllocation {
 public:
  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<Promise> h) noexcept {
      PromiseBase& p = h.promise();
      p.on_final(std::exchange(p.error_, nullptr));
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

 protected:
  // The coroutine starts with itself as the one to resume.
  void begin() noexcept {
    leaf_ = std::coroutine_handle<Promise>::from_promise(
        static_cast<Promise&>(*this));
  }

 private:
  void destroy() noexcept override {
    std::coroutine_handle<Promise>::from_promise(static_cast<Promise&>(*this))
        .destroy();
  }
  std::exception_ptr error_;
};

template <class T>
class TaskPromise final : public PromiseBase<TaskPromise<T>> {
 public:
  asyncio::Task<T> get_return_object() noexcept;
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }
  ResultSlot<T>& slot() noexcept { return value_; }

 private:
  ResultSlot<T> value_;
};

template <>
class TaskPromise<void> final : public PromiseBase<TaskPromise<void>> {
 public:
  asyncio::Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  ResultSlot<void>& slot() noexcept { return value_; }

 private:
  ResultSlot<void> value_;
};

// Sleeps the current task: a timer that resumes it, or for a delay of
// zero one pass of the loop.
class SleepAwaiter final : public Suspension {
 public:
  explicit SleepAwaiter(std::chrono::steady_clock::duration delay) noexcept
      : delay_(delay) {}
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> /*unused*/);
  void await_resume() { task_->throw_if_cancelled(); }
  bool cancel_wait(const std::string& message) override;
  void abandon() noexcept override;

 private:
  std::chrono::steady_clock::duration delay_;
  TaskCore* task_ = nullptr;
  HandleBase* timer_ = nullptr;
};

// The element type of gather's results: void gives std::monostate.
template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class Handle>
using ValueOf = typename Handle::value_type;

template <class T>
Stored<T> take_value(ResultSlot<T>& slot) {
  if constexpr (std::is_void_v<T>) {
    return {};
  } else if constexpr (std::is_copy_constructible_v<T>) {
    return slot.get();
  } else {
    return std::move(slot.get());
  }
}

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// Task<T> — a coroutine, and the asyncio Task that runs it (Python's
// coroutine object and asyncio.Task in one type).
//
// Calling a function that returns Task<T> makes the coroutine and runs
// nothing (a lazy start, as a Python coroutine). `co_await f()` inside a
// task runs it there, in the awaiting task, as Python's `await f()` does;
// create_task(f()) schedules it as a task of its own, which starts on the
// loop's next pass. The loop holds every task it runs until the task ends,
// so a task nobody holds is never destroyed mid-run. Awaiting a scheduled
// task waits for it, and cancelling the awaiter cancels it, as in Python.
//
// A handle: copies refer to one task. `co_await` of an lvalue gives a const
// reference to the value, which lives as long as a handle does; of an
// rvalue, the value itself, moved out.
//
// cancel(msg) throws CancelledError(msg) into the task at the co_await
// where it waits (or at its next one), so its cleanup runs; the task may
// catch it. cancelling() counts the cancel requests not yet taken back by
// uncancel(), which is how timeout() and TaskGroup tell their own cancel
// from one coming from outside.
//
// A task whose exception nobody retrieved (by awaiting it, result() or
// exception()) is reported by its loop's exception handler when it is
// destroyed: "Task exception was never retrieved".
//
// Thread safety: a task belongs to its loop's thread, as in Python; only
// dropping a handle is safe from another thread.
//
// Differences from Python: awaiting a Task twice gives its result twice
// (Python refuses a coroutine awaited twice); create_task refuses a task
// that has started, with RuntimeError.
template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = asyncio_detail::TaskPromise<T>;
  using value_type = T;

  // An empty handle, to assign a task to later.
  Task() noexcept = default;
  Task(const Task& other) noexcept : p_(other.p_) {
    if (p_ != nullptr) p_->retain();
  }
  Task(Task&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  Task& operator=(Task other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~Task() {
    if (p_ != nullptr) p_->release();
  }

  bool valid() const noexcept { return p_ != nullptr; }
  bool done() const noexcept { return p_->done(); }
  bool cancelled() const noexcept { return p_->cancelled(); }
  // Asks the task to stop: false if it is done. See the class comment.
  bool cancel(std::string message = {}) {
    return p_->cancel(std::move(message));
  }
  int cancelling() const noexcept { return p_->cancelling(); }
  int uncancel() noexcept { return p_->uncancel(); }

  // The value (a const reference): InvalidStateError while pending,
  // CancelledError if cancelled, the task's exception if it failed.
  decltype(auto) result() const {
    p_->check_done("Result is not set.");
    if (auto error = p_->outcome_error()) std::rethrow_exception(error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return static_cast<const T&>(p_->slot().get());
    }
  }
  // The exception (null if none); CancelledError, InvalidStateError as
  // result().
  std::exception_ptr exception() const {
    p_->check_done("Exception is not set.");
    if (p_->cancelled()) std::rethrow_exception(p_->outcome_error());
    return p_->outcome_error();
  }

  // Calls fn(task) on the loop once the task is done.
  template <class F>
  requires std::is_invocable_v<F&, Task&>
  void add_done_callback(F fn) {
    asyncio_detail::DoneFunction<Task, F>::add(*p_, std::move(fn));
  }

  // "Task-N", N counting the tasks scheduled in the process, unless named.
  const std::string& get_name() const { return p_->name(); }
  void set_name(std::string name) { p_->set_name(std::move(name)); }
  EventLoop* get_loop() const noexcept { return p_->loop(); }

  auto operator co_await() const& noexcept { return Awaiter<false>(p_); }
  auto operator co_await() && noexcept { return Awaiter<true>(p_); }

  friend bool operator==(const Task& a, const Task& b) noexcept {
    return a.p_ == b.p_;
  }

  // The library's access to the task's state.
  asyncio_detail::TaskCore* core() const noexcept { return p_; }

 private:
  friend promise_type;
  template <class, class>
  friend class asyncio_detail::DoneFunction;

  static Task from_core(asyncio_detail::FutureCore& core) noexcept {
    core.retain();
    return Task(static_cast<promise_type*>(&core));
  }
  explicit Task(promise_type* p) noexcept : p_(p) {}

  // Runs the coroutine inline if it has not started (the trampoline of
  // TaskCore::step resumes it), or waits for the scheduled task. An lvalue
  // task is held for the wait (another handle's owner may let go of it);
  // an rvalue one lives until the end of the co_await's full-expression.
  template <bool kMove>
  class Awaiter : public asyncio_detail::CoreAwaiter {
   public:
    explicit Awaiter(promise_type* p) noexcept
        : CoreAwaiter(*p), p_(p), inline_(!p->started()) {
      if constexpr (!kMove) p_->retain();
    }
    Awaiter(const Awaiter&) = delete;
    Awaiter& operator=(const Awaiter&) = delete;
    ~Awaiter() {
      if constexpr (!kMove) p_->release();
    }
    bool await_ready() const noexcept { return p_->done(); }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      if (!inline_) return CoreAwaiter::await_suspend(awaiting);
      asyncio_detail::TaskCore& root = asyncio_detail::current_task_or_throw();
      p_->start_inline(&root,
                       std::coroutine_handle<promise_type>::from_promise(*p_),
                       awaiting);
      return true;
    }
    decltype(auto) await_resume() {
      if (inline_) {
        if (auto error = p_->outcome_error()) std::rethrow_exception(error);
      } else {
        resume_checks();
      }
      if constexpr (std::is_void_v<T>) {
        return;
      } else if constexpr (kMove) {
        return T(std::move(p_->slot().get()));
      } else {
        return static_cast<const T&>(p_->slot().get());
      }
    }

   private:
    promise_type* p_;
    bool inline_;
  };

  promise_type* p_ = nullptr;
};

// A task of any type, for current_task() and all_tasks(): what Python code
// does with a task whose result it does not read.
class TaskHandle {
 public:
  TaskHandle() noexcept = default;
  explicit TaskHandle(asyncio_detail::TaskCore* core) noexcept : core_(core) {
    if (core_ != nullptr) core_->retain();
  }
  template <class T>
  TaskHandle(const Task<T>& task) noexcept : TaskHandle(task.core()) {}
  TaskHandle(const TaskHandle& other) noexcept : TaskHandle(other.core_) {}
  TaskHandle& operator=(TaskHandle other) noexcept {
    std::swap(core_, other.core_);
    return *this;
  }
  ~TaskHandle() {
    if (core_ != nullptr) core_->release();
  }
  explicit operator bool() const noexcept { return core_ != nullptr; }
  bool done() const noexcept { return core_->done(); }
  bool cancelled() const noexcept { return core_->cancelled(); }
  bool cancel(std::string message = {}) {
    return core_->cancel(std::move(message));
  }
  int cancelling() const noexcept { return core_->cancelling(); }
  int uncancel() noexcept { return core_->uncancel(); }
  const std::string& get_name() const { return core_->name(); }
  asyncio_detail::TaskCore* core() const noexcept { return core_; }
  friend bool operator==(const TaskHandle& a, const TaskHandle& b) noexcept {
    return a.core_ == b.core_;
  }

 private:
  asyncio_detail::TaskCore* core_ = nullptr;
};

// The task running now, empty outside every task (Python's current_task()).
TaskHandle current_task() noexcept;
// The loop's tasks not yet done (Python's all_tasks()); the running loop's
// by default.
std::vector<TaskHandle> all_tasks(EventLoop* loop = nullptr);

// Schedules the task on `loop` (or the running loop): it starts on the
// next pass. RuntimeError if it has started already, or (without a loop)
// if no loop runs; ValueError for an empty handle.
template <class T>
Task<T> create_task(EventLoop& loop, Task<T> task, std::string name = {}) {
  loop.check_thread();
  if (!task.valid()) throw ValueError("create_task() of an empty Task");
  if (task.core()->started()) {
    throw RuntimeError("create_task() of a task that has already started");
  }
  if (loop.is_closed()) throw RuntimeError("Event loop is closed");
  if (!name.empty()) task.set_name(std::move(name));
  task.core()->schedule_first(loop);
  return task;
}
template <class T>
Task<T> create_task(Task<T> task, std::string name = {}) {
  return create_task(get_running_loop(), std::move(task), std::move(name));
}
// A scheduled task as it is, an unstarted one scheduled (Python's
// ensure_future).
template <class T>
Task<T> ensure_future(Task<T> task) {
  if (task.valid() && !task.core()->started() && !task.done()) {
    return create_task(std::move(task));
  }
  return task;
}

// Suspends the current task for `delay` (at least one pass of the loop,
// even for zero or a negative delay, as Python's sleep). ValueError for
// NaN. Cancelling the task ends the sleep with CancelledError.
template <class Rep, class Period>
asyncio_detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero()) return asyncio_detail::SleepAwaiter({});
  return asyncio_detail::SleepAwaiter(sys::checked_timeout(delay));
}
// Seconds, as Python's sleep(0.5).
asyncio_detail::SleepAwaiter sleep(double seconds);

// Waits for `task` without letting a cancel of the waiter reach it
// (Python's shield): cancelling the awaiting task ends its wait with
// CancelledError, and the shielded task goes on. Schedules `task` if it
// has not started.
template <class T>
auto shield(Task<T> task) {
  struct Shielded : asyncio_detail::CoreAwaiter {
    explicit Shielded(Task<T> t) : CoreAwaiter(*t.core(), true), task(t) {}
    decltype(auto) await_resume() {
      resume_checks();
      if constexpr (!std::is_void_v<T>) return T(task.result());
    }
    Task<T> task;
  };
  return Shielded(ensure_future(std::move(task)));
}

// ---------------------------------------------------------------------------
// gather: runs tasks at once and gives their results in order.
//
// gather(a, b, ...) gives a Future<std::tuple<A, B, ...>>, gather(vector of
// Task<T>) a Future<std::vector<T>>; void results are std::monostate.
// Unstarted tasks are scheduled at once. The first child to fail fails
// the gather with its exception, and the others go on; cancelling the
// gather cancels every child. With return_exceptions first, each result is
// an Outcome<T>, holding a value or the child's exception
// (CancelledError for a cancelled child), and the gather never fails.

// A child's value or exception (gather with return_exceptions).
template <class T>
class Outcome {
 public:
  using Value = asyncio_detail::Stored<T>;
  explicit Outcome(Value value) : v_(std::move(value)) {}
  explicit Outcome(std::exception_ptr error) : v_(std::move(error)) {}
  bool ok() const noexcept { return v_.index() == 0; }
  // The value, or the exception thrown.
  Value& value() {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  std::exception_ptr error() const noexcept {
    return ok() ? nullptr : std::get<1>(v_);
  }

 private:
  std::variant<Value, std::exception_ptr> v_;
};

struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

}  // namespace concur::asyncio

namespace concur::asyncio_detail {

template <bool kOutcomes, class T>
using GatherElement =
    std::conditional_t<kOutcomes, asyncio::Outcome<T>, Stored<T>>;

// The gathering future: completed by its children's done-callbacks.
// Children are held by handle; the callbacks point into this state, and
// leave the children when it is destroyed (a dropped gather).
template <bool kOutcomes, class Result, class Children>
class GatherState final : public FutureState<Result> {
 public:
  GatherState(asyncio::EventLoop* loop, Children children, std::size_t n)
      : FutureState<Result>(loop), children_(std::move(children)), nodes_(n) {
    for (std::size_t i = 0; i < n; ++i) {
      nodes_[i].fn = &on_child_done;
      nodes_[i].owner = this;
    }
  }
  void start() {
    std::size_t i = 0;
    for_each_child(
        [&](auto& child) { child.core()->add_done_callback(&nodes_[i++]); });
    if (nodes_.empty()) finish();
  }
  bool cancel(std::string message) override {
    if (this->done()) return false;
    bool any = false;
    for_each_child([&](auto& child) { any = child.cancel(message) || any; });
    if (any) cancel_requested_ = true;
    return any;
  }

 private:
  ~GatherState() override {
    // Once every child's callback has run none is listed, and a gather of
    // many need not touch each child again.
    if (finished_ == nodes_.size()) return;
    std::size_t i = 0;
    for_each_child(
        [&](auto& child) { child.core()->remove_done_callback(&nodes_[i++]); });
  }
  void destroy() noexcept override { delete this; }

  template <class F>
  void for_each_child(F&& fn) {
    if constexpr (requires { children_.size(); }) {
      for (auto& child : children_) fn(child);
    } else {
      std::apply([&](auto&... child) { (fn(child), ...); }, children_);
    }
  }

  static void on_child_done(DoneCallback* cb, FutureCore& child) {
    auto* self = static_cast<GatherState*>(cb->owner);
    ++self->finished_;
    if (self->done()) {
      if (!child.cancelled()) (void)child.outcome_error();
      return;
    }
    if constexpr (!kOutcomes) {
      if (auto error = child.outcome_error()) {
        if (child.cancelled()) {
          self->finish_cancelled_from(error);
        } else {
          self->finish_error(error);
        }
        return;
      }
    }
    if (self->finished_ == self->nodes_.size()) self->finish();
  }
  void finish_cancelled_from(const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (const asyncio::CancelledError& e) {
      this->finish_cancelled(e.what());
    }
  }
  void finish() {
    if (cancel_requested_) {
      this->finish_cancelled("");
      return;
    }
    try {
      this->value.emplace(collect());
    } catch (...) {
      this->finish_error(std::current_exception());
      return;
    }
    this->finish_value();
  }
  template <class Child>
  static auto element(Child& child) {
    using T = typename Child::value_type;
    auto& core = *child.core();
    if constexpr (kOutcomes) {
      if (auto error = core.outcome_error()) {
        return asyncio::Outcome<T>(error);
      }
      return asyncio::Outcome<T>(take_value(slot_of(child)));
    } else {
      return take_value(slot_of(child));
    }
  }
  template <class Child>
  static auto& slot_of(Child& child) {
    return static_cast<TaskPromise<typename Child::value_type>*>(child.core())
        ->slot();
  }
  Result collect() {
    if constexpr (requires { children_.size(); }) {
      Result out;
      out.reserve(children_.size());
      for (auto& child : children_) out.push_back(element(child));
      return out;
    } else {
      return std::apply(
          [](auto&... child) { return Result(element(child)...); }, children_);
    }
  }

  Children children_;
  std::vector<DoneCallback> nodes_;
  std::size_t finished_ = 0;
  bool cancel_requested_ = false;
};

template <bool kOutcomes, class Result, class Children>
asyncio::Future<Result> start_gather(Children children, std::size_t n);

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

template <class... T>
Future<std::tuple<asyncio_detail::Stored<T>...>> gather(Task<T>... tasks) {
  using Result = std::tuple<asyncio_detail::Stored<T>...>;
  return asyncio_detail::start_gather<false, Result>(
      std::tuple<Task<T>...>(ensure_future(std::move(tasks))...), sizeof...(T));
}
template <class... T>
Future<std::tuple<Outcome<T>...>> gather(ReturnExceptions /*unused*/,
                                         Task<T>... tasks) {
  using Result = std::tuple<Outcome<T>...>;
  return asyncio_detail::start_gather<true, Result>(
      std::tuple<Task<T>...>(ensure_future(std::move(tasks))...), sizeof...(T));
}
template <class T>
Future<std::vector<asyncio_detail::Stored<T>>> gather(
    std::vector<Task<T>> tasks) {
  for (auto& t : tasks) t = ensure_future(std::move(t));
  const std::size_t n = tasks.size();
  return asyncio_detail::start_gather<false,
                                      std::vector<asyncio_detail::Stored<T>>>(
      std::move(tasks), n);
}
template <class T>
Future<std::vector<Outcome<T>>> gather(ReturnExceptions /*unused*/,
                                       std::vector<Task<T>> tasks) {
  for (auto& t : tasks) t = ensure_future(std::move(t));
  const std::size_t n = tasks.size();
  return asyncio_detail::start_gather<true, std::vector<Outcome<T>>>(
      std::move(tasks), n);
}

// ---------------------------------------------------------------------------
// wait(tasks): waits until `return_when` holds or the timeout passes, and
// gives the tasks done and those still pending, each in input order. It
// cancels nothing. ValueError for an empty list. Unstarted tasks are
// scheduled (Python 3.11 refuses bare coroutines; here a Task is both).
using futures::ReturnWhen;
struct WaitOptions {
  std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt;
  ReturnWhen return_when = ReturnWhen::ALL_COMPLETED;
};
template <class T>
struct DoneAndPending {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
};

}  // namespace concur::asyncio

namespace concur::asyncio_detail {

// wait()'s bookkeeping, in its coroutine's frame: the callbacks on every
// task and the timeout, removed however the wait ends.
class WaitState {
 public:
  WaitState(std::vector<TaskCore*> tasks, asyncio::WaitOptions options);
  WaitState(const WaitState&) = delete;
  WaitState& operator=(const WaitState&) = delete;
  ~WaitState();
  asyncio::Future<void>& waiter() noexcept { return waiter_; }

 private:
  static void on_done(DoneCallback* cb, FutureCore& task);
  void release_waiter() noexcept;
  std::vector<TaskCore*> tasks_;
  std::vector<DoneCallback> nodes_;
  asyncio::Future<void> waiter_;
  asyncio::Handle timer_;
  std::size_t pending_;
  asyncio::ReturnWhen return_when_;
};

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

template <class T>
Task<DoneAndPending<T>> wait(std::vector<Task<T>> tasks,
                             WaitOptions options = {}) {
  if (tasks.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::vector<asyncio_detail::TaskCore*> cores;
  cores.reserve(tasks.size());
  for (auto& t : tasks) {
    t = ensure_future(std::move(t));
    cores.push_back(t.core());
  }
  {
    asyncio_detail::WaitState state(std::move(cores), options);
    co_await state.waiter();
  }
  DoneAndPending<T> out;
  for (auto& t : tasks) (t.done() ? out.done : out.pending).push_back(t);
  co_return out;
}

}  // namespace concur::asyncio

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// as_completed: the tasks in the order they finish. next() waits for the
// next one and gives it (done), or nullopt after the last; with a timeout,
// TimeoutError once it has passed (Python's as_completed, as `async for`).
template <class T>
class AsCompleted {
 public:
  explicit AsCompleted(
      std::vector<Task<T>> tasks,
      std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt)
      : tasks_(std::move(tasks)), nodes_(tasks_.size()) {
    EventLoop& loop = get_running_loop();
    if (timeout) {
      deadline_ = std::chrono::steady_clock::now() + *timeout;
    }
    for (auto& t : tasks_) t = ensure_future(std::move(t));
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      nodes_[i].fn = &on_done;
      nodes_[i].owner = this;
      tasks_[i].core()->add_done_callback(&nodes_[i]);
    }
    (void)loop;
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;
  ~AsCompleted() {
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      tasks_[i].core()->remove_done_callback(&nodes_[i]);
    }
  }

  Task<std::optional<Task<T>>> next() {
    if (given_ == tasks_.size()) co_return std::nullopt;
    while (finished_.empty()) {
      waiter_.emplace(get_running_loop());
      if (deadline_) {
        if (std::chrono::steady_clock::now() >= *deadline_) {
          throw TimeoutError("as_completed: the timeout has passed");
        }
        Future<void> waiter = *waiter_;
        Handle timer =
            get_running_loop().call_at_point(*deadline_, [waiter]() mutable {
              if (!waiter.done()) waiter.set_result();
            });
        co_await waiter;
        timer.cancel();
      } else {
        co_await *waiter_;
      }
    }
    Task<T> next = std::move(finished_.front());
    finished_.pop_front();
    ++given_;
    co_return std::optional<Task<T>>(std::move(next));
  }

 private:
  static void on_done(asyncio_detail::DoneCallback* cb,
                      asyncio_detail::FutureCore& /*task*/) {
    auto* self = static_cast<AsCompleted*>(cb->owner);
    const auto i = static_cast<std::size_t>(cb - self->nodes_.data());
    self->finished_.push_back(self->tasks_[i]);
    if (self->waiter_ && !self->waiter_->done()) self->waiter_->set_result();
  }

  std::vector<Task<T>> tasks_;
  std::vector<asyncio_detail::DoneCallback> nodes_;
  std::deque<Task<T>> finished_;
  std::optional<Future<void>> waiter_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::size_t given_ = 0;
};
template <class T>
AsCompleted(std::vector<Task<T>>) -> AsCompleted<T>;

// ---------------------------------------------------------------------------
// Threads and other loops.

// Runs fn(args...) in `executor` (any concur executor) and gives its
// outcome as a future of the running loop; cancelling the future cancels
// the call if it has not started (Python's loop.run_in_executor).
template <class Executor, class F, class... Args>
auto run_in_executor(Executor& executor, F&& fn, Args&&... args) {
  return wrap_future(
      executor.submit(std::forward<F>(fn), std::forward<Args>(args)...),
      get_running_loop());
}
// With nullptr: the running loop's default executor.
template <class F, class... Args>
auto run_in_executor(std::nullptr_t /*unused*/, F&& fn, Args&&... args) {
  return run_in_executor(get_running_loop().default_executor(),
                         std::forward<F>(fn), std::forward<Args>(args)...);
}
// fn(args...) on the default executor's threads (Python's to_thread).
template <class F, class... Args>
auto to_thread(F&& fn, Args&&... args) {
  return run_in_executor(nullptr, std::forward<F>(fn),
                         std::forward<Args>(args)...);
}

// Schedules `task` on `loop` from another thread and gives its outcome as
// a concurrent future; cancelling that future cancels the task (Python's
// run_coroutine_threadsafe).
template <class T>
futures::Future<T> run_coroutine_threadsafe(Task<T> task, EventLoop& loop) {
  futures::Future<T> outcome;
  auto inbox = loop.inbox();
  loop.call_soon_threadsafe([task = std::move(task), outcome, inbox,
                             &loop]() mutable {
    if (outcome.cancelled()) return;
    Task<T> running = create_task(loop, std::move(task));
    running.add_done_callback([outcome](Task<T>& done) mutable {
      // Claimed first, as Python does: a cancel of the concurrent future
      // from another thread cannot come between the check and the set.
      if (done.cancelled()) {
        outcome.cancel();
        return;
      }
      if (!outcome.set_running_or_notify_cancel()) return;
      if (auto error = done.exception()) {
        outcome.set_exception(error);
      } else if constexpr (std::is_void_v<T>) {
        outcome.set_result();
      } else {
        outcome.set_result(done.result());
      }
    });
    outcome.add_done_callback([running, inbox](futures::Future<T>& f) {
      if (!f.cancelled()) return;
      asyncio_detail::post(inbox, [running]() mutable { running.cancel(); });
    });
  });
  return outcome;
}

// ---------------------------------------------------------------------------
// Out-of-line members of the loop that need Task.

template <class Awaitable>
typename Awaitable::value_type EventLoop::run_until_complete(
    Awaitable awaitable) {
  using T = typename Awaitable::value_type;
  if (!awaitable.valid()) {
    throw ValueError("run_until_complete() of an empty handle");
  }
  if (is_closed()) throw RuntimeError("Event loop is closed");
  if constexpr (std::is_same_v<Awaitable, Task<T>>) {
    if (!awaitable.core()->started() && !awaitable.done()) {
      awaitable = asyncio::create_task(*this, std::move(awaitable));
    }
  }
  asyncio_detail::FutureCore& core = *awaitable.core();
  asyncio_detail::DoneCallback stop;
  stop.owner = this;
  stop.fn = [](asyncio_detail::DoneCallback* cb, asyncio_detail::FutureCore&) {
    static_cast<EventLoop*>(cb->owner)->stop();
  };
  if (!core.done()) {
    core.add_done_callback(&stop);
    try {
      run_forever();
    } catch (...) {
      core.remove_done_callback(&stop);
      throw;
    }
    core.remove_done_callback(&stop);
  }
  if (!core.done()) {
    throw RuntimeError("Event loop stopped before Future completed.");
  }
  if constexpr (std::is_void_v<T>) {
    awaitable.result();
  } else {
    return T(std::move(const_cast<T&>(awaitable.result())));
  }
}

template <class T>
Task<T> EventLoop::create_task(Task<T> task, std::string name) {
  return asyncio::create_task(*this, std::move(task), std::move(name));
}

}  // namespace concur::asyncio

namespace concur::asyncio_detail {

template <class T>
asyncio::Task<T> TaskPromise<T>::get_return_object() noexcept {
  this->begin();
  return asyncio::Task<T>(this);
}
inline asyncio::Task<void> TaskPromise<void>::get_return_object() noexcept {
  begin();
  return asyncio::Task<void>(this);
}

template <bool kOutcomes, class Result, class Children>
asyncio::Future<Result> start_gather(Children children, std::size_t n) {
  auto* state = new GatherState<kOutcomes, Result, Children>(
      &asyncio::get_running_loop(), std::move(children), n);
  auto future = asyncio::Future<Result>::adopt(state);
  state->start();
  return future;
}

}  // namespace concur::asyncio_detail
