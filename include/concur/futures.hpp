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
// Executors. Every executor (ThreadPoolExecutor here; the process pool and
// the MPI executor to come) satisfies the Executor concept, and derives from
// ExecutorBase, which writes map() once over the executor's submit(), as
// Python's concurrent.futures.Executor does. An executor makes its futures
// through one of two documented seams: WorkItem, for calls it runs in this
// process, or a Future made by hand and completed with
// set_running_or_notify_cancel / set_result / set_exception, for calls that
// run elsewhere (another process, another rank). wait() and as_completed()
// take futures from any executor, or none.
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
#include <concepts>
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
#include <utility>
#include <vector>

#include "concur/detail/future_state.hpp"
#include "concur/detail/pointer_set.hpp"
#include "concur/errors.hpp"

namespace concur::detail {
class ProgressBar;
}  // namespace concur::detail

namespace concur::futures {

// The future was cancelled: result() and exception() raise it.
CONCUR_DEFINE_ERROR(CancelledError, Error);
// A result or exception was set on a future that is already done.
CONCUR_DEFINE_ERROR(InvalidStateError, Error);
// The executor cannot run tasks any more (see BrokenThreadPool).
CONCUR_DEFINE_ERROR(BrokenExecutor, RuntimeError);
// A worker's initializer failed: pending and later tasks fail with this.
CONCUR_DEFINE_ERROR(BrokenThreadPool, BrokenExecutor);
// A worker process died (or its initializer failed): the process pool's
// running, pending and later tasks fail with this.
CONCUR_DEFINE_ERROR(BrokenProcessPool, BrokenExecutor);
using concur::TimeoutError;

template <class T>
class Future;
class WorkItem;

}  // namespace concur::futures

namespace concur::futures_detail {
[[noreturn]] void throw_timeout(const std::string& what);

// The input iterator of a range of results whose state lives in the range
// (MapResults, multiprocessing's UnorderedResults): it reads, advances and
// tests for the end through the owner's current(), advance() and
// finished(), which the owner makes reachable by befriending it.
template <class Owner, class Value>
class OwnerIterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  OwnerIterator() = default;
  explicit OwnerIterator(Owner* owner) : owner_(owner) {}
  Value& operator*() const { return owner_->current(); }
  OwnerIterator& operator++() {
    owner_->advance();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const OwnerIterator& it, std::default_sentinel_t) {
    return it.at_end();
  }

 private:
  bool at_end() const { return owner_->finished(); }
  Owner* owner_ = nullptr;
};
// The library's own way into a Future's state (for wait, as_completed, map).
struct FutureAccess {
  template <class T>
  static State<T>& state(const futures::Future<T>& f) noexcept {
    return *f.state_;
  }
};
}  // namespace concur::futures_detail

namespace concur::futures {

// ---------------------------------------------------------------------------
// Future<T> — Python's concurrent.futures.Future: the result of a call that
// may not have finished yet.
//
// A Future is a handle: copies refer to the same result, like two Python
// names bound to one Future. A default-constructed Future is a new pending
// future that its maker completes with set_running_or_notify_cancel,
// set_result and set_exception, as Python's executors do; that is the seam
// for executors whose calls run outside this process. A moved-from Future
// may only be assigned to or destroyed.
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

