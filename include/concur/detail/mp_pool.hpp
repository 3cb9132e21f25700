// multiprocessing::Pool (included at the end of <concur/multiprocessing.hpp>;
// see there for the module's conventions): Python's multiprocessing.Pool
// over the worker processes, rings and collector of ProcessPoolExecutor.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/detail/sys/deadline.hpp"
#include "concur/futures.hpp"
#include "concur/queue.hpp"

namespace concur::multiprocessing_detail {

// A done future's error, with a cancellation as CancelledError.
inline std::exception_ptr error_of(const futures_detail::StateBase& state) {
  try {
    return state.error_after_done();
  } catch (...) {
    return std::current_exception();
  }
}

// How an item becomes a call's arguments: map's item is the one argument;
// starmap's is a tuple of them.
struct SingleArgument {
  template <class Value>
  using Item = std::tuple<Value>;
  template <class Fn, class Value>
  using Result = std::invoke_result_t<Fn&, Value&&>;
  template <class Item, class Value>
  static Item item(Value&& v) {
    return Item(std::forward<Value>(v));
  }
};
struct SpreadArguments {
  template <class Value>
  using Item = decltype(std::tuple_cat(std::declval<Value>()));
  template <class Fn, class Value>
  using Result =
      decltype(std::apply(std::declval<Fn&>(), std::declval<Item<Value>>()));
  template <class Item, class Value>
  static Item item(Value&& v) {
    return std::tuple_cat(std::forward<Value>(v));
  }
};

// The result type of a map of F over Range's items, made into arguments as
// How does.
template <class How, class F, class Range>
using MapResultOf =
    typename How::template Result<std::decay_t<F>,
                                  std::ranges::range_value_t<Range>>;

}  // namespace concur::multiprocessing_detail

namespace concur::multiprocessing {

struct PoolOptions {
  // Empty: process_cpu_count(), as Python. Otherwise at least 1.
  std::optional<std::ptrdiff_t> processes{};
  // Run in each worker before its first task (Python's initializer, with
  // its initargs bound in). If it throws, the worker reports it on stderr
  // and the pool is broken: every task fails with BrokenProcessPool.
  std::function<void()> initializer{};
  // Empty: a worker runs tasks for as long as the pool lives. Otherwise at
  // least 1: a worker that has run that many exits and is replaced.
  std::optional<std::ptrdiff_t> maxtasksperchild{};
  // How the workers are started (get_context); empty: the default context.
  // With "forkserver" the initializer must be a plain function.
  std::optional<Context> context{};
};

// apply_async's and map_async's callback and error_callback. Both run on
// the pool's result thread, before the AsyncResult becomes ready, so they
// must not block on the pool. One that throws is reported on stderr, and
// the result becomes ready all the same.
template <class R>
struct AsyncCallbacks {
  std::conditional_t<std::is_void_v<R>, std::function<void()>,
                     std::function<void(const R&)>>
      callback{};
  std::function<void(std::exception_ptr)> error_callback{};
};

// ---------------------------------------------------------------------------
// AsyncResult<R> — Python's AsyncResult: the result of apply_async (R) or
// map_async (std::vector<R>). A handle: copies refer to the same result.
//
// Thread safety: every member may be called from any thread.
//
// Differences from Python: wait(timeout) returns whether the result is
// ready; get() on a handle returns a const reference that lives as long as
// a handle does, and get() on a temporary (pool.apply_async(f, x).get())
// returns a copy.
template <class R>
class AsyncResult {
 public:
  // A moved-from handle still refers to the result: moving copies.
  AsyncResult(const AsyncResult&) = default;
  AsyncResult& operator=(const AsyncResult&) = default;
  ~AsyncResult() = default;

