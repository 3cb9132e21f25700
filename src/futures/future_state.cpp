#include "concur/detail/future_state.hpp"

#include <cstdio>
#include <string>

#include "concur/detail/futex.hpp"
#include "concur/futures.hpp"

namespace concur::futures::detail {

namespace cd = concur::detail;

namespace {
bool is_done(std::uint32_t status) noexcept {
  return (status & StateBase::kStateMask) >= StateBase::kCancelled;
}

// Python logs "exception calling callback for <Future>" and goes on.
void run_callback(std::function<void()>& callback) noexcept {
  try {
    callback();
  } catch (const std::exception& e) {
    std::string text = std::string("exception calling callback for future: ") +
                       e.what() + "\n";
    std::fputs(text.c_str(), stderr);
  } catch (...) {
    std::fputs("exception calling callback for future: unknown exception\n",
               stderr);
  }
}
}  // namespace

void throw_invalid_state(const char* what) { throw InvalidStateError(what); }
void throw_cancelled() { throw CancelledError("the future was cancelled"); }
void throw_timeout(const std::string& what) { throw TimeoutError(what); }

bool StateBase::set_running_or_notify_cancel() {
  std::uint32_t s = status_.load(std::memory_order_relaxed);
  for (;;) {
    switch (s & kStateMask) {
      case kCancelled:
        return false;
      case kPending:
        // Acquire: the runner sees everything the submitter wrote, even for
        // a future handed over by other means than a pool queue.
        if (status_.compare_exchange_weak(s, (s & ~kStateMask) | kRunning,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
          return true;
        }
        break;
      default:
        throw RuntimeError(
            "Future in unexpected state: already running or done");
    }
  }
}

bool StateBase::cancel() {
  std::uint32_t s = status_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t state = s & kStateMask;
    if (state == kCancelled) return true;
    if (state != kPending) return false;
    // acq_rel: as finish(); cancelling publishes "cancelled" to waiters.
    if (status_.compare_exchange_weak(s, (s & ~kStateMask) | kCancelled,
                                      std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      complete(s);
      return true;
    }
  }
}

bool StateBase::finish() noexcept {
  std::uint32_t s = status_.load(std::memory_order_relaxed);
  for (;;) {
    std::uint32_t state = s & kStateMask;
    if (state == kCancelled || state == kFinished) return false;
    // Release: publishes value_ / error_ to every reader that sees
    // kFinished with an acquire load. Acquire: orders the listener flags we
    // read with the registrations that set them (under mu_).
    if (status_.compare_exchange_weak(s, (s & ~kStateMask) | kFinished,
                                      std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      complete(s);
      return true;
    }
  }
}

void StateBase::complete(std::uint32_t old_status) noexcept {
  if ((old_status & kSleepers) != 0) cd::futex_wake_all(status_);
  if ((old_status & kListeners) == 0) return;
  std::vector<std::function<void()>> callbacks;
  {
    cd::ScopedLock guard(mu_);
    if (!listeners_) return;
    callbacks.swap(listeners_->callbacks);
    // Under mu_, so that a waiter cannot unregister and die meanwhile.
    for (CompletionWaiter* waiter : listeners_->waiters) waiter->on_done(*this);
    listeners_->waiters.clear();
  }
  for (auto& callback : callbacks) run_callback(callback);
}

bool StateBase::wait_until(const Deadline& deadline) {
  for (int i = 0; i < cd::spin_limit(); ++i) {
    if (done()) return true;
    cd::cpu_relax();
  }
  std::uint32_t s = status_.load(std::memory_order_relaxed);
  while (!is_done(s)) {
    if ((s & kSleepers) == 0) {
      // Relaxed: the flag only asks the completer for a wake-up; the
      // completer's CAS reads it as part of the same word.
      if (!status_.compare_exchange_weak(s, s | kSleepers,
                                         std::memory_order_relaxed)) {
        continue;
      }
      s |= kSleepers;
    }
    if (!cd::futex_wait(status_, s, deadline)) break;
    s = status_.load(std::memory_order_relaxed);
  }
  return done();
}

std::exception_ptr StateBase::error_after_done() const {
  if (state() == kCancelled) throw_cancelled();
  return error_;
}

void StateBase::add_done_callback(std::function<void()> callback) {
  {
    cd::ScopedLock guard(mu_);
    // The flag and the done check are one atomic step: either the completer
    // will see the flag (and run the list, after we unlock), or we see it
    // done and run the callback ourselves. Never both, never neither.
    std::uint32_t old = status_.fetch_or(kListeners, std::memory_order_acq_rel);
    if (!is_done(old)) {
      if (!listeners_) listeners_ = std::make_unique<Listeners>();
      listeners_->callbacks.push_back(std::move(callback));
      return;
    }
  }
  run_callback(callback);
}

bool StateBase::add_waiter(CompletionWaiter& waiter) {
  cd::ScopedLock guard(mu_);
  std::uint32_t old = status_.fetch_or(kListeners, std::memory_order_acq_rel);
  if (is_done(old)) return false;
  if (!listeners_) listeners_ = std::make_unique<Listeners>();
  listeners_->waiters.push_back(&waiter);
  return true;
}

void StateBase::remove_waiter(CompletionWaiter& waiter) {
  cd::ScopedLock guard(mu_);
  if (listeners_) std::erase(listeners_->waiters, &waiter);
}

bool StateBase::try_set_exception(std::exception_ptr error) {
  return store_error(std::move(error)) && finish();
}

bool StateBase::store_error(std::exception_ptr error) noexcept {
  if (!claim()) return false;
  error_ = std::move(error);
  return true;
}

}  // namespace concur::futures::detail