  Future() : state_(new futures_detail::State<T>) {}
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
    return state_->state() == futures_detail::StateBase::kCancelled;
  }
  bool running() const noexcept {
    return state_->state() == futures_detail::StateBase::kRunning;
  }
  bool done() const noexcept { return state_->done(); }

  // Waits for the call; returns its value or throws its exception, or
  // CancelledError. With a timeout: TimeoutError if it is still not done.
  decltype(auto) result() const { return result_until(sys::Deadline::never()); }
  template <class Rep, class Period>
  decltype(auto) result(std::chrono::duration<Rep, Period> timeout) const {
    return result_until(sys::Deadline::after(timeout));
  }
  // Waits for the call; returns the exception it threw (null if none), or
  // throws CancelledError / TimeoutError as result() does.
  std::exception_ptr exception() const {
    return exception_until(sys::Deadline::never());
  }
  template <class Rep, class Period>
  std::exception_ptr exception(
      std::chrono::duration<Rep, Period> timeout) const {
    return exception_until(sys::Deadline::after(timeout));
  }

  // Calls fn(future) when the future is done (at once if it is), with an
  // lvalue Future: `[](auto& f)`, `[](const Future<int>& f)` and by-value
  // parameters all work. A callback that throws is reported on stderr; the
  // others still run.
  template <class F>
  requires std::is_invocable_v<F&, Future&>
  void add_done_callback(F fn) {
    // The callback holds the bare state, not a handle, so that a future that
    // never completes does not keep itself alive; whoever runs the callback
    // holds a reference, so the state is alive when it is called.
    state_->add_done_callback([fn = std::move(fn), state = state_]() mutable {
      state->retain();
      Future handle(state);
      fn(handle);
    });
  }

  // Completes the future (for executors and tests, as in Python). Throws
  // InvalidStateError if it is already done, or its call is running.
  template <class... Args>
  void set_result(Args&&... args) {
    if (!state_->try_set_value(std::forward<Args>(args)...)) {
      futures_detail::throw_invalid_state("the future is already done");
    }
  }
  void set_exception(std::exception_ptr error) {
    if (!state_->try_set_exception(std::move(error))) {
      futures_detail::throw_invalid_state("the future is already done");
    }
  }
  // pending -> running (true), or false if cancelled; RuntimeError if
  // already running or done.
  [[nodiscard]] bool set_running_or_notify_cancel() {
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
  friend class WorkItem;
  friend struct futures_detail::FutureAccess;

  // Adopts one reference.
  explicit Future(futures_detail::State<T>* state) noexcept : state_(state) {}
  void retain() const noexcept {
    if (state_ != nullptr) state_->retain();
  }

  decltype(auto) result_until(const sys::Deadline& deadline) const {
    if (!futures_detail::wait_for_state(*state_, deadline)) {
      futures_detail::throw_timeout("the future did not finish in time");
    }
    if (auto error = state_->error_after_done()) std::rethrow_exception(error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return static_cast<const T&>(state_->value());
    }
  }
  std::exception_ptr exception_until(const sys::Deadline& deadline) const {
    if (!futures_detail::wait_for_state(*state_, deadline)) {
      futures_detail::throw_timeout("the future did not finish in time");
    }
    return state_->error_after_done();
  }

  futures_detail::State<T>* state_;
};

// ---------------------------------------------------------------------------
// WorkItem — Python's _WorkItem: a submitted call bound to the Future of its
// result, the seam through which an executor that runs calls in this
// process makes futures. make() returns both; the executor queues the item
// and, on some thread, runs it.
//
// An item is run at most once. run() runs the call unless the future was
// cancelled (or completed by hand) meanwhile, and completes the future with
// the call's value or exception; either way the callable and its arguments
// are destroyed before run() returns. An item destroyed without being run
// (an executor dropping queued work) cancels its future and destroys the
// call, so no future is left pending for ever. A call whose first parameter
// is a std::stop_token receives one (see Future::request_stop).
//
// Executors with intrusive queues may hand an item over as a raw pointer
// (release) and take it back (adopt); the pointer owns the item. The item
// itself moves its future to running when the call starts: its maker must
// not call set_running_or_notify_cancel on that future (the call would
// then never start, and the future stay running).
//
// Thread safety: an item is owned by one thread at a time; its Future may
// be used from any thread meanwhile.
class WorkItem {
 public:
  template <class F, class... Args>
  requires std::is_invocable_v<std::decay_t<F> &&, std::decay_t<Args>&&...> ||
      futures_detail::kTakesStopToken<std::decay_t<F>,
                                      std::decay_t<Args>...> static auto
      make(F&& fn, Args&&... args) {
    using R = typename futures_detail::CallResult<std::decay_t<F>,
                                                  std::decay_t<Args>...>::type;
    auto* task =
        new futures_detail::Task<R, std::decay_t<F>, std::decay_t<Args>...>(
            std::forward<F>(fn), std::forward<Args>(args)...);
    // Two references from the start: the item's and the future's.
    return std::pair<WorkItem, Future<R>>(WorkItem(task), Future<R>(task));
  }