  // Waits; returns the value or throws the task's error (a worker's death
  // while it ran the task: WorkerDiedError; after terminate():
  // BrokenProcessPool or CancelledError).
  decltype(auto) get() const& { return future_.result(); }
  auto get() && {
    if constexpr (std::is_void_v<R>) {
      future_.result();
    } else {
      return R(future_.result());
    }
  }
  // As get(), for at most `timeout`: TimeoutError if not ready by then.
  template <class Rep, class Period>
  decltype(auto) get(std::chrono::duration<Rep, Period> timeout) const& {
    return future_.result(timeout);
  }
  template <class Rep, class Period>
  auto get(std::chrono::duration<Rep, Period> timeout) && {
    if constexpr (std::is_void_v<R>) {
      future_.result(timeout);
    } else {
      return R(future_.result(timeout));
    }
  }
  void wait() const { static_cast<void>(wait_until(sys::Deadline::never())); }
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    return wait_until(sys::Deadline::after(timeout));
  }
  bool ready() const noexcept { return future_.done(); }
  // Whether the call returned without an error; ValueError if not ready.
  bool successful() const {
    if (!ready()) throw ValueError("the AsyncResult is not ready");
    return !future_.cancelled() && future_.exception() == nullptr;
  }

 private:
  friend class Pool;
  explicit AsyncResult(futures::Future<R> future)
      : future_(std::move(future)) {}

  bool wait_until(const sys::Deadline& deadline) const {
    return futures_detail::wait_for_state(
        futures_detail::FutureAccess::state(future_), deadline);
  }

  futures::Future<R> future_;
};

// The results of imap_unordered(), in the order their chunks finish: an
// input range like the results of imap() (futures::MapResults), each
// element an lvalue while the iterator stands on it. A task's error is
// thrown when its chunk comes up, and ends the iteration; destroying the
// range cancels the chunks that have not been sent to a worker.
template <class R>
class UnorderedResults {
 public:
  using Stored = futures_detail::Stored<R>;
  using Chunk = typename futures::MapResults<R>::Chunk;

  using Iterator = futures_detail::OwnerIterator<UnorderedResults, Stored>;

  explicit UnorderedResults(std::vector<futures::Future<Chunk>> chunks)
      : shared_(std::make_shared<Shared>(std::move(chunks))),
        left_(shared_->chunks.size()) {
    for (std::size_t i = 0; i < shared_->chunks.size(); ++i) {
      // The callback holds the state weakly: chunks that finish after the
      // range is gone have nobody to tell.
      shared_->chunks[i].add_done_callback(
          [weak = std::weak_ptr<Shared>(shared_), i](auto&) {
            if (auto shared = weak.lock()) shared->finished.put(i);
          });
    }
  }
  UnorderedResults(UnorderedResults&& other) noexcept
      : shared_(std::move(other.shared_)),
        left_(std::exchange(other.left_, 0)),
        block_(std::exchange(other.block_, nullptr)),
        item_(other.item_) {}
  UnorderedResults& operator=(UnorderedResults&&) = delete;
  ~UnorderedResults() {
    if (shared_ != nullptr) {
      for (auto& chunk : shared_->chunks) chunk.cancel();
    }
  }

