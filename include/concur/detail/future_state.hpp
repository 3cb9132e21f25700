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
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stop_token>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "concur/annotations.hpp"
#include "concur/detail/assert.hpp"
#include "concur/detail/block_cache.hpp"
#include "concur/detail/sys/deadline.hpp"
#include "concur/threading.hpp"

namespace concur::futures_detail {

using sys::Deadline;

class StateBase;

class CompletionWaiter;

// An entry of a state's listener list. A waiter's entry is its own (one per
// future it waits on, made in one array), so that registering allocates
// nothing; a done-callback's entry belongs to the list.
struct ListenerLink {
  ListenerLink* next = nullptr;
  CompletionWaiter* waiter = nullptr;  // null for a done-callback
  std::size_t index = 0;               // the waiter's number for the future
};

// Someone waiting for one or several futures (wait(), as_completed(), a
// worker that runs tasks while it waits). It links a ListenerLink into each
// future's list and is told of each completion with the link's index.
class CompletionWaiter {
 public:
  // Called once per registered link, under the future's listener lock (so
  // the waiter cannot unregister and die meanwhile), after the future is
  // done.
  virtual void on_done(StateBase& state, std::size_t index) = 0;

 protected:
  ~CompletionWaiter() = default;
};

[[noreturn]] void throw_invalid_state(const char* what);
[[noreturn]] void throw_cancelled();

// The type-independent part of a future's state.
//
// Allocated from the thread's block cache (block_cache.hpp): a pool makes
// and frees one per submit.
class StateBase {
 public:
  // The state word. Its low 32 bits are the status, and also the futex word
  // that result() sleeps on; its high 32 bits count the references, so that
  // the runner of a task can publish the result and drop its reference in
  // one atomic step. The status:
  //   bits 0-1  the state: kPending, kRunning, kCancelled or kFinished;
  //             it only moves forward (pending -> running -> finished,
  //             pending -> cancelled, pending -> finished);
  //   kSleepers some thread sleeps on the futex: completion must wake it;
  //   kListeners callbacks or waiters are registered under the state's
  //             listener lock: completion must take it and run them;
  //   kClaimed  someone has the right to store the result: a hand setter
  //             (set_result), or a pool running the task, from the moment
  //             it starts the call.
  // The flags are set with an atomic read-modify-write before sleeping /
  // registering, so the completer, whose CAS moves the state, either sees
  // them or is seen. The sleepers flag lives in the state word rather than
  // in an EventCount beside it so that a completion learns whether to wake
  // anyone in the same step that publishes it, with no second word to
  // touch (and none to touch at all once a woken waiter may free the
  // state).
  static constexpr std::uint64_t kPending = 0;
  static constexpr std::uint64_t kRunning = 1;
  static constexpr std::uint64_t kCancelled = 2;
  static constexpr std::uint64_t kFinished = 3;
  static constexpr std::uint64_t kStateMask = 3;
  static constexpr std::uint64_t kSleepers = 4;
  static constexpr std::uint64_t kListeners = 8;
  static constexpr std::uint64_t kClaimed = 16;
  static constexpr std::uint64_t kOneRef = std::uint64_t{1} << 32;

  // One reference, its maker's (a Future made by hand).
  StateBase() noexcept = default;
  explicit StateBase(std::uint32_t references) noexcept
      : word_(references * kOneRef) {}
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;

  static void* operator new(std::size_t size) {
    return concur::detail::block_cache::allocate(size);
  }
  static void operator delete(void* block, std::size_t size) noexcept {
    concur::detail::block_cache::deallocate(block, size);
  }
  // Over-aligned callables bypass the cache.
  static void* operator new(std::size_t size, std::align_val_t align) {
    return ::operator new(size, align);
  }
  static void operator delete(void* block, std::align_val_t align) noexcept {
    ::operator delete(block, align);
  }

  void retain() noexcept {
    CONCUR_CHAOS_POINT();
    // Relaxed: a new reference is made from an existing one, which already
    // keeps the object alive; no data is published by counting.
    [[maybe_unused]] const std::uint64_t old =
        word_.fetch_add(kOneRef, std::memory_order_relaxed);
    CONCUR_ASSERT(old >= kOneRef, "a reference made from a dead future state");
  }
  void release() noexcept {
    CONCUR_CHAOS_POINT();
    // The last reference needs no atomic step: nobody is left to make a new
    // one from. Acquire (and acq_rel on the decrement): every other owner's
    // last use happens-before the delete.
    const std::uint64_t seen = word_.load(std::memory_order_acquire);
    CONCUR_ASSERT(seen >= kOneRef, "a future state released once too often");
    if (seen < 2 * kOneRef ||
        word_.fetch_sub(kOneRef, std::memory_order_acq_rel) < 2 * kOneRef) {
      delete this;
    }
  }

