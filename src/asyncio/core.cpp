// Futures, tasks and the waits between them: the non-template half of
// concur/detail/asyncio_core.hpp and concur/asyncio/tasks.hpp.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/loop_registry.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/detail/asyncio_core.hpp"

namespace concur::asyncio_detail {

namespace {

std::atomic<std::uint64_t> next_task_id{1};

bool is_cancelled_error(const std::exception_ptr& error) {
  if (error == nullptr) return false;
  try {
    std::rethrow_exception(error);
  } catch (const asyncio::CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

// Python's repr of an exception: "ValueError('boom')".
std::string repr(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const BaseException& e) {
    return std::string(e.type_name()) + "('" + e.what() + "')";
  } catch (const std::exception& e) {
    return std::string("std::exception('") + e.what() + "')";
  } catch (...) {
    return "<foreign exception>";
  }
}

}  // namespace

// --- FutureCore --------------------------------------------------------------

FutureCore::~FutureCore() {
  while (DoneCallback* cb = callbacks_) {
    callbacks_ = cb->next;
    if (cb->drop != nullptr) cb->drop(cb);
  }
}

bool FutureCore::cancel(std::string message) {
  if (done()) return false;
  settle(State::kCancelled,
         std::make_exception_ptr(asyncio::CancelledError(std::move(message))));
  return true;
}

void FutureCore::check_done(const char* what) const {
  if (!done()) throw asyncio::InvalidStateError(what);
}

void FutureCore::finish_error(std::exception_ptr error) {
  if (done()) throw asyncio::InvalidStateError("invalid state");
  if (error == nullptr) throw TypeError("set_exception() of a null exception");
  settle(State::kFinished, std::move(error));
}

void FutureCore::finish_value() {
  if (done()) throw asyncio::InvalidStateError("invalid state");
  settle(State::kFinished, nullptr);
}

void FutureCore::finish_cancelled(const std::string& message) {
  if (done()) throw asyncio::InvalidStateError("invalid state");
  settle(State::kCancelled,
         std::make_exception_ptr(asyncio::CancelledError(message)));
}

void FutureCore::settle(State state, std::exception_ptr error) noexcept {
  state_ = state;
  error_ = std::move(error);
  if (callbacks_ != nullptr) queue_callbacks();
}

void FutureCore::add_done_callback(DoneCallback* cb) {
  cb->next = nullptr;
  (last_callback_ != nullptr ? last_callback_->next : callbacks_) = cb;
  last_callback_ = cb;
  if (done()) queue_callbacks();
}

bool FutureCore::remove_done_callback(DoneCallback* cb) noexcept {
  DoneCallback* prev = nullptr;
  for (DoneCallback* c = callbacks_; c != nullptr; prev = c, c = c->next) {
    if (c != cb) continue;
    (prev != nullptr ? prev->next : callbacks_) = c->next;
    if (last_callback_ == c) last_callback_ = prev;
    return true;
  }
  return false;
}

void FutureCore::queue_callbacks() noexcept {
  if (callbacks_queued_ || loop_ == nullptr) return;
  callbacks_queued_ = true;
  retain();
  loop_->push_ready(&FutureCore::run_callbacks, this);
}

void FutureCore::run_callbacks(void* self) noexcept {
  auto* f = static_cast<FutureCore*>(self);
  f->callbacks_queued_ = false;
  // Each callback leaves the list before it runs: it may destroy its node.
  while (DoneCallback* cb = f->callbacks_) {
    f->callbacks_ = cb->next;
    if (f->callbacks_ == nullptr) f->last_callback_ = nullptr;
    try {
      cb->fn(cb, *f);
    } catch (...) {
      report_to_loop(f->loop_, "Exception in callback",
                     std::current_exception(), f->describe());
    }
  }
  f->release();
}

void FutureCore::drop_callbacks(void* self) noexcept {
  auto* f = static_cast<FutureCore*>(self);
  f->callbacks_queued_ = false;
  f->release();
}

std::string FutureCore::describe() const {
  switch (state_) {
    case State::kPending:
      return "<Future pending>";
    case State::kCancelled:
      return "<Future cancelled>";
    case State::kFinished:
      break;
  }
  return error_ != nullptr ? "<Future finished exception=" + repr(error_) + ">"
                           : "<Future finished>";
}

void FutureCore::report_unretrieved() noexcept {
  try {
    const bool task = dynamic_cast<const TaskCore*>(this) != nullptr;
    report_to_loop(loop_,
                   task ? "Task exception was never retrieved"
                        : "Future exception was never retrieved",
                   error_, describe());
  } catch (...) {
    // Reporting must not fail a release; the report is lost.
  }
}

// --- TaskCore ----------------------------------------------------------------

TaskCore::Extras& TaskCore::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

const std::string& TaskCore::name() {
  Extras& e = extras();
  if (e.name.empty()) {
    if (id_ == 0) id_ = next_task_id.fetch_add(1, std::memory_order_relaxed);
    e.name = "Task-" + std::to_string(id_);
  }
  return e.name;
}

void TaskCore::set_name(std::string name) { extras().name = std::move(name); }

std::string TaskCore::describe() const {
  std::string name = extras_ && !extras_->name.empty()
                         ? extras_->name
                         : "Task-" + std::to_string(id_);
  std::string text = "<Task ";
  switch (state()) {
    case State::kPending:
      text += "pending";
      break;
    case State::kCancelled:
      text += "cancelled";
      break;
    case State::kFinished:
      text += "finished";
      break;
  }
  text += " name='" + name + "'";
  if (state() == State::kFinished) {
    if (auto error = const_cast<TaskCore*>(this)->peek_error()) {
      text += " exception=" + repr(error);
    }
  }
  return text + ">";
}

bool TaskCore::cancel(std::string message) {
  if (done()) return false;
  // A coroutine running inline is cancelled with the task it runs in.
  if (!is_root()) return root_->cancel(std::move(message));
  if (!started_) {
    // Never scheduled nor awaited: it will never run.
    settle(State::kCancelled,
           std::make_exception_ptr(asyncio::CancelledError(message)));
    return true;
  }
  Extras& extras = this->extras();  // allocated before anything changes
  ++cancels_requested_;
  if (Suspension* wait = waiting_on_) {
    if (wait->cancel_wait(message)) return true;
    waiting_on_ = nullptr;
    must_cancel_ = true;
    extras.cancel_message = std::move(message);
    wake();
    return true;
  }
  must_cancel_ = true;
  extras.cancel_message = std::move(message);
  return true;
}

void TaskCore::raise_cancelled() {
  must_cancel_ = false;
  throw asyncio::CancelledError(extras_ ? extras_->cancel_message
                                        : std::string());
}

void TaskCore::schedule_first(asyncio::EventLoop& loop) {
  set_loop(&loop);
  started_ = true;
  if (id_ == 0) id_ = next_task_id.fetch_add(1, std::memory_order_relaxed);
  loop.adopt_task(*this);
  loop.push_ready(&TaskCore::step_entry, this);
}

void TaskCore::wake() noexcept {
  waiting_on_ = nullptr;
  loop()->push_ready(&TaskCore::step_entry, this);
}

void TaskCore::yield_once() noexcept {
  loop()->push_ready(&TaskCore::step_entry, this);
}

void TaskCore::step() noexcept {
  TaskCore* const outer = tls_current_task;
  tls_current_task = this;
  if (!ran_) {
    ran_ = true;
    if (must_cancel_) {
      // Cancelled before its first step: the body never runs.
      must_cancel_ = false;
      settle(State::kCancelled,
             std::make_exception_ptr(asyncio::CancelledError(
                 extras_ ? extras_->cancel_message : std::string())));
    }
  }
  if (!done()) {
    do {
      runnable_ = false;
      leaf_.resume();
    } while (runnable_);
  }
  tls_current_task = outer;
  if (done() && loop() != nullptr) loop()->forget_task(*this);
}

void TaskCore::on_final(std::exception_ptr error) noexcept {
  if (is_root() && must_cancel_ && error == nullptr) {
    // Cancelled while running and returned before another await: the task
    // ends cancelled all the same, as in Python.
    must_cancel_ = false;
    error = std::make_exception_ptr(asyncio::CancelledError(
        extras_ ? extras_->cancel_message : std::string()));
  }
  const State state =
      is_cancelled_error(error) ? State::kCancelled : State::kFinished;
  settle(state, std::move(error));
  if (!is_root()) {
    root_->leaf_ = parent_;
    root_->runnable_ = true;
  }
}

void TaskCore::abandon() noexcept {
  if (waiting_on_ != nullptr) {
    waiting_on_->abandon();
    waiting_on_ = nullptr;
  }
  if (lingering != nullptr) {
    lingering->abandon();
    lingering = nullptr;
  }
}

TaskCore& current_task_or_throw() {
  if (tls_current_task == nullptr) {
    throw RuntimeError(
        "no running task: an asyncio awaitable must be awaited in a task "
        "that runs on an event loop");
  }
  return *tls_current_task;
}

// --- WaitList ----------------------------------------------------------------

bool WaitList::has_woken() const noexcept {
  for (Waiter* w = head_; w != nullptr; w = w->next_) {
    if (w->woken_) return true;
  }
  return false;
}

bool WaitList::enqueue(Waiter& w, TaskCore& task) noexcept {
  if (!task.suspend_on(&w)) return false;
  w.list_ = this;
  w.task_ = &task;
  w.woken_ = false;
  w.prev_ = tail_;
  w.next_ = nullptr;
  (tail_ != nullptr ? tail_->next_ : head_) = &w;
  tail_ = &w;
  ++size_;
  return true;
}

void WaitList::unlink(Waiter* w) noexcept {
  if (w->list_ != this) return;
  (w->prev_ != nullptr ? w->prev_->next_ : head_) = w->next_;
  (w->next_ != nullptr ? w->next_->prev_ : tail_) = w->prev_;
  w->prev_ = w->next_ = nullptr;
  w->list_ = nullptr;
  --size_;
}

namespace {
// Wakes a waiter that stays listed until its task runs.
void wake_listed(TaskCore* task, Suspension* waiter) noexcept {
  task->wake();
  task->lingering = waiter;
}
}  // namespace

bool WaitList::wake_head() noexcept {
  if (head_ == nullptr || head_->woken_) return false;
  head_->woken_ = true;
  wake_listed(head_->task_, head_);
  return true;
}

bool WaitList::wake_next() noexcept {
  for (Waiter* w = head_; w != nullptr; w = w->next_) {
    if (w->woken_) continue;
    w->woken_ = true;
    wake_listed(w->task_, w);
    return true;
  }
  return false;
}

std::size_t WaitList::wake_up_to(std::size_t n) noexcept {
  std::size_t woken = 0;
  for (Waiter* w = head_; w != nullptr && woken < n; w = w->next_) {
    if (w->woken_) continue;
    w->woken_ = true;
    wake_listed(w->task_, w);
    ++woken;
  }
  return woken;
}

bool WaitList::pop_first() noexcept {
  Waiter* w = head_;
  if (w == nullptr) return false;
  unlink(w);
  w->woken_ = true;
  w->task_->wake();
  return true;
}

bool WaitList::resume_first() noexcept {
  Waiter* w = head_;
  if (w == nullptr || w->woken_) return false;
  unlink(w);
  w->woken_ = true;
  w->task_->resume_waiting();
  return true;
}

// --- awaiters ----------------------------------------------------------------

bool CoreAwaiter::await_suspend(std::coroutine_handle<> /*unused*/) {
  TaskCore& task = current_task_or_throw();
  if (&future_ == static_cast<FutureCore*>(&task)) {
    throw RuntimeError("Task cannot await on itself: " + task.describe());
  }
  task_ = &task;
  if (!task.suspend_on(this)) return false;
  node_.fn = &on_done;
  node_.owner = this;
  future_.add_done_callback(&node_);
  return true;
}

void CoreAwaiter::on_done(DoneCallback* cb, FutureCore& /*future*/) {
  static_cast<CoreAwaiter*>(cb->owner)->task_->resume_waiting();
}

bool CoreAwaiter::cancel_wait(const std::string& message) {
  if (!shielded_ && future_.cancel(message)) return true;
  future_.remove_done_callback(&node_);
  return false;
}

namespace {

// A sleep's timer: resumes the task when due.
class WakeTimer final : public HandleBase {
 public:
  explicit WakeTimer(TaskCore* task) noexcept : task_(task) {}

