#include "common/exit_registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "common/fork.hpp"
#include "concur/annotations.hpp"
#include "concur/atexit.hpp"
#include "concur/threading.hpp"

namespace concur::detail {

namespace {

constexpr int kStages = static_cast<int>(ExitStage::kChildren) + 1;

class ExitRegistry {
 public:
  void add(ExitStage stage, std::function<void()> handler) {
    ScopedLock guard(mu_);
    if (!installed_) {
      installed_ = true;
      std::atexit([] { registry().run(); });
    }
    stages_[static_cast<int>(stage)].push_back(std::move(handler));
  }

  // Each stage runs until its list is empty, so that a handler may add
  // more to its own stage or a later one.
  void run(bool with_atexit = true) {
    for (int stage = 0; stage < kStages; ++stage) {
      if (!with_atexit && stage == static_cast<int>(ExitStage::kAtexit)) {
        continue;
      }
      while (std::function<void()> handler = take(stage)) call(handler);
    }
  }

  // Never destroyed: handlers run while statics die.
  static ExitRegistry& registry() {
    static auto* r = [] {
      // Held across fork() (common/fork.hpp), so that the child's lists
      // are whole.
      at_fork(ForkOrder::kExitSequence,
              {[] { lock_for_fork(); }, [] { unlock_after_fork(); },
               [] { unlock_after_fork(); }});
      return new ExitRegistry;
    }();
    return *r;
  }

 private:
  static void lock_for_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    registry().mu_.acquire();
  }
  static void unlock_after_fork() CONCUR_NO_THREAD_SAFETY_ANALYSIS {
    registry().mu_.release();
  }

  std::function<void()> take(int stage) {
    ScopedLock guard(mu_);
    auto& handlers = stages_[stage];
    if (handlers.empty()) return nullptr;
    std::function<void()> last = std::move(handlers.back());
    handlers.pop_back();
    return last;
  }

  // Python prints "Exception ignored in atexit callback" and goes on.
  static void call(std::function<void()>& handler) noexcept {
    try {
      handler();
    } catch (const std::exception& e) {
      std::string text = std::string("Exception ignored in atexit callback: ") +
                         e.what() + "\n";
      std::fputs(text.c_str(), stderr);
    } catch (...) {
      std::fputs("Exception ignored in atexit callback\n", stderr);
    }
  }

  threading::Lock mu_;
  bool installed_ CONCUR_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> stages_[kStages] CONCUR_GUARDED_BY(mu_);
};

}  // namespace

void at_exit(ExitStage stage, std::function<void()> handler) {
  ExitRegistry::registry().add(stage, std::move(handler));
}

void run_child_exit_sequence() { ExitRegistry::registry().run(false); }

}  // namespace concur::detail

void concur::atexit::register_(std::function<void()> fn) {
  detail::at_exit(detail::ExitStage::kAtexit, std::move(fn));
}