  Iterator begin() { return Iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  friend Iterator;
  struct Shared {
    explicit Shared(std::vector<futures::Future<Chunk>> c)
        : chunks(std::move(c)) {}
    std::vector<futures::Future<Chunk>> chunks;
    // Indices of the chunks done, in the order they finished.
    queue::SimpleQueue<std::size_t> finished;
  };

  bool finished() {
    settle();
    return block_ == nullptr;
  }
  Stored& current() {
    settle();
    return (*block_)[item_].value;
  }
  void advance() {
    settle();
    if (++item_ == block_->size()) block_ = nullptr;
  }
  // Points block_ at the next finished chunk with results, if any is left.
  void settle() {
    while (block_ == nullptr && left_ > 0) {
      const std::size_t i = shared_->finished.get();
      --left_;
      auto& state = futures_detail::FutureAccess::state(shared_->chunks[i]);
      // A chunk's error: the rest are not wanted.
      if (auto error = multiprocessing_detail::error_of(state)) {
        left_ = 0;
        std::rethrow_exception(error);
      }
      item_ = 0;
      if (!state.value().empty()) block_ = &state.mutable_value();
    }
  }

  std::shared_ptr<Shared> shared_;
  std::size_t left_;  // chunks not yet passed
  Chunk* block_ = nullptr;
  std::size_t item_ = 0;
};

// ---------------------------------------------------------------------------
// Pool — Python's multiprocessing.Pool: a fixed set of worker processes,
// forked from this one, that run calls of plain functions (a function
// pointer or a captureless lambda) with encodable arguments and results,
// as ProcessPoolExecutor's tasks are (see there: how calls travel, how
// errors come back).
//
// apply runs one call and waits; apply_async returns an AsyncResult. map
// and starmap split their items into chunks (Python's default: about four
// per worker), send each as one call, and return every result in order;
// their _async forms return an AsyncResult of the whole list, which fails
// with the first chunk's error. imap returns the results lazily in order,
// imap_unordered as their chunks finish; their chunksize is 1 by default.
//
// close() stops new work and lets the workers finish what was sent;
// terminate() stops them at once; join() (after either) waits for the
// workers to end. The destructor terminates and waits, as the end of
// Python's `with Pool() as pool:` block does.
//
// Faults: a worker that dies while running a call (a signal, exit(), a
// crash) costs only that call, which fails with WorkerDiedError naming the
// worker's pid and how it ended; a new worker takes its place.
//
// Thread safety: every member may be called from any thread. Callbacks run
// on the pool's result thread.
//
// Differences from Python: a killed worker's task fails instead of leaving
// its result pending for ever; results unfinished at terminate() fail
// (BrokenProcessPool, or CancelledError for those not yet sent) instead of
// never becoming ready; an initializer that throws breaks the pool instead
// of having its workers restarted in a loop; a chunk too large for the
// pool's shared buffer is sent as smaller chunks.
class Pool {
  // How map's and starmap's items become a call's arguments.
  using Single = multiprocessing_detail::SingleArgument;
  using Spread = multiprocessing_detail::SpreadArguments;
  template <class How, class F, class Range>
  using MapResultOf = multiprocessing_detail::MapResultOf<How, F, Range>;

 public:
  Pool() : Pool(PoolOptions{}) {}
  // processes must be at least 1 (ValueError otherwise).
  explicit Pool(std::ptrdiff_t processes)
      : Pool(PoolOptions{.processes = processes}) {}
  explicit Pool(PoolOptions options);
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool();

  // fn(args...) in a worker; waits and returns its result (or throws its
  // error). ValueError once the pool is closed or terminated.
  template <class F, class... Args>
  auto apply(F&& fn, Args&&... args) {
    auto future = submit(std::forward<F>(fn), std::forward<Args>(args)...);
    return take(future);
  }

  // fn(args...) in a worker, without waiting.
  template <class F, class... Args>
  auto apply_async(F&& fn, Args&&... args) {
    return AsyncResult(
        submit(std::forward<F>(fn), std::forward<Args>(args)...));
  }
  // As Python's apply_async(fn, args, callback=..., error_callback=...):
  //   pool.apply_async(f, std::tuple{1, 2}, {.callback = on_result});
  // (Without callbacks the tuple is not spread: apply_async(f, 1, 2).)
  template <class F, class... Args>
  auto apply_async(F&& fn, std::tuple<Args...> args,
                   AsyncCallbacks<std::invoke_result_t<std::decay_t<F>&,
                                                       std::decay_t<Args>&&...>>
                       callbacks) {
    // The callbacks are in place before the call is sent, so that they run
    // on the pool's result thread, never on this one.
    futures::Future<
        std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>>
        inner;
    auto outer = with_callbacks(inner, std::move(callbacks));
    std::apply(
        [&](auto&&... a) {
          send(inner, std::forward<F>(fn), std::forward<decltype(a)>(a)...);
        },
        std::move(args));
    return AsyncResult(std::move(outer));
  }