  WorkItem(WorkItem&& other) noexcept
      : task_(std::exchange(other.task_, nullptr)) {}
  WorkItem& operator=(WorkItem&& other) noexcept {
    if (this != &other) {
      drop();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  ~WorkItem() { drop(); }

  // Runs the call (unless its future is done already) and completes the
  // future. Leaves the item empty.
  void run() && {
    futures_detail::StateBase* task = std::exchange(task_, nullptr);
    if (task->run_call()) {
      task->publish_and_release();
    } else {
      task->release();
    }
  }
  // Cancels the future unless its call has started, and destroys the call.
  // Leaves the item empty.
  void cancel() && { drop(); }

  // The item as a raw owning pointer, and back.
  futures_detail::StateBase* release() && noexcept {
    return std::exchange(task_, nullptr);
  }
  static WorkItem adopt(futures_detail::StateBase* task) noexcept {
    return WorkItem(task);
  }

 private:
  explicit WorkItem(futures_detail::StateBase* task) noexcept : task_(task) {}
  void drop() noexcept {
    if (task_ == nullptr) return;
    task_->cancel();
    task_->run_call();  // destroys the call, which cannot start now
    std::exchange(task_, nullptr)->release();
  }

  futures_detail::StateBase* task_;
};

// ---------------------------------------------------------------------------
// Options shared by map() and as_completed().
struct MapOptions {
  // For the whole iteration, from the call: TimeoutError when an item is not
  // ready by then (and the remaining calls are cancelled).
  std::optional<std::chrono::steady_clock::duration> timeout{};
  // Items per task, at least 1 (ValueError otherwise): larger chunks cut
  // per-task overhead for tiny calls.
  std::ptrdiff_t chunksize = 1;
  // map() only, as Python 3.14's buffersize: at most this many tasks
  // (chunks) submitted and not yet passed by the iteration, at least 1
  // (ValueError otherwise). The inputs are read, and the next task
  // submitted, as the iteration passes one, so an endless range can be
  // mapped and memory stays bounded; a chunk's results are let go as the
  // iteration passes it, so their memory is reused while still in cache.
  // Empty: every task is submitted at the call, as by default in Python.
  std::optional<std::ptrdiff_t> buffersize{};
  // Draw a progress bar on stderr (only when it is a terminal).
  bool progress = false;
};
struct AsCompletedOptions {
  std::optional<std::chrono::steady_clock::duration> timeout{};
  bool progress = false;
};

// The results of an executor's map(), in the order of the inputs. An input
// range: iterate it once; each element is an lvalue that may be read (or
// moved from) as often as wanted while the iterator stands on it, so
// `for (auto& r : results)` and `for (const auto& r : ...)` work, and a
// move-only result is taken with std::move(r). The results of a chunk are
// let go once the iteration has moved past it (with the default chunksize,
// each result as the iteration moves on), so that a long iteration does not
// keep every result alive, as Python's map generator does not. Waiting
// happens as you iterate; a task's exception is thrown at its item;
// destroying the range once iteration has begun (or an exception escaping
// the loop) cancels the calls that have not started, as closing Python's
// map generator does. Dropped unstarted, every call still runs, as in
// Python. With a buffersize, the tasks not yet submitted never are once
// the range is destroyed; they are submitted by the thread that iterates.
//
// Difference from Python: where map reads its ranges in place and one of
// them is the caller's (an lvalue container without a timeout, or a view
// such as std::span; see ExecutorBase), the calls read the caller's data,
// so destroying the results, or a call's exception leaving the iteration,
// first waits for every call that is still running or, dropped unstarted,
// still to run. Python holds references to the items and returns at once;
// pass the container as an rvalue (std::move) for that.
template <class R>
class MapResults {
 public:
  using Stored = futures_detail::Stored<R>;
  // One result of a chunk. A struct, so that a chunk of bools is not a
  // std::vector<bool>, whose elements are not objects to refer to.
  struct Cell {
    Stored value;
  };
  using Chunk = std::vector<Cell>;

  using Iterator = futures_detail::OwnerIterator<MapResults, Stored>;

  // Where a map with a buffersize gets its next task: submits it and
  // returns its future, or nothing once the inputs are exhausted.
  class ChunkSource {
   public:
    virtual ~ChunkSource() = default;
    // `spare`: storage for the results, if the source can use it.
    virtual std::optional<Future<Chunk>> next(Chunk spare) = 0;
  };

  MapResults(std::vector<Future<Chunk>> chunks,
             std::optional<sys::Deadline> deadline,
             std::unique_ptr<concur::detail::ProgressBar> progress,
             std::size_t total, bool borrowed = false,
             std::unique_ptr<ChunkSource> source = nullptr);
  // With a buffersize: the first `window` chunks submitted, and the rest
  // from `source` as the iteration passes them.
  static MapResults buffered(
      std::unique_ptr<ChunkSource> source, std::size_t window,
      std::optional<sys::Deadline> deadline,
      std::unique_ptr<concur::detail::ProgressBar> progress, std::size_t total,
      bool borrowed);
  MapResults(MapResults&&) noexcept = default;
  // Not assignable: the results being replaced would have to settle first
  // (see settle()), which an assignment should not hide.
  MapResults& operator=(MapResults&&) = delete;
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
    for (auto& r : *this) out.push_back(std::move(r));
    return out;
  }

 private:
  friend Iterator;
  bool finished() const noexcept { return chunks_.empty(); }
  // Waits for the current chunk and points block_ at its results; on its
  // error or timeout, cancels the rest, ends the iteration and rethrows.
  void wait_current();
  Stored& current();
  void advance();
  void cancel_rest() noexcept;
  // Submits chunks from source_ until window_ are in flight.
  void refill();
  // With borrowed ranges, waits until no chunk can still be running.
  void settle() noexcept;

  // The chunks not yet passed: the front holds the current item.
  std::deque<Future<Chunk>> chunks_;
  // With a buffersize, the tasks still to submit, one per chunk passed;
  // null once exhausted (or without a buffersize).
  std::unique_ptr<ChunkSource> source_;
  std::size_t window_ = 0;
  // The storage of the last chunk passed, for the next one submitted.
  Chunk spare_;
  // The front chunk's results once it is done (waited for once per chunk),
  // else null.
  Chunk* block_ = nullptr;
  std::optional<sys::Deadline> deadline_;
  std::unique_ptr<concur::detail::ProgressBar> progress_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;  // items yielded, for the progress bar
  std::size_t item_ = 0;  // the current item within the front chunk
  // Whether iteration began: as with a Python generator that never started,
  // dropping an unstarted result cancels nothing.
  bool started_ = false;
  // Whether the calls read ranges the caller owns (see ExecutorBase).
  bool borrowed_ = false;
};

// ---------------------------------------------------------------------------
// Executor — what every executor offers (Python's concurrent.futures
// Executor): submit(fn, args...) returning a Future, map(fn, ranges...),
// and shutdown(wait, cancel_futures). Generic code takes an Executor:
//
//   template <futures::Executor E>
//   int count_primes(E& executor, const std::vector<long>& numbers);
template <class E>
concept Executor = requires(E& executor, int (*fn)(int),
                            const std::vector<int>& items) {
  { executor.submit(fn, 1) } -> std::same_as<Future<int>>;
  executor.map(fn, items);
  executor.shutdown();
  executor.shutdown(true, true);
};

// ExecutorBase<Derived> — the part of Python's Executor written once for
// every executor: map() over the derived class's submit() (chunking,
// timeout, progress bar, results in input order). Derived is the executor
// itself (the CRTP), so that a map's submits are direct calls.
//
// A chunk is submitted as a plain function and its arguments (the mapped
// function and a vector of the chunk's items), so that an executor that
// sends calls to other processes can send a chunk like any other call. An
// executor whose calls run in this process says so with `static constexpr
// bool kSharesMemory = true`; then map() over random-access sized ranges
// copies no item: it holds each range as std::views::all would (an lvalue
// container by reference, an rvalue one moved in, a view as it is) and each
// chunk reads its items by index where they are, as a hand-written loop
// would, calling fn with const references to them. A range held by
// reference must not change or die while the calls run: the results wait
// for them before they go (see MapResults). With a timeout, a container
// passed as an lvalue is copied instead, so that giving up on the calls
// never waits for them.
// Python's `with executor:` is the derived class's destructor, which shuts
// the executor down and waits.
template <class Derived>
class ExecutorBase {
 public:
  // fn applied to the items of the ranges in lockstep (stopping at the
  // shortest), submitted at once (with a buffersize, as the iteration goes);
  // results in input order. A trailing MapOptions sets timeout, chunksize,
  // buffersize and progress.
  template <class F, class... Args>
  auto map(F&& fn, Args&&... args);

