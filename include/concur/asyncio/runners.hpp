// concur/asyncio/runners.hpp — run() and Runner (Python's asyncio.runners).
#pragma once

#include <memory>
#include <utility>

#include "concur/asyncio/events.hpp"
#include "concur/asyncio/tasks.hpp"

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// Runner — Python's asyncio.Runner: a loop made for a few top-level calls.
//
// run(task) runs the loop until the task is done and gives its value.
// close() (and the destructor) ends the loop as asyncio.run does: cancels
// the tasks still running and runs the loop until they have ended
// (reporting those that fail instead), shuts the default executor down,
// and closes the loop. RuntimeError if run() is called while a loop runs
// on this thread, or after close().
class Runner {
 public:
  Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;
  ~Runner();

  template <class T>
  T run(Task<T> main) {
    check_can_run();
    return loop_->run_until_complete(std::move(main));
  }
  EventLoop& get_loop();
  void close();

 private:
  void check_can_run() const;
  std::unique_ptr<EventLoop> loop_;
  bool closed_ = false;
};

// Runs `main` on a new loop and closes the loop (Python's asyncio.run).
template <class T>
T run(Task<T> main) {
  Runner runner;
  if constexpr (std::is_void_v<T>) {
    runner.run(std::move(main));
  } else {
    T value = runner.run(std::move(main));
    return value;
  }
}

}  // namespace concur::asyncio