  // fn(item) for every item of `items`, in chunks; every result, in order.
  // chunksize: empty for Python's default; otherwise at least 1.
  template <class F, std::ranges::input_range Range>
  auto map(F&& fn, Range&& items,
           std::optional<std::ptrdiff_t> chunksize = {}) {
    return take(
        map_future<Single>(fn, std::forward<Range>(items), chunksize, {}));
  }
  template <class F, std::ranges::input_range Range>
  auto map_async(F&& fn, Range&& items,
                 std::optional<std::ptrdiff_t> chunksize = {},
                 AsyncCallbacks<std::vector<MapResultOf<Single, F, Range>>>
                     callbacks = {}) {
    return AsyncResult(map_future<Single>(fn, std::forward<Range>(items),
                                          chunksize, std::move(callbacks)));
  }
  // fn(a, b, ...) for every tuple-like item (a std::tuple, pair or array).
  template <class F, std::ranges::input_range Range>
  auto starmap(F&& fn, Range&& items,
               std::optional<std::ptrdiff_t> chunksize = {}) {
    return take(
        map_future<Spread>(fn, std::forward<Range>(items), chunksize, {}));
  }
  template <class F, std::ranges::input_range Range>
  auto starmap_async(F&& fn, Range&& items,
                     std::optional<std::ptrdiff_t> chunksize = {},
                     AsyncCallbacks<std::vector<MapResultOf<Spread, F, Range>>>
                         callbacks = {}) {
    return AsyncResult(map_future<Spread>(fn, std::forward<Range>(items),
                                          chunksize, std::move(callbacks)));
  }

  // The results lazily, in order (futures::MapResults: each call's error
  // is thrown at its item). Every chunk is sent at the call.
  template <class F, std::ranges::input_range Range>
  auto imap(F&& fn, Range&& items, std::ptrdiff_t chunksize = 1) {
    using R = MapResultOf<Single, F, Range>;
    check_chunksize(chunksize);
    auto chunks = make_chunks<Single>(std::forward<Range>(items),
                                      static_cast<std::size_t>(chunksize));
    const std::size_t total = count_items(chunks);
    std::vector<futures::Future<Chunk<R>>> futures(chunks.size());
    send_chunks<R>(std::decay_t<F>(fn), chunks, futures);
    return futures::MapResults<R>(std::move(futures), std::nullopt, nullptr,
                                  total);
  }
  // The results lazily, as their chunks finish.
  template <class F, std::ranges::input_range Range>
  auto imap_unordered(F&& fn, Range&& items, std::ptrdiff_t chunksize = 1) {
    using R = MapResultOf<Single, F, Range>;
    check_chunksize(chunksize);
    auto chunks = make_chunks<Single>(std::forward<Range>(items),
                                      static_cast<std::size_t>(chunksize));
    std::vector<futures::Future<Chunk<R>>> futures(chunks.size());
    UnorderedResults<R> results(futures);
    send_chunks<R>(std::decay_t<F>(fn), chunks, futures);
    return results;
  }

  // No more work; the workers end once they have run what was sent.
  void close();
  // No more work; the workers are stopped now (SIGTERM). Results not ready
  // fail (see AsyncResult::get).
  void terminate();
  // Waits for the workers to end: ValueError unless close() or terminate()
  // came first.
  void join();

  std::size_t processes() const noexcept { return executor_.max_workers(); }

 private:
  enum State { kRunning, kClosed, kTerminated };

  template <class R>
  using Chunk = typename futures::MapResults<R>::Chunk;

  void check_running() const;
  static void check_chunksize(std::ptrdiff_t chunksize);
  // Python's default chunksize for n items: n / (4 * processes), rounded
  // up.
  std::size_t default_chunksize(std::size_t items) const noexcept {
    const std::size_t per = 4 * processes();
    return std::max<std::size_t>(1, (items + per - 1) / per);
  }

  // Sends fn(args...) as `future`'s call: ValueError unless the pool runs
  // (also when a close() or terminate() overtakes the send).
  template <class R, class F, class... Args>
  void send(futures::Future<R>& future, F&& fn, Args&&... args) {
    check_running();
    try {
      futures_detail::ProcessPoolAccess::send(
          executor_, future, std::forward<F>(fn), std::forward<Args>(args)...);
    } catch (const futures::BrokenExecutor&) {
      throw;
    } catch (const RuntimeError&) {
      check_running();
      throw;
    }
  }
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    futures::Future<
        std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>>
        future;
    send(future, std::forward<F>(fn), std::forward<Args>(args)...);
    return future;
  }

  // Waits for the future and moves its value out (its only other holder,
  // the pool, no longer reads it).
  template <class T>
  static T take(futures::Future<T> future) {
    if constexpr (std::is_void_v<T>) {
      future.result();
    } else {
      static_cast<void>(future.result());
      return std::move(
          futures_detail::FutureAccess::state(future).mutable_value());
    }
  }

