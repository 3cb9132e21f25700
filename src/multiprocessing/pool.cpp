// multiprocessing::Pool's out-of-line members: its options, checked with
// Python's messages, become a ProcessPoolExecutor's, and its states.
#include <string>
#include <utility>

#include "concur/multiprocessing.hpp"

namespace concur::multiprocessing {

namespace {

futures::ProcessPoolOptions executor_options(PoolOptions&& options) {
  if (options.processes && *options.processes < 1) {
    throw ValueError("Number of processes must be at least 1");
  }
  if (options.maxtasksperchild && *options.maxtasksperchild < 1) {
    throw ValueError("maxtasksperchild must be a positive int or None");
  }
  // A dead worker costs its task only: Python's Pool replaces the worker
  // too (and leaves the task pending for ever).
  return {.max_workers = options.processes,
          .initializer = std::move(options.initializer),
          .max_tasks_per_child = options.maxtasksperchild,
          .replace_dead_workers = true,
          .mp_context = options.context};
}

}  // namespace

Pool::Pool(PoolOptions options)
    : executor_(executor_options(std::move(options))) {}

// The executor's destructor then waits for the workers to end.
Pool::~Pool() { terminate(); }

// The state only tells the calls what they may do; the executor orders the
// work itself, so relaxed is enough throughout.
void Pool::close() {
  State running = kRunning;
  if (state_.compare_exchange_strong(running, kClosed,
                                     std::memory_order_relaxed)) {
    executor_.shutdown(/*wait=*/false);
  }
}

void Pool::terminate() {
  if (state_.exchange(kTerminated, std::memory_order_relaxed) != kTerminated) {
    executor_.terminate_workers();
  }
}

void Pool::join() {
  if (state_.load(std::memory_order_relaxed) == kRunning) {
    throw ValueError("Pool is still running");
  }
  executor_.shutdown(/*wait=*/true);
}

void Pool::check_running() const {
  if (state_.load(std::memory_order_relaxed) != kRunning) {
    throw ValueError("Pool not running");
  }
}

void Pool::check_chunksize(std::ptrdiff_t chunksize) {
  if (chunksize < 1) {
    throw ValueError("Chunksize must be 1+, not " + std::to_string(chunksize));
  }
}

}  // namespace concur::multiprocessing
