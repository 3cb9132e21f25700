// concur/futures.hpp — Python's `concurrent.futures` for C++20.
//
// Future<T>, ThreadPoolExecutor, as_completed() and wait(), with Python's
// semantics: the same states (pending, running, cancelled, finished), the
// same rules for cancel(), the same errors (CancelledError, TimeoutError,
// InvalidStateError, BrokenThreadPool), and an exception thrown by a task
// comes out of result() as itself.
//
// Memory ordering: everything a task did happens-before result() (or
// exception(), or a done-callback, or wait()/as_completed() reporting it
// done) returns; everything the submitting thread did before submit()
// happens-before the task starts.
//
// Beyond Python:
//   * a task that waits on a future from inside the pool runs other queued
//     tasks meanwhile, so nested submit-and-wait never deadlocks the pool;
//   * a callable whose first parameter is a std::stop_token receives one,
//     and Future::request_stop() asks it to stop while it runs;
//   * map() and as_completed() draw a progress bar on stderr when asked to
//     and stderr is a terminal (count, rate, ETA).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "concur/detail/future_state.hpp"
#include "concur/detail/scheduler.hpp"
#include "concur/errors.hpp"

namespace concur::futures {

// The future was cancelled: result() and exception() raise it.
CONCUR_DEFINE_ERROR(CancelledError, Error);
// A result or exception was set on a future that is already done.
CONCUR_DEFINE_ERROR(InvalidStateError, Error);
// The executor cannot run tasks any more (see BrokenThreadPool).
CONCUR_DEFINE_ERROR(BrokenExecutor, RuntimeError);
// A worker's initializer failed: pending and later tasks fail with this.
CONCUR_DEFINE_ERROR(BrokenThreadPool, BrokenExecutor);
using concur::TimeoutError;

template <class T>
class Future;

namespace detail {
[[noreturn]] void throw_timeout(const std::string& what);
class ProgressBar;
// The library's own way into a Future's state (for wait, as_completed, map).
struct FutureAccess {
  template <class T>
  static State<T>& state(const Future<T>& f) noexcept {
    return *f.state_;
  }
};
}  // namespace detail

// ---------------------------------------------------------------------------
// Future<T> — Python's concurrent.futures.Future: the result of a call that
// may not have finished yet.
//
// A Future is a handle: copies refer to the same result, like two Python
// names bound to one Future. A default-constructed Future is a new pending
// future that the caller completes with set_result / set_exception (as
// Python's executors and tests do). A moved-from Future may only be assigned
// to or destroyed.
//
// result() returns a const reference to the value, which lives as long as
// any handle does. Future<void>::result() returns nothing.
//
// Thread safety: distinct handles and the same handle may be used from any
// thread concurrently. Callbacks run in the thread that completes the
// future, or at once in the thread that adds them if it is already done.
//
// Differences from Python: a cancelled future counts as done for wait() and
// as_completed() at once (Python waits until the executor notices). Once a
// pool has started a task's call, the call owns the result: set_result and
// set_exception raise InvalidStateError (Python lets them win, and the
// worker then fails to store the call's own result). Set by hand while the
// task is still queued, the result stands and the call never runs.
template <class T>
class Future {
 public:
  using value_type = T;

