#include <algorithm>
#include <thread>

#include "concur/futures.hpp"

namespace concur::futures {

namespace {
std::size_t default_max_workers() {
  // Python's default: enough threads for I/O-bound work, but bounded.
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min<std::size_t>(32, cores + 4);
}
}  // namespace

ThreadPoolExecutor::ThreadPoolExecutor(std::ptrdiff_t max_workers)
    : ThreadPoolExecutor([&] {
        if (max_workers <= 0)
          throw ValueError("max_workers must be greater than 0");
        return ThreadPoolOptions{static_cast<std::size_t>(max_workers), {}, {}};
      }()) {}

ThreadPoolExecutor::ThreadPoolExecutor(ThreadPoolOptions options)
    : scheduler_(std::make_unique<detail::Scheduler>(detail::Scheduler::Options{
          options.max_workers == 0 ? default_max_workers()
                                   : options.max_workers,
          std::move(options.thread_name_prefix),
          std::move(options.initializer)})) {}

}  // namespace concur::futures
