// The shared state behind concur::futures::Future<T>, and the task that a
// pool runs to fill it.
//
// One allocation holds the whole story of a submitted call: the callable and
// its arguments, the status word, the result or the exception, and the
// listeners (done-callbacks and the waiters of wait() / as_completed()). A
// Future is a counted reference to it; so is a pool queue while the task is
// queued.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "concur/detail/deadline.hpp"
#include "concur/detail/thread_annotations.hpp"
#include "concur/threading.hpp"

namespace concur::futures::detail {

using concur::detail::Deadline;

class StateBase;

// Someone waiting for several futures at once (wait(), as_completed()). It is
// linked into each future's listener list and told of each completion.
class CompletionWaiter {
 public:
  virtual void on_done(StateBase& state) = 0;

 protected:
  ~CompletionWaiter() = default;
};

[[noreturn]] void throw_invalid_state(const char* what);

// The type-independent part of a future's state.
class StateBase {
 public:
  // The status word, also the futex word that result() sleeps on.
  //   bits 0-1  the state: kPending, kRunning, kCancelled or kFinished;
  //             it only moves forward (pending -> running -> finished,
  //             pending -> cancelled, pending -> finished);
  //   kSleepers some thread sleeps on the futex: completion must wake it;
  //   kListeners callbacks or waiters are registered under mu_: completion
  //             must lock mu_ and run them.
  // The flags are set with fetch_or before sleeping / registering, so the
  // completer, whose CAS moves the state, either sees them or is seen.
  static constexpr std::uint32_t kPending = 0;
  static constexpr std::uint32_t kRunning = 1;
  static constexpr std::uint32_t kCancelled = 2;
  static constexpr std::uint32_t kFinished = 3;
  static constexpr std::uint32_t kStateMask = 3;
  static constexpr std::uint32_t kSleepers = 4;
  static constexpr std::uint32_t kListeners = 8;

  StateBase() noexcept = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  void retain() noexcept {
    // Relaxed: a new reference is made from an existing one, which already
    // keeps the object alive; no data is published by counting.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: every owner's last use happens-before the delete.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::uint32_t state() const noexcept {
    // Acquire: a reader that sees kFinished also sees the value or error.
    return status_.load(std::memory_order_acquire) & kStateMask;
  }
  bool done() const noexcept { return state() >= kCancelled; }

  // Python's set_running_or_notify_cancel: pending -> running (true), or
  // false if cancelled. Throws RuntimeError in any other state.
  bool set_running_or_notify_cancel();
  // pending -> cancelled; true if cancelled now or before.
  bool cancel();
  // Blocks until done or the deadline; returns done().
  bool wait_until(const Deadline& deadline);
  // Throws CancelledError if cancelled; returns the stored exception (null
  // if none). Call only when done().
  std::exception_ptr error_after_done() const;

  // Runs `callback` once the future is done: now, if it is.
  void add_done_callback(std::function<void()> callback);
  // Registers a waiter; returns false (and registers nothing) if done.
  bool add_waiter(CompletionWaiter& waiter);
  void remove_waiter(CompletionWaiter& waiter);

  // Store the error and finish; false if the future was done (or being
  // completed) already, in which case nothing is stored.
  bool try_set_exception(std::exception_ptr error);
  // The first half of try_set_exception: store without publishing.
  bool store_error(std::exception_ptr error) noexcept;

  // The stop source of a task that takes a std::stop_token (or null).
  virtual std::stop_source* stop_source() noexcept { return nullptr; }

  // Runs the submitted call, if this state is a task.
  // A task runs in two steps, so that a pool can count its worker as idle
  // between them (before anyone waiting on the result can react):
  // run_call() runs the call and stores its value or exception, returning
  // whether there is a result to publish (false if the task was cancelled
  // or its result was set by hand meanwhile); publish() then completes the
  // future. A state that is not a task has nothing to run.
  virtual bool run_call() { return false; }
  void publish() noexcept { finish(); }

  // Intrusive link for a pool's inbox (see task_inbox.hpp).
  std::atomic<StateBase*> next_in_queue{nullptr};

 protected:
  virtual ~StateBase() = default;