  Future() : state_(new detail::State<T>) {}
  Future(const Future& other) noexcept : state_(other.state_) { retain(); }
  Future(Future&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Future() {
    if (state_ != nullptr) state_->release();
  }

  // Cancels the call if it has not started: true if it is cancelled now (or
  // was before); false if it is running or done.
  bool cancel() { return state_->cancel(); }
  bool cancelled() const noexcept {
    return state_->state() == detail::StateBase::kCancelled;
  }
  bool running() const noexcept {
    return state_->state() == detail::StateBase::kRunning;
  }
  bool done() const noexcept { return state_->done(); }

  // Waits for the call; returns its value or throws its exception, or
  // CancelledError. With a timeout: TimeoutError if it is still not done.
  decltype(auto) result() const {
    return result_until(detail::Deadline::never());
  }
  template <class Rep, class Period>
  decltype(auto) result(std::chrono::duration<Rep, Period> timeout) const {
    return result_until(detail::Deadline::after(timeout));
  }
  // Waits for the call; returns the exception it threw (null if none), or
  // throws CancelledError / TimeoutError as result() does.
  std::exception_ptr exception() const {
    return exception_until(detail::Deadline::never());
  }
  template <class Rep, class Period>
  std::exception_ptr exception(
      std::chrono::duration<Rep, Period> timeout) const {
    return exception_until(detail::Deadline::after(timeout));
  }

  // Calls fn(future) when the future is done (at once if it is). A callback
  // that throws is reported on stderr; the others still run.
  template <class F>
  requires std::is_invocable_v<F&, const Future&>
  void add_done_callback(F fn) {
    // The callback holds the bare state, not a handle, so that a future that
    // never completes does not keep itself alive; whoever runs the callback
    // holds a reference, so the state is alive when it is called.
    state_->add_done_callback([fn = std::move(fn), state = state_]() mutable {
      state->retain();
      fn(Future(state));
    });
  }

  // Completes the future (for executors and tests, as in Python). Throws
  // InvalidStateError if it is already done, or its call is running.
  template <class... Args>
  void set_result(Args&&... args) {
    if (!state_->try_set_value(std::forward<Args>(args)...)) {
      detail::throw_invalid_state("the future is already done");
    }
  }
  void set_exception(std::exception_ptr error) {
    if (!state_->try_set_exception(std::move(error))) {
      detail::throw_invalid_state("the future is already done");
    }
  }
  // pending -> running (true), or false if cancelled; RuntimeError if
  // already running or done.
  bool set_running_or_notify_cancel() {
    return state_->set_running_or_notify_cancel();
  }

  // Asks a running call that takes a std::stop_token to stop. Returns false
  // if the call takes no stop token (or a stop was requested already).
  bool request_stop() noexcept {
    auto* source = state_->stop_source();
    return source != nullptr && source->request_stop();
  }

  friend bool operator==(const Future& a, const Future& b) noexcept {
    return a.state_ == b.state_;
  }
  // Identity, for sets and maps of futures.
  const void* id() const noexcept { return state_; }

 private:
  friend class ThreadPoolExecutor;
  friend struct detail::FutureAccess;

  // Adopts one reference.
  explicit Future(detail::State<T>* state) noexcept : state_(state) {}
  void retain() const noexcept {
    if (state_ != nullptr) state_->retain();
  }

  decltype(auto) result_until(const detail::Deadline& deadline) const {
    if (!detail::wait_for_state(*state_, deadline)) {
      detail::throw_timeout("the future did not finish in time");
    }
    if (auto error = state_->error_after_done()) std::rethrow_exception(error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return static_cast<const T&>(state_->value());
    }
  }
  std::exception_ptr exception_until(const detail::Deadline& deadline) const {
    if (!detail::wait_for_state(*state_, deadline)) {
      detail::throw_timeout("the future did not finish in time");
    }
    return state_->error_after_done();
  }

  detail::State<T>* state_;
};

// ---------------------------------------------------------------------------
// Options shared by map() and as_completed().
struct MapOptions {
  // For the whole iteration, from the call: TimeoutError when an item is not
  // ready by then (and the remaining calls are cancelled).
  std::optional<std::chrono::steady_clock::duration> timeout{};
  // Items per task: larger chunks cut per-task overhead for tiny calls.
  std::size_t chunksize = 1;
  // Draw a progress bar on stderr (only when it is a terminal).
  bool progress = false;
};
struct AsCompletedOptions {
  std::optional<std::chrono::steady_clock::duration> timeout{};
  bool progress = false;
};

// The results of ThreadPoolExecutor::map, in the order of the inputs. An
// input range: iterate it once. Waiting happens as you iterate; a task's
// exception is thrown at its item; destroying the range once iteration has
// begun (or an exception escaping the loop) cancels the calls that have not
// started, as closing Python's map generator does. Dropped unstarted, every
// call still runs, as in Python.
template <class R>
class MapResults {
 public:
  using Stored = detail::Stored<R>;

  class Iterator {
   public:
    using value_type = Stored;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(MapResults* owner) : owner_(owner) {}
    Stored operator*() const { return owner_->current(); }
    Iterator& operator++() {
      owner_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) {
      return it.at_end();
    }

   private:
    bool at_end() const { return owner_->finished(); }
    MapResults* owner_ = nullptr;
  };

  MapResults(std::vector<Future<std::vector<Stored>>> chunks,
             std::optional<detail::Deadline> deadline,
             std::unique_ptr<detail::ProgressBar> progress, std::size_t total);
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  ~MapResults();