 private:
  void run() override { task_->resume_waiting(); }
  TaskCore* task_;
};

}  // namespace

SleepAwaiter::~SleepAwaiter() {
  if (timer_ != nullptr) {
    timer_->cancel();
    timer_->release();
  }
}

bool SleepAwaiter::await_suspend(std::coroutine_handle<> /*unused*/) {
  TaskCore& task = current_task_or_throw();
  task_ = &task;
  if (delay_ <= delay_.zero()) {
    if (task.cancel_pending()) return false;
    task.yield_once();
    return true;
  }
  if (task.cancel_pending()) return false;
  timer_ = new WakeTimer(&task);
  task.loop()->add_timer(timer_, std::chrono::steady_clock::now() + delay_);
  (void)task.suspend_on(this);
  return true;
}

bool SleepAwaiter::cancel_wait(const std::string& /*message*/) {
  timer_->cancel();
  return false;
}

void SleepAwaiter::abandon() noexcept { timer_->cancel(); }

WaitState::WaitState(std::vector<TaskCore*> tasks, asyncio::WaitOptions options)
    : tasks_(std::move(tasks)),
      nodes_(tasks_.size()),
      waiter_(asyncio::get_running_loop()),
      pending_(tasks_.size()),
      return_when_(options.return_when) {
  // The timer first: once the callbacks are on the tasks nothing may throw.
  if (options.timeout) {
    // A negative timeout is "now", as in Python.
    const auto timeout = std::max(*options.timeout, options.timeout->zero());
    timer_ = asyncio::get_running_loop().call_later(
        timeout, [this] { release_waiter(); });
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    nodes_[i].fn = &on_done;
    nodes_[i].owner = this;
    tasks_[i]->add_done_callback(&nodes_[i]);
  }
}

WaitState::~WaitState() {
  timer_.cancel();
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    tasks_[i]->remove_done_callback(&nodes_[i]);
  }
}

void WaitState::release_waiter() noexcept {
  timer_.cancel();
  if (!waiter_.done()) waiter_.set_result();
}

void WaitState::on_done(DoneCallback* cb, FutureCore& task) {
  auto* self = static_cast<WaitState*>(cb->owner);
  --self->pending_;
  // peek: waiting is not retrieving (Python's wait looks only for
  // FIRST_EXCEPTION, with f.exception(); a failure stays unretrieved).
  const bool failed = !task.cancelled() && task.peek_error() != nullptr;
  if (self->pending_ == 0 ||
      self->return_when_ == asyncio::ReturnWhen::FIRST_COMPLETED ||
      (self->return_when_ == asyncio::ReturnWhen::FIRST_EXCEPTION && failed)) {
    self->release_waiter();
  }
}

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

asyncio_detail::SleepAwaiter sleep(double seconds) {
  if (std::isnan(seconds)) throw ValueError("Invalid value NaN (not a number)");
  return sleep(std::chrono::duration<double>(seconds));
}

TaskHandle current_task() noexcept {
  return TaskHandle(asyncio_detail::tls_current_task);
}

std::vector<TaskHandle> all_tasks(EventLoop* loop) {
  if (loop == nullptr) loop = &get_running_loop();
  std::vector<TaskHandle> out;
  for (auto* t = loop->first_task(); t != nullptr; t = t->next_in_loop) {
    if (!t->done()) out.emplace_back(t);
  }
  return out;
}

}  // namespace concur::asyncio
