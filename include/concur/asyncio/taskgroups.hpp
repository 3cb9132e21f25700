// concur/asyncio/taskgroups.hpp — TaskGroup (Python's asyncio.taskgroups).
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "concur/asyncio/events.hpp"
#include "concur/asyncio/futures.hpp"
#include "concur/asyncio/tasks.hpp"

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// TaskGroup — Python's asyncio.TaskGroup: tasks that end together.
//
//   asyncio::TaskGroup tg;
//   co_await tg.run(body(tg));   // body calls tg.create_task(...)
//
// run(body) runs body() in the current task, then waits for every task
// created in the group. The first task to fail cancels the others and the
// body; once all have ended, every failure comes out together as an
// ExceptionGroup ("unhandled errors in a TaskGroup"), or a
// BaseExceptionGroup if one is not an Error. A cancel from outside the group
// cancels its tasks and comes out as CancelledError; the group's own
// cancel of the body is taken back (uncancel), so it never swallows one
// from outside.
//
// create_task raises RuntimeError before run(), after the group has ended,
// and while it is shutting down after a failure (the task is then not
// started). A group runs once. Belongs to the loop's thread.
//
// Differences from Python: `async with` is run(body); the body is a Task
// (a coroutine function taking the group by reference), since a coroutine
// lambda with captures is unsafe on g++ 12.
class TaskGroup {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  // Cancels tasks still running (a group whose run() never ended).
  ~TaskGroup();

  template <class T>
  Task<T> create_task(Task<T> task, std::string name = {}) {
    check_can_create();
    Task<T> child =
        asyncio::create_task(*loop_, std::move(task), std::move(name));
    adopt(child.core());
    return child;
  }

  Task<void> run(Task<void> body);

 private:
  void check_can_create() const;
  void adopt(asyncio_detail::TaskCore* child);
  static void on_child_done(asyncio_detail::DoneCallback* cb,
                            asyncio_detail::FutureCore& child);
  void child_done(asyncio_detail::TaskCore& child);
  void abort();
  // What __aexit__ decides once every task has ended.
  void finish(std::exception_ptr body_error,
              std::exception_ptr propagate_cancel);

  struct Child {
    asyncio_detail::TaskCore* task;
    asyncio_detail::DoneCallback node;
  };
  EventLoop* loop_ = nullptr;
  asyncio_detail::TaskCore* parent_ = nullptr;
  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
  std::unordered_map<asyncio_detail::TaskCore*, std::unique_ptr<Child>>
      children_;
  std::size_t running_ = 0;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  std::optional<Future<void>> all_done_;
};

}  // namespace concur::asyncio