 protected:
  ExecutorBase() = default;
  ~ExecutorBase() = default;

 private:
  template <class F, class... Ranges>
  auto map_ranges(const MapOptions& options, F& fn, Ranges&&... ranges);
};

// ---------------------------------------------------------------------------
// ThreadPoolExecutor — Python's concurrent.futures.ThreadPoolExecutor.
//
// submit(fn, args...) runs fn(args...) on one of at most max_workers threads
// and returns a Future of its result. Threads start on demand and idle ones
// are reused; they are named "<prefix>_<i>". External submissions start in
// submission order. The scheduler (src/futures/scheduler.hpp) is a
// work-stealing one.
//
// Misuse and faults, as in Python: max_workers <= 0 is a ValueError; submit
// after shutdown is a RuntimeError; an initializer that throws breaks the
// pool, failing pending tasks and later submits with BrokenThreadPool. Any
// positive max_workers is accepted: memory follows the threads started.
// The callable and its arguments are destroyed as soon as the call returns
// (see WorkItem). If the system cannot start a worker thread, the pool goes
// on with the workers it has; if it has none, it breaks, and its futures
// fail with BrokenThreadPool (Python's submit raises RuntimeError then).
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
  // Empty: Python's default, min(32, process_cpu_count() + 4). Otherwise at
  // least 1.
  std::optional<std::ptrdiff_t> max_workers{};
  std::string thread_name_prefix{};
  // Run once at the start of every worker thread.
  std::function<void()> initializer{};
};

}  // namespace concur::futures