  // The items as calls' arguments, chunksize at a time; a chunk whose
  // encoding would not fit in the pool's buffer becomes two halves.
  template <class How, class Range>
  auto make_chunks(Range&& items, std::size_t chunksize) const {
    using Item = typename How::template Item<std::ranges::range_value_t<Range>>;
    std::size_t left = std::numeric_limits<std::size_t>::max();
    if constexpr (std::ranges::sized_range<Range>) {
      left = static_cast<std::size_t>(std::ranges::size(items));
    }
    std::vector<std::vector<Item>> chunks;
    std::vector<Item> chunk;
    for (auto&& value : items) {
      if (chunk.empty()) chunk.reserve(std::min({chunksize, left, kReserve}));
      chunk.push_back(
          How::template item<Item>(std::forward<decltype(value)>(value)));
      --left;
      if (chunk.size() == chunksize) add_chunk(chunks, std::move(chunk));
    }
    if (!chunk.empty()) add_chunk(chunks, std::move(chunk));
    return chunks;
  }
  template <class Item>
  void add_chunk(std::vector<std::vector<Item>>& chunks,
                 std::vector<Item>&& chunk) const {
    if (chunk.size() > 1 && codec::encoded_size(chunk) + kCallOverhead >
                                executor_.max_call_bytes()) {
      const auto middle =
          chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() / 2);
      std::vector<Item> second(std::make_move_iterator(middle),
                               std::make_move_iterator(chunk.end()));
      chunk.erase(middle, chunk.end());
      add_chunk(chunks, std::move(chunk));
      add_chunk(chunks, std::move(second));
    } else {
      chunks.push_back(std::move(chunk));
    }
    chunk = {};
  }
  template <class Item>
  static std::size_t count_items(const std::vector<std::vector<Item>>& chunks) {
    std::size_t n = 0;
    for (const auto& chunk : chunks) n += chunk.size();
    return n;
  }

  // Sends chunk i as the call of futures[i] (pending; their callbacks in
  // place) and frees it. If a send fails, the futures not sent are
  // cancelled (so that none is left pending) and the error propagates.
  template <class R, class Fn, class Item>
  void send_chunks(const Fn& fn, std::vector<std::vector<Item>>& chunks,
                   std::vector<futures::Future<Chunk<R>>> futures) {
    std::size_t i = 0;
    try {
      for (; i < chunks.size(); ++i) {
        send(futures[i], &futures_detail::run_chunk<Fn, Item, R>, fn,
             std::move(chunks[i]));
        chunks[i] = {};
      }
    } catch (...) {
      for (; i < futures.size(); ++i) futures[i].cancel();
      throw;
    }
  }

  // map_async's future: the whole list once every chunk is done, or, once
  // every chunk is done, the first chunk's error (as Python's MapResult);
  // the callbacks run before it completes.
  template <class How, class F, class Range>
  auto map_future(
      const F& fn, Range&& items, std::optional<std::ptrdiff_t> chunksize,
      AsyncCallbacks<std::vector<MapResultOf<How, F, Range>>> callbacks) {
    using R = MapResultOf<How, F, Range>;
    static_assert(!std::is_void_v<R>,
                  "map's function must return a value, as Python's returns "
                  "None at least");
    if (chunksize) check_chunksize(*chunksize);
    check_running();
    if constexpr (!std::ranges::sized_range<Range>) {
      // Python makes a list of the items first, to know how many.
      std::vector<std::ranges::range_value_t<Range>> all;
      for (auto&& value : items) {
        all.push_back(std::forward<decltype(value)>(value));
      }
      return map_future<How>(fn, std::move(all), chunksize,
                             std::move(callbacks));
    } else {
      const auto n = static_cast<std::size_t>(std::ranges::size(items));
      auto chunks =
          make_chunks<How>(std::forward<Range>(items),
                           chunksize ? static_cast<std::size_t>(*chunksize)
                                     : default_chunksize(n));
      futures::Future<std::vector<R>> result;
      if (chunks.empty()) {
        // Python's MapResult of no items: ready, no callback.
        result.set_result(std::vector<R>{});
        return result;
      }
      auto job = std::make_shared<MapJob<R>>(chunks.size(), count_items(chunks),
                                             result, std::move(callbacks));
      for (auto& chunk : job->chunks) {
        chunk.add_done_callback([job](auto& f) { job->chunk_done(f); });
      }
      // Copies of the handles: the last chunk's callback clears the job's.
      send_chunks<R>(std::decay_t<F>(fn), chunks, job->chunks);
      return result;
    }
  }

  template <class R>
  struct MapJob {
    MapJob(std::size_t chunk_count, std::size_t item_count,
           futures::Future<std::vector<R>> future,
           AsyncCallbacks<std::vector<R>> cbs)
        : chunks(chunk_count),
          total(item_count),
          remaining(chunk_count),
          result(std::move(future)),
          callbacks(std::move(cbs)) {}

    std::vector<futures::Future<Chunk<R>>> chunks;
    const std::size_t total;
    // Chunks not done. acq_rel: the last to finish sees every chunk's
    // results, and first_error.
    std::atomic<std::size_t> remaining;
    // Relaxed: only the first to fail writes first_error; the counter
    // orders that write before the last chunk's read.
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    futures::Future<std::vector<R>> result;
    AsyncCallbacks<std::vector<R>> callbacks;

    void chunk_done(futures::Future<Chunk<R>>& f) {
      auto& state = futures_detail::FutureAccess::state(f);
      if (auto error = multiprocessing_detail::error_of(state)) {
        if (!failed.exchange(true, std::memory_order_relaxed)) {
          first_error = std::move(error);
        }
      }
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
    }
    void finish() {
      if (failed.load(std::memory_order_relaxed)) {
        complete_with(callbacks.error_callback, first_error,
                      [&] { result.set_exception(first_error); });
        return;
      }
      std::vector<R> out;
      try {
        out.reserve(total);
        for (auto& chunk : chunks) {
          for (auto& cell :
               futures_detail::FutureAccess::state(chunk).mutable_value()) {
            out.push_back(std::move(cell.value));
          }
        }
      } catch (...) {
        result.set_exception(std::current_exception());
        return;
      }
      chunks.clear();
      complete_with(
          [&] {
            if (callbacks.callback) callbacks.callback(out);
          },
          [&] { result.set_result(std::move(out)); });
    }
  };

  // Runs `call`, then `complete`, also when `call` throws (which is then
  // rethrown, to be reported as a throwing done-callback is).
  template <class Call, class Complete>
  static void complete_with(Call&& call, Complete&& complete) {
    try {
      call();
    } catch (...) {
      complete();
      throw;
    }
    complete();
  }
  template <class Complete>
  static void complete_with(const std::function<void(std::exception_ptr)>& cb,
                            std::exception_ptr error, Complete&& complete) {
    complete_with(
        [&] {
          if (cb) cb(error);
        },
        std::forward<Complete>(complete));
  }

  // A future that completes after the callbacks have run on `inner`'s
  // outcome; `inner` must not be sent yet.
  template <class R>
  static futures::Future<R> with_callbacks(futures::Future<R>& inner,
                                           AsyncCallbacks<R> callbacks) {
    futures::Future<R> outer;
    inner.add_done_callback([outer, callbacks = std::move(callbacks)](
                                futures::Future<R>& f) mutable {
      auto& state = futures_detail::FutureAccess::state(f);
      if (auto error = multiprocessing_detail::error_of(state)) {
        complete_with(callbacks.error_callback, error,
                      [&] { outer.set_exception(error); });
      } else if constexpr (std::is_void_v<R>) {
        complete_with(
            [&] {
              if (callbacks.callback) callbacks.callback();
            },
            [&] { outer.set_result(); });
      } else {
        complete_with(
            [&] {
              if (callbacks.callback) callbacks.callback(state.value());
            },
            [&] { outer.set_result(std::move(state.mutable_value())); });
      }
    });
    return outer;
  }

  // A chunk's first reservation at most (the rest grows as items come).
  static constexpr std::size_t kReserve = 1 << 16;
  // The bytes of a call besides its chunk: the invoker and the function.
  static constexpr std::size_t kCallOverhead = 64;

  futures::ProcessPoolExecutor executor_;
  std::atomic<State> state_{kRunning};
};

}  // namespace concur::multiprocessing
