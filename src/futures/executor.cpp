#include <algorithm>

#include "concur/futures.hpp"
#include "concur/os.hpp"
#include "futures/scheduler.hpp"

namespace concur::futures {

namespace {

std::size_t checked_max_workers(const std::optional<std::ptrdiff_t>& wanted) {
  if (!wanted) {
    // Python's default: enough threads for I/O-bound work, but bounded.
    return std::min<std::size_t>(32, os::process_cpu_count() + 4);
  }
  if (*wanted <= 0) throw ValueError("max_workers must be greater than 0");
  return static_cast<std::size_t>(*wanted);
}

}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(std::ptrdiff_t max_workers)
    : ThreadPoolExecutor(ThreadPoolOptions{max_workers, {}, {}}) {}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : scheduler_(
          new futures_detail::Scheduler(futures_detail::Scheduler::Options{
              checked_max_workers(options.max_workers),
              std::move(options.thread_name_prefix),
              std::move(options.initializer)})) {}

ThreadPoolExecutor::~ThreadPoolExecutor() = default;

void ThreadPoolExecutor::shutdown(bool wait, bool cancel_futures) {
  scheduler_->shutdown(wait, cancel_futures);
}

std::size_t ThreadPoolExecutor::max_workers() const noexcept {
  return scheduler_->max_workers();
}

}  // namespace concur::futures