  Iterator begin() {
    started_ = true;
    return Iterator(this);
  }
  std::default_sentinel_t end() { return {}; }
  // Every result, in order (waits for all).
  std::vector<Stored> to_vector() {
    std::vector<Stored> out;
    out.reserve(total_);
    for (auto&& r : *this) out.push_back(std::move(r));
    return out;
  }

 private:
  bool finished() const noexcept { return chunk_ >= chunks_.size(); }
  // Waits for the current chunk; on its error or timeout, cancels the rest,
  // ends the iteration and rethrows.
  void wait_current();
  // The current item, moved out: dereference each position once.
  Stored current();
  void advance();
  void cancel_rest() noexcept;

  std::vector<Future<std::vector<Stored>>> chunks_;
  std::optional<detail::Deadline> deadline_;
  std::unique_ptr<detail::ProgressBar> progress_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;   // items yielded, for the progress bar
  std::size_t chunk_ = 0;  // the chunk holding the current item
  std::size_t item_ = 0;   // the current item within it
  // Whether iteration began: as with a Python generator that never started,
  // dropping an unstarted result cancels nothing.
  bool started_ = false;
};

// ---------------------------------------------------------------------------
// ThreadPoolExecutor — Python's concurrent.futures.ThreadPoolExecutor.
//
// submit(fn, args...) runs fn(args...) on one of at most max_workers threads
// and returns a Future of its result. Threads start on demand and idle ones
// are reused; they are named "<prefix>_<i>". External submissions start in
// submission order. See detail/scheduler.hpp for the scheduler's design.
//
// Misuse and faults, as in Python: max_workers == 0 is a ValueError; submit
// after shutdown is a RuntimeError; an initializer that throws breaks the
// pool, failing pending tasks and later submits with BrokenThreadPool.
//
// Thread safety: every member may be called from any thread, tasks
// included. The destructor shuts down and waits; do not destroy the pool
// from one of its own tasks.
//
// Differences from Python: map's chunksize is honoured (Python ignores it
// for threads); tasks submitted from inside the pool may run before older
// external submissions (they run depth-first on the submitting worker). A
// task that waits (result(), wait(), as_completed()) lends its worker to
// other queued tasks meanwhile, which is what keeps nested waits from
// starving the pool, but it has two consequences Python does not have: the
// waiting task resumes only when the borrowed task returns (so its timeout
// may be overrun), and a queued task that itself waits for the rest of the
// waiting task deadlocks. Tasks that wait on each other must wait on
// futures, not on Events set later by the waiting task.
struct ThreadPoolOptions {
  // 0: Python's default, min(32, cores + 4).
  std::size_t max_workers = 0;
  std::string thread_name_prefix{};
  // Run once at the start of every worker thread.
  std::function<void()> initializer{};
};

class ThreadPoolExecutor {
 public:
  ThreadPoolExecutor() : ThreadPoolExecutor(ThreadPoolOptions{}) {}
  // max_workers must be at least 1 (ValueError otherwise).
  explicit ThreadPoolExecutor(std::ptrdiff_t max_workers);
  explicit ThreadPoolExecutor(ThreadPoolOptions options);
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  ~ThreadPoolExecutor() = default;

  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    using R = typename detail::CallResult<std::decay_t<F>,
                                          std::decay_t<Args>...>::type;
    auto* task = new detail::Task<R, std::decay_t<F>, std::decay_t<Args>...>(
        std::forward<F>(fn), std::forward<Args>(args)...);
    Future<R> future(task);
    scheduler_->submit(task);
    return future;
  }

  // fn applied to the items of the ranges in lockstep (stopping at the
  // shortest), submitted at once; results in input order. A trailing
  // MapOptions sets timeout, chunksize and progress.
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args) {
    if constexpr (sizeof...(Args) > 0 &&
                  std::is_same_v<
                      std::decay_t<decltype(std::get<sizeof...(Args) - 1>(
                          std::declval<std::tuple<Args...>>()))>,
                      MapOptions>) {
      auto all = std::forward_as_tuple(std::forward<Args>(args)...);
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return map_ranges(std::get<sizeof...(Args) - 1>(all), fn,
                          std::get<I>(all)...);
      }
      (std::make_index_sequence<sizeof...(Args) - 1>{});
    } else {
      return map_ranges(MapOptions{}, fn, std::forward<Args>(args)...);
    }
  }

  // Stops accepting work. wait: block until every queued task has run and
  // the threads have ended. cancel_futures: cancel the tasks that have not
  // started. Idempotent.
  void shutdown(bool wait = true, bool cancel_futures = false) {
    scheduler_->shutdown(wait, cancel_futures);
  }

  std::size_t max_workers() const noexcept { return scheduler_->max_workers(); }

 private:
  template <class F, class... Ranges>
  auto map_ranges(const MapOptions& options, F& fn, Ranges&&... ranges);

  std::unique_ptr<detail::Scheduler> scheduler_;
};