  std::uint64_t state() const noexcept {
    // Acquire: a reader that sees kFinished also sees the value or error.
    return word_.load(std::memory_order_acquire) & kStateMask;
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
  std::exception_ptr error_after_done() const {
    if (state() == kCancelled) throw_cancelled();
    return error_;
  }

  // Runs `callback` once the future is done: now, if it is.
  void add_done_callback(std::function<void()> callback);
  // Links a waiter's entry (its waiter and index set); returns false (and
  // links nothing) if done. remove_waiter unlinks it if still linked: once
  // the completion has reported it, the entry is the waiter's again.
  bool add_waiter(ListenerLink& link);
  void remove_waiter(ListenerLink& link);

  // Store the error and finish; false if the future was done (or being
  // completed) already, in which case nothing is stored.
  bool try_set_exception(std::exception_ptr error);

  // The stop source of a task that takes a std::stop_token (or null).
  virtual std::stop_source* stop_source() noexcept { return nullptr; }

  // For a pool, if this state is a task. A task runs in two steps, so that
  // the pool can count its worker as idle between them (before anyone
  // waiting on the result can react): run_call() runs the call and stores
  // its value or exception, returning whether it ran (false if the task was
  // cancelled, or its result was set by hand, before it started);
  // publish_and_release() then completes the future and drops the pool's
  // reference. run_call() destroys the callable and its arguments, whether
  // the call ran or not, so that nothing the call holds outlives it (as
  // Python drops a work item once it has run): a pool passes every task it
  // took through run_call() exactly once, also the tasks it drops unrun
  // (after cancelling them). A state that is not a task has nothing to run.
  virtual bool run_call() { return false; }
  void publish_and_release() noexcept;

  // Intrusive link for a pool's inbox (see task_inbox.hpp).
  std::atomic<StateBase*> next_in_queue{nullptr};

 protected:
  friend struct RemoteCompletion;  // an executor whose calls run elsewhere

  virtual ~StateBase() {
    if (listeners_ != nullptr) drop_listeners();
  }

  // The right to store a result by hand: the first caller gets it, so that
  // two concurrent setters never both write the value; false once done,
  // claimed, or running in a pool.
  bool claim() noexcept;
  // A pool's run of the task: pending -> running with the claim, so that
  // the call's result is the one stored. False if cancelled or claimed.
  bool start_call() noexcept;
  // Moves a pending or running future to finished, after the claimant has
  // stored the value or the error; false if a cancel() won the race.
  bool finish() noexcept;

  std::exception_ptr error_;  // written before finish(), read after done

 private:
  void complete(std::uint64_t old_word) noexcept;
  // The done-callbacks of a state that dies without completing.
  void drop_listeners() noexcept;

  // One reference (the maker's), pending.
  std::atomic<std::uint64_t> word_{kOneRef | kPending};
  // The lock that guards listeners_: one of a shared set, picked by the
  // state's address. Most futures never have listeners, and a lock in
  // every state would be a word more per task for that rare case.
  threading::Lock& listener_lock() const noexcept;
  // The registered callbacks and waiters, newest first; read and changed
  // only under listener_lock(). Completion detaches the whole list.
  ListenerLink* listeners_ = nullptr;
};

template <class T>
using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class T>
class State : public StateBase {
 public:
  using StateBase::StateBase;
  State() noexcept = default;

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
  // For the runner of a task, which holds the claim: stores the value, or
  // the error its construction threw.
  template <class... Args>
  void store_value(Args&&... args) noexcept {
    try {
      value_.emplace(std::forward<Args>(args)...);
    } catch (...) {
      this->error_ = std::current_exception();
    }
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

// A submitted call: the state plus the callable and its arguments. It
// starts with two references: its Future's and its WorkItem's (which an
// executor's queue takes over). The call lives from construction until
// run_call() (see StateBase), which is why it is a union member: the
// destructor leaves it alone. So a result that refers into the arguments
// (a string_view of a string argument) refers to destroyed memory, as it
// would once a Python work item is gone.
template <class R, class F, class... Args>
class Task final : public State<R> {
 public:
  template <class G, class... A>
  explicit Task(G&& fn, A&&... args)
      : State<R>(2), call_(std::forward<G>(fn), std::forward<A>(args)...) {}
  ~Task() override {
#if CONCUR_ASSERTS
    CONCUR_ASSERT(!call_alive_, "a task destroyed without passing run_call");
#endif
  }

  std::stop_source* stop_source() noexcept override {
    if constexpr (kTakesStopToken<F, Args...>) {
      return &stop_;
    } else {
      return nullptr;
    }
  }

  bool run_call() override {
#if CONCUR_ASSERTS
    CONCUR_ASSERT(call_alive_, "a task passed run_call twice");
#endif
    struct DropCall {
      Task& task;
      ~DropCall() {
        std::destroy_at(&task.call_);
#if CONCUR_ASSERTS
        task.call_alive_ = false;
#endif
      }
    } drop{*this};
    if (!this->start_call()) return false;
    try {
      if constexpr (std::is_void_v<R>) {
        invoke();
        this->store_value();
      } else {
        this->store_value(invoke());
      }
    } catch (...) {
      this->error_ = std::current_exception();
    }
    return true;
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

  union {
    std::tuple<F, Args...> call_;
  };
#if CONCUR_ASSERTS
  bool call_alive_ = true;  // until run_call destroys the call
#endif
  // Only tasks that take a stop token pay for a stop source.
  [[no_unique_address]] std::conditional_t<kTakesStopToken<F, Args...>,
                                           std::stop_source, std::monostate>
      stop_;
};

class Scheduler;

// Waits until `state` is done or the deadline passes; returns done(). On a
// worker thread of a pool, runs that pool's tasks meanwhile.
bool wait_for_state(StateBase& state, const Deadline& deadline);

// An Event for waiting on several futures (wait(), as_completed()): the
// futures' listeners set() it. Waited on from a pool's worker, the worker
// runs the pool's tasks meanwhile, as wait_for_state does, and set() wakes
// it. One thread waits on a Signal at a time.
class Signal {
 public:
  void set();
  void clear() noexcept { event_.clear(); }
  bool is_set() const noexcept { return event_.is_set(); }
  bool wait_until(const Deadline& deadline);

 private:
  threading::Event event_;
  // The pool whose worker is waiting, if a worker is: set() wakes it.
  std::atomic<Scheduler*> helper_{nullptr};
};

}  // namespace concur::futures_detail