  // The right to store a result: the first caller gets it, so that two
  // concurrent setters never both write the value. Relaxed: it orders
  // nothing, only the winner writes.
  bool claim() noexcept {
    return !done() && !claimed_.exchange(true, std::memory_order_relaxed);
  }
  // Moves a pending or running future to finished, after the claimant has
  // stored the value or the error; false if a cancel() won the race.
  bool finish() noexcept;

  std::exception_ptr error_;  // written before finish(), read after done

 private:
  void complete(std::uint32_t old_status) noexcept;

  // Starts at 1: the reference of whoever made the state.
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<std::uint32_t> status_{kPending};
  std::atomic<bool> claimed_{false};
  threading::Lock mu_;
  // Made by the first add_done_callback or add_waiter: most futures never
  // have listeners, and a small state is a cheap allocation.
  struct Listeners {
    std::vector<std::function<void()>> callbacks;
    std::vector<CompletionWaiter*> waiters;
  };
  std::unique_ptr<Listeners> listeners_ CONCUR_GUARDED_BY(mu_);
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class State : public StateBase {
 public:
  // Stores the value and finishes; false if the future was done (or being
  // completed) already.
  template <class... Args>
  bool try_set_value(Args&&... args) {
    if (!this->claim()) return false;
    try {
      value_.emplace(std::forward<Args>(args)...);
    } catch (...) {
      // The claim is ours: the future must still end, with this error.
      this->error_ = std::current_exception();
      this->finish();
      throw;
    }
    return this->finish();
  }
  // The first half of try_set_value: store without publishing. Returns
  // whether the value (or the error its construction threw) is stored.
  template <class... Args>
  bool store_value(Args&&... args) noexcept {
    if (!this->claim()) return false;
    try {
      value_.emplace(std::forward<Args>(args)...);
    } catch (...) {
      this->error_ = std::current_exception();
    }
    return true;
  }
  // Call only when done() and not failed.
  const Stored<T>& value() const noexcept { return *value_; }
  // For a consumer that is the only reader (map's chunks).
  Stored<T>& mutable_value() noexcept { return *value_; }

 private:
  std::optional<Stored<T>> value_;
};

// The result type of calling F with Args, with a std::stop_token first if F
// accepts one. A task is called once, so, as std::thread does, it gets its
// callable and its arguments as rvalues: move-only parameters work.
template <class F, class... Args>
constexpr bool kTakesStopToken =
    std::is_invocable_v<F&&, std::stop_token, Args&&...>;

template <class F, class... Args>
struct CallResult {
  using type = std::invoke_result_t<F&&, Args&&...>;
};
template <class F, class... Args>
requires kTakesStopToken<F, Args...>
struct CallResult<F, Args...> {
  using type = std::invoke_result_t<F&&, std::stop_token, Args&&...>;
};

// A submitted call: the state plus the callable and its arguments.
template <class R, class F, class... Args>
class Task final : public State<R> {
 public:
  template <class G, class... A>
  explicit Task(G&& fn, A&&... args)
      : call_(std::forward<G>(fn), std::forward<A>(args)...) {}

  std::stop_source* stop_source() noexcept override {
    if constexpr (kTakesStopToken<F, Args...>) {
      return &stop_;
    } else {
      return nullptr;
    }
  }

  bool run_call() override {
    if (!this->set_running_or_notify_cancel()) return false;
    // A false store means the caller set the result by hand while the
    // task ran; as in Python, the first result stands.
    try {
      if constexpr (std::is_void_v<R>) {
        invoke();
        return this->store_value();
      } else {
        return this->store_value(invoke());
      }
    } catch (...) {
      return this->store_error(std::current_exception());
    }
  }

 private:
  decltype(auto) invoke() {
    return std::apply(
        [&](F& fn, Args&... args) -> decltype(auto) {
          if constexpr (kTakesStopToken<F, Args...>) {
            return std::invoke(std::move(fn), this->stop_source()->get_token(),
                               std::move(args)...);
          } else {
            return std::invoke(std::move(fn), std::move(args)...);
          }
        },
        call_);
  }

  std::tuple<F, Args...> call_;
  // Only tasks that take a stop token pay for a stop source.
  [[no_unique_address]] std::conditional_t<kTakesStopToken<F, Args...>,
                                           std::stop_source, std::monostate>
      stop_;
};

}  // namespace concur::futures::detail