namespace concur::futures_detail {
// The pool's scheduler, out of line (src/futures/scheduler.cpp): queues
// `task`, taking over one reference to it, or throws (and drops it).
void schedule(Scheduler& scheduler, StateBase* task);
struct SchedulerDeleter {
  void operator()(Scheduler* scheduler) const noexcept;
};
}  // namespace concur::futures_detail

namespace concur::futures {

class ThreadPoolExecutor : public ExecutorBase<ThreadPoolExecutor> {
 public:
  ThreadPoolExecutor() : ThreadPoolExecutor(ThreadPoolOptions{}) {}
  // max_workers must be at least 1 (ValueError otherwise).
  explicit ThreadPoolExecutor(std::ptrdiff_t max_workers);
  explicit ThreadPoolExecutor(ThreadPoolOptions options);
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  // Shuts down and waits (Python's `with` block's end).
  ~ThreadPoolExecutor();

  // Calls run in this process: map() lets its chunks read the items where
  // they are instead of copying each chunk's items (ExecutorBase).
  static constexpr bool kSharesMemory = true;

  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    auto [item, future] =
        WorkItem::make(std::forward<F>(fn), std::forward<Args>(args)...);
    futures_detail::schedule(*scheduler_, std::move(item).release());
    return std::move(future);
  }

  // Stops accepting work. wait: block until every queued task has run and
  // the threads have ended. cancel_futures: cancel the tasks that have not
  // started. Idempotent.
  void shutdown(bool wait = true, bool cancel_futures = false);

  std::size_t max_workers() const noexcept;

 private:
  std::unique_ptr<futures_detail::Scheduler, futures_detail::SchedulerDeleter>
      scheduler_;
};

// ---------------------------------------------------------------------------
// as_completed(futures): the futures, each once, as they complete (those
// already done first). An input range of Future<T>; each element is an
// lvalue (`for (auto& f : as_completed(fs))` works). A future is let go as
// soon as the iteration moves past it, so a long iteration does not keep
// every result alive. With a timeout, the iteration throws TimeoutError "N
// (of M) futures unfinished" when the time is up.
template <class T>
class AsCompleted {
 public:
  class Iterator {
   public:
    using value_type = Future<T>;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(AsCompleted* owner) : owner_(owner) {}
    Future<T>& operator*() const { return owner_->current(); }
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
  Future<T>& current() { return *current_; }
  void advance();
  void unlink() noexcept;  // every watched future lets the waiter go

