// Timeout, TaskGroup and Runner: the scopes over a piece of a task, and
// over a loop's whole life.
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "concur/asyncio/runners.hpp"
#include "concur/asyncio/taskgroups.hpp"
#include "concur/asyncio/timeouts.hpp"

namespace concur::asyncio {

namespace {

bool is_cancelled_error(const std::exception_ptr& error) {
  if (error == nullptr) return false;
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError&) {
    return true;
  } catch (...) {
    return false;
  }
}

// What Python lets through a TaskGroup at once (its KeyboardInterrupt and
// SystemExit): here SystemExit.
bool is_base_error(const std::exception_ptr& error) {
  if (error == nullptr) return false;
  try {
    std::rethrow_exception(error);
  } catch (const SystemExit&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace

// --- Timeout
// -------------------------------------------------------------------

void Timeout::enter() {
  if (state_ != State::kCreated) {
    throw RuntimeError("Timeout has already been entered");
  }
  task_ = &asyncio_detail::current_task_or_throw();
  state_ = State::kEntered;
  cancelling_ = task_->cancelling();
  arm();
}

void Timeout::arm() {
  handle_.cancel();
  handle_ = Handle();
  if (!when_) return;
  EventLoop& loop = *task_->loop();
  if (*when_ <= Clock::now()) {
    handle_ = loop.call_soon([this] { on_timeout(); });
  } else {
    handle_ = loop.call_at_point(*when_, [this] { on_timeout(); });
  }
}

void Timeout::reschedule(std::optional<Clock::time_point> when) {
  switch (state_) {
    case State::kEntered:
      break;
    case State::kCreated:
      throw RuntimeError("Timeout has not been entered");
    case State::kExpiring:
      throw RuntimeError("Cannot change state of expiring Timeout");
    case State::kExpired:
      throw RuntimeError("Cannot change state of expired Timeout");
    case State::kExited:
      throw RuntimeError("Cannot change state of finished Timeout");
  }
  when_ = when;
  arm();
}

void Timeout::on_timeout() {
  task_->cancel("");
  state_ = State::kExpiring;
}

void Timeout::leave(const std::exception_ptr& error) {
  handle_.cancel();
  handle_ = Handle();
  if (state_ == State::kExpiring) {
    state_ = State::kExpired;
    // Only the scope's own cancel becomes TimeoutError: one more cancel
    // request than when the scope began is one from outside.
    if (task_->uncancel() <= cancelling_ && is_cancelled_error(error)) {
      try {
        std::rethrow_exception(error);
      } catch (const CancelledError&) {
        std::throw_with_nested(TimeoutError(""));
      }
    }
  } else if (state_ == State::kEntered) {
    state_ = State::kExited;
  }
}

// --- TaskGroup
// -----------------------------------------------------------------

TaskGroup::~TaskGroup() {
  for (auto& [task, child] : children_) {
    task->remove_done_callback(&child->node);
    if (!task->done()) task->cancel("");
    task->release();
  }
}

void TaskGroup::check_can_create() const {
  if (!entered_) throw RuntimeError("TaskGroup has not been entered");
  if (exiting_ && running_ == 0) throw RuntimeError("TaskGroup is finished");
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

void TaskGroup::adopt(asyncio_detail::TaskCore* child) {
  auto entry = std::make_unique<Child>();
  entry->task = child;
  entry->node.fn = &on_child_done;
  entry->node.owner = this;
  Child& placed = *children_.emplace(child, std::move(entry)).first->second;
  child->retain();
  child->add_done_callback(&placed.node);
  ++running_;
}

void TaskGroup::on_child_done(asyncio_detail::DoneCallback* cb,
                              asyncio_detail::FutureCore& child) {
  static_cast<TaskGroup*>(cb->owner)->child_done(
      static_cast<asyncio_detail::TaskCore&>(child));
}

void TaskGroup::child_done(asyncio_detail::TaskCore& child) {
  // Done children leave the group (a long-lived group does not grow); the
  // callback's caller holds the task meanwhile.
  children_.erase(&child);
  child.release();
  --running_;
  if (running_ == 0 && all_done_ && !all_done_->done()) {
    all_done_->set_result();
  }
  if (child.cancelled()) return;
  std::exception_ptr error = child.outcome_error();
  if (error == nullptr) return;
  errors_.push_back(error);
  if (is_base_error(error) && base_error_ == nullptr) base_error_ = error;
  if (!aborting_ && !parent_cancel_requested_) {
    abort();
    parent_cancel_requested_ = true;
    parent_->cancel("");
  }
}

void TaskGroup::abort() {
  aborting_ = true;
  // Cancelling may end a child at once (one never started), which erases
  // it from children_: cancel from a copy.
  std::vector<asyncio_detail::TaskCore*> running;
  for (auto& [task, child] : children_) running.push_back(task);
  for (auto* task : running) {
    if (!task->done()) task->cancel("");
  }
}

Task<void> TaskGroup::run(Task<void> body) {
  if (entered_) throw RuntimeError("TaskGroup has already been entered");
  entered_ = true;
  parent_ = &asyncio_detail::current_task_or_throw();
  loop_ = parent_->loop();
  std::exception_ptr body_error;
  try {
    co_await std::move(body);
  } catch (...) {
    body_error = std::current_exception();
  }

  // Python's __aexit__.
  exiting_ = true;
  if (is_base_error(body_error) && base_error_ == nullptr) {
    base_error_ = body_error;
  }
  std::exception_ptr propagate_cancel =
      is_cancelled_error(body_error) ? body_error : nullptr;
  // The group's own cancel of its parent is taken back; if none other is
  // left, the CancelledError that ended the body was the group's.
  if (parent_cancel_requested_ && parent_->uncancel() == 0) {
    propagate_cancel = nullptr;
  }
  if (body_error != nullptr && !aborting_) abort();
  while (running_ > 0) {
    all_done_.emplace(*loop_);
    try {
      co_await *all_done_;
    } catch (const CancelledError&) {
      if (!aborting_) {
        propagate_cancel = std::current_exception();
        abort();
      }
    }
  }
  all_done_.reset();
  if (base_error_ != nullptr) std::rethrow_exception(base_error_);
  if (propagate_cancel != nullptr && errors_.empty()) {
    std::rethrow_exception(propagate_cancel);
  }
  if (body_error != nullptr && !is_cancelled_error(body_error)) {
    errors_.push_back(body_error);
  }
  if (!errors_.empty()) {
    throw_exception_group("unhandled errors in a TaskGroup",
                          std::exchange(errors_, {}));
  }
}

// --- Runner
// --------------------------------------------------------------------

namespace {

// Waits for each task to end, whatever its outcome.
Task<void> wait_all(std::vector<TaskHandle> tasks) {
  for (auto& t : tasks) {
    co_await asyncio_detail::CoreAwaiter(*t.core(), true);
  }
}

}  // namespace

Runner::Runner() : loop_(new_event_loop()) {}

Runner::~Runner() {
  try {
    close();
  } catch (...) {
    EventLoop::print_report(
        {"Runner: closing the loop failed", std::current_exception(), ""});
  }
}

EventLoop& Runner::get_loop() {
  if (closed_) throw RuntimeError("Runner is closed");
  return *loop_;
}

void Runner::check_can_run() const {
  if (closed_) throw RuntimeError("Runner is closed");
  if (running_loop() != nullptr) {
    throw RuntimeError(
        "Runner.run() cannot be called from a running event loop");
  }
}

void Runner::close() {
  if (closed_) return;
  closed_ = true;
  std::vector<TaskHandle> left = all_tasks(loop_.get());
  if (!left.empty()) {
    for (auto& t : left) t.cancel();
    loop_->run_until_complete(wait_all(left));
    for (auto& t : left) {
      if (t.cancelled()) continue;
      if (auto error = t.core()->outcome_error()) {
        loop_->call_exception_handler(
            {"unhandled exception during asyncio.run() shutdown", error,
             t.core()->describe()});
      }
    }
  }
  loop_->close();
}

}  // namespace concur::asyncio
