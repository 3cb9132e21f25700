#include <atomic>
#include <string>

#include "concur/errors.hpp"
#include "concur/multiprocessing.hpp"

namespace concur::multiprocessing {

namespace {

enum : int { kUnset, kFork, kForkserver };
// The default method. Relaxed: a setting read on its own; set_start_method
// and get_start_method agree through the compare-exchange alone.
std::atomic<int> chosen{kUnset};

int method_of(std::string_view name) {
  if (name == "fork") return kFork;
  if (name == "forkserver") return kForkserver;
  throw ValueError("cannot find context for '" + std::string(name) + "'");
}

int fixed_method() {
  int expected = kUnset;
  chosen.compare_exchange_strong(expected, kFork, std::memory_order_relaxed);
  return expected == kUnset ? kFork : expected;
}

}  // namespace

std::string_view Context::get_start_method() const noexcept {
  return forkserver_ ? "forkserver" : "fork";
}

Context get_context(std::string_view method) {
  const int m = method.empty() ? fixed_method() : method_of(method);
  return Context(m == kForkserver);
}

void set_start_method(std::string_view method, bool force) {
  const int m = method_of(method);
  if (force) {
    chosen.store(m, std::memory_order_relaxed);
    return;
  }
  int expected = kUnset;
  if (!chosen.compare_exchange_strong(expected, m, std::memory_order_relaxed)) {
    throw RuntimeError("context has already been set");
  }
}

std::optional<std::string> get_start_method(bool allow_none) {
  int m = chosen.load(std::memory_order_relaxed);
  if (m == kUnset) {
    if (allow_none) return std::nullopt;
    m = fixed_method();
  }
  return m == kForkserver ? "forkserver" : "fork";
}

std::vector<std::string> get_all_start_methods() {
  return {"fork", "forkserver"};
}

}  // namespace concur::multiprocessing