  std::deque<Future<T>> ready_;  // done, not yet yielded, in order
  // The futures that were not done when the iteration began, each with its
  // link into the future's listeners (the link's index is its place here).
  // A future leaves its place for ready_ once reported done.
  std::vector<Future<T>> watched_;
  std::vector<futures_detail::ListenerLink> links_;
  std::size_t unreported_ = 0;  // futures still in watched_
  std::size_t total_ = 0;
  std::size_t yielded_ = 0;
  std::optional<Future<T>> current_;
  std::optional<sys::Deadline> deadline_;
  std::unique_ptr<Waiter> waiter_;
  std::unique_ptr<concur::detail::ProgressBar> progress_;
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
  return as_completed(futures,
                      AsCompletedOptions{sys::checked_timeout(timeout), false});
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

}  // namespace concur::futures

namespace concur::futures_detail {
// wait() for FIRST_COMPLETED or FIRST_EXCEPTION, once a scan found no done
// future that answers it: blocks until `when` holds for `pending` (distinct,
// not done at the scan) or the deadline passes.
void wait_first(const std::vector<StateBase*>& pending,
                futures::ReturnWhen when, const Deadline& deadline);
bool failed(StateBase& state);  // done with an exception, not cancelled
}  // namespace concur::futures_detail

namespace concur::futures {

// Without a timeout the split only repeats what return_when asked for, so
// the result may be ignored; with one, it says whether time ran out.
template <class Range>
auto wait(const Range& futures,
          std::optional<std::chrono::steady_clock::duration> timeout = {},
          ReturnWhen return_when = ALL_COMPLETED) {
  using F = std::ranges::range_value_t<Range>;
  using T = typename F::value_type;
  using futures_detail::FutureAccess;
  const auto deadline =
      timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
  std::vector<Future<T>> unique;
  if constexpr (std::ranges::sized_range<Range>) {
    unique.reserve(std::ranges::size(futures));
  }
  for (const auto& f : futures) unique.push_back(f);
  concur::detail::PointerSet seen(unique.size());
  std::erase_if(unique,
                [&](const Future<T>& f) { return !seen.insert(f.id()); });
  if (return_when == ALL_COMPLETED) {
    // Every future must end, so waiting for each in turn, as result()
    // does, waits exactly as long, with nothing to register.
    for (const auto& f : unique) {
      if (!futures_detail::wait_for_state(FutureAccess::state(f), deadline)) {
        break;
      }
    }
  } else {
    // A future done already may answer at once (Python checks them before
    // it makes a waiter); the others are watched.
    std::vector<futures_detail::StateBase*> pending;
    bool answered = false;
    for (const auto& f : unique) {
      auto& state = FutureAccess::state(f);
      if (!state.done()) {
        pending.push_back(&state);
      } else if (return_when == FIRST_COMPLETED ||
                 futures_detail::failed(state)) {
        answered = true;
        break;
      }
    }
    if (!answered && !pending.empty()) {
      futures_detail::wait_first(pending, return_when, deadline);
    }
  }
  DoneAndNotDone<T> result;
  // Being done is final: when every future is, the list is the answer.
  if (std::ranges::all_of(unique,
                          [](const Future<T>& f) { return f.done(); })) {
    result.done = std::move(unique);
    return result;
  }
  for (auto& f : unique) {
    (f.done() ? result.done : result.not_done).push_back(std::move(f));
  }
  return result;
}
template <class Range, class Rep, class Period>
[[nodiscard]] auto wait(const Range& futures,
                        std::chrono::duration<Rep, Period> timeout,
                        ReturnWhen return_when = ALL_COMPLETED) {
  return wait(futures,
              std::optional<std::chrono::steady_clock::duration>(
                  sys::checked_timeout(timeout)),
              return_when);
}

}  // namespace concur::futures

#include "concur/detail/futures_impl.hpp"
// After the executor base it derives from.
#include "concur/detail/process_pool.hpp"