// ---------------------------------------------------------------------------
// as_completed(futures): the futures, each once, as they complete (those
// already done first). An input range of Future<T>. With a timeout, the
// iteration throws TimeoutError "N (of M) futures unfinished" when the time
// is up.
template <class T>
class AsCompleted {
 public:
  class Iterator {
   public:
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(AsCompleted* owner) : owner_(owner) {}
    Future<T> operator*() const { return owner_->current(); }
    Iterator& operator++() {
      owner_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const Iterator& it, std::default_sentinel_t) {
      return it.at_end();
    }

   private:
    bool at_end() const { return owner_->finished(); }
    AsCompleted* owner_ = nullptr;
  };

  template <class Range>
  AsCompleted(const Range& futures, const AsCompletedOptions& options);
  AsCompleted(AsCompleted&&) noexcept = default;
  AsCompleted& operator=(AsCompleted&&) noexcept = default;
  ~AsCompleted();

  Iterator begin() {
    if (!started_) advance();
    return Iterator(this);
  }
  std::default_sentinel_t end() { return {}; }

 private:
  class Waiter;

  bool finished() const noexcept { return !current_.has_value(); }
  Future<T> current() const { return *current_; }
  void advance();

  std::deque<Future<T>> ready_;  // done, not yet yielded, in order
  // Registered with the waiter and not yet done, by state.
  std::unordered_map<detail::StateBase*, Future<T>> pending_;
  // Every future registered with the waiter (see the destructor).
  std::vector<Future<T>> registered_;
  std::size_t total_ = 0;
  std::size_t yielded_ = 0;
  std::optional<Future<T>> current_;
  std::optional<detail::Deadline> deadline_;
  std::unique_ptr<Waiter> waiter_;
  std::unique_ptr<detail::ProgressBar> progress_;
  bool started_ = false;
};

template <class Range>
auto as_completed(const Range& futures, AsCompletedOptions options = {}) {
  using F = std::ranges::range_value_t<Range>;
  return AsCompleted<typename F::value_type>(futures, options);
}
template <class Range, class Rep, class Period>
auto as_completed(const Range& futures,
                  std::chrono::duration<Rep, Period> timeout) {
  return as_completed(
      futures,
      AsCompletedOptions{concur::detail::checked_timeout(timeout), false});
}

// ---------------------------------------------------------------------------
// wait(futures, timeout, return_when): blocks until the condition holds or
// the timeout passes, and returns the futures split into done and not done
// (each once, in input order; Python returns sets).
enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

template <class T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace detail {
// The engine of wait(): blocks until `when` holds for `states` (distinct) or
// the deadline passes.
void wait_states(const std::vector<StateBase*>& states, ReturnWhen when,
                 const Deadline& deadline);
}  // namespace detail

template <class Range>
auto wait(const Range& futures,
          std::optional<std::chrono::steady_clock::duration> timeout = {},
          ReturnWhen return_when = ALL_COMPLETED) {
  using F = std::ranges::range_value_t<Range>;
  using T = typename F::value_type;
  std::vector<Future<T>> unique;
  std::unordered_set<const void*> seen;
  for (const auto& f : futures) {
    if (seen.insert(f.id()).second) unique.push_back(f);
  }
  std::vector<detail::StateBase*> states;
  states.reserve(unique.size());
  for (auto& f : unique) states.push_back(&detail::FutureAccess::state(f));
  detail::wait_states(
      states, return_when,
      timeout ? detail::Deadline::after(*timeout) : detail::Deadline::never());
  DoneAndNotDone<T> result;
  for (auto& f : unique)
    (f.done() ? result.done : result.not_done).push_back(std::move(f));
  return result;
}
template <class Range, class Rep, class Period>
auto wait(const Range& futures, std::chrono::duration<Rep, Period> timeout,
          ReturnWhen return_when = ALL_COMPLETED) {
  return wait(futures,
              std::optional<std::chrono::steady_clock::duration>(
                  concur::detail::checked_timeout(timeout)),
              return_when);
}

}  // namespace concur::futures

#include "concur/detail/futures_impl.hpp"
