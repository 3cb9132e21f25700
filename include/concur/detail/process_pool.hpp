// ProcessPoolExecutor (included at the end of <concur/futures.hpp>; see
// there for the module's conventions), and how a call crosses to a worker
// process: what may be sent, and the two functions the call's type leaves
// behind, one that runs it in the worker and one that completes its future
// in the caller.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "concur/codec.hpp"
#include "concur/detail/mp_context.hpp"
#include "concur/detail/sendable.hpp"
#include "concur/futures.hpp"

namespace concur::futures {

// A worker died while running a task, and the pool (with
// replace_dead_workers) went on without it: only that task fails.
CONCUR_DEFINE_ERROR(WorkerDiedError, RuntimeError);

// A task threw something that is not one of concur's own errors (those come
// back as themselves): the original's type and message, as Python's
// ProcessPoolExecutor re-raises the worker's exception.
class RemoteError : public Error {
 public:
  RemoteError(std::string remote_type, std::string message)
      : Error(std::move(message)), remote_type_(std::move(remote_type)) {}
  CONCUR_ERROR_TYPE_NAME(RemoteError)
  // The demangled C++ type the task threw ("std::out_of_range").
  const std::string& remote_type() const noexcept { return remote_type_; }

 private:
  std::string remote_type_;
};

struct ProcessPoolOptions {
  // Empty: process_cpu_count(), as Python. Otherwise at least 1.
  std::optional<std::ptrdiff_t> max_workers{};
  // Run in each worker before its first task. If it throws, the worker
  // reports it on stderr and exits, and the pool is broken.
  std::function<void()> initializer{};
  // Empty: a worker runs tasks for as long as the pool lives. Otherwise at
  // least 1: a worker that has run that many exits and is replaced.
  std::optional<std::ptrdiff_t> max_tasks_per_child{};
  // What a worker's death while it runs tasks does. false (Python's rule):
  // the pool is broken; the pending and the running tasks and every later
  // submit fail with BrokenProcessPool. true: only the task the worker was
  // running fails, with WorkerDiedError naming its pid and how it ended,
  // and a new worker takes its place.
  bool replace_dead_workers = false;
  // The shared ring the calls travel through; a call's arguments must fit
  // in half of it (ValueError at submit otherwise). Results may be of any
  // size.
  std::size_t buffer_bytes = std::size_t{4} << 20;
  // How the workers are started (multiprocessing's get_context); empty:
  // the default context. With "forkserver" the initializer must be a
  // plain function (ValueError otherwise).
  std::optional<multiprocessing::Context> mp_context{};
};

}  // namespace concur::futures

namespace concur::futures_detail {

// Runs in a worker: decodes the callable and the arguments, calls, and
// encodes the result into `out`. Its address is the first word of a call.
using Invoker = void (*)(codec::Reader& in, codec::Buffer& out);

template <class Fn, class... Args>
void invoke_sent(codec::Reader& in, codec::Buffer& out) {
  Fn fn = detail::receive_argument<Fn>(in);
  // Braces: the arguments are decoded in order.
  std::tuple<Args...> args{detail::receive_argument<Args>(in)...};
  codec::Writer w(out);
  using R = std::invoke_result_t<Fn&, Args&&...>;
  if constexpr (std::is_void_v<R>) {
    std::apply(fn, std::move(args));
    codec::encode(w, std::monostate{});
  } else {
    codec::encode(w, std::apply(fn, std::move(args)));
  }
}

// Completes a future in the caller's process with a worker's encoded
// result; a result that does not decode fails the future instead.
using Completer = void (*)(StateBase& state, std::span<const std::byte> in);

// The executor's side of a future whose call runs elsewhere: it holds the
// claim from the moment the call is sent (set_result then raises
// InvalidStateError, as for a thread pool's running task).
struct RemoteCompletion {
  static bool start(StateBase& state) noexcept { return state.start_call(); }
  static void fail(StateBase& state, std::exception_ptr error) noexcept {
    state.error_ = std::move(error);
    state.finish();
  }
  template <class R>
  static void complete(StateBase& state, std::span<const std::byte> in) {
    auto& typed = static_cast<State<R>&>(state);
    try {
      typed.store_value(codec::loads<Stored<R>>(in));
      state.finish();
    } catch (...) {
      fail(state, std::current_exception());
    }
  }
};

class ProcessPool;
struct ProcessPoolAccess;
struct ProcessPoolDeleter {
  void operator()(ProcessPool* pool) const noexcept;
};
// Sends one encoded call (the pool takes a reference to `state`).
void submit(ProcessPool& pool, codec::Buffer&& call, StateBase& state,
            Completer complete);

}  // namespace concur::futures_detail

namespace concur::futures {

// ---------------------------------------------------------------------------
// ProcessPoolExecutor — Python's concurrent.futures.ProcessPoolExecutor:
// calls run in at most max_workers worker processes, forked from this one.
//
// A task is a function of this program (a function pointer or a
// captureless lambda) with encodable arguments and an encodable result
// (codec.hpp); anything else fails to compile, with a message. The
// function travels as its address, which is valid in every process forked
// from this program (and moved to the worker's copy of the program under
// the forkserver start method, mp_context); the arguments are encoded at
// submit, so the caller may change its own copies at once. The calls travel
// through a shared- memory ring to whichever worker is free, and the results
// through another to a collector thread of the pool, which completes the
// futures (and runs their done-callbacks). A call that throws comes back as its
// error: one of concur's own errors as itself, anything else as RemoteError
// carrying the original type's name and message.
//
// Faults: a worker that dies (a signal, exit(), a crash) is noticed through
// its process descriptor at once. What then happens is the pool's option
// (replace_dead_workers): Python's rule, a broken pool (BrokenProcessPool
// for the running, the pending and every later task), or only the task it
// ran failing (WorkerDiedError) and a new worker in its place. No future
// is ever left pending: the pool knows which task each worker took, even
// when the worker dies in the middle of taking it. Workers are reaped.
//
// The workers are started at the first submit, all of them, before the
// pool starts its own threads (as Python does with fork); a worker
// replaced later (max_tasks_per_child, replace_dead_workers) is started
// from the collector thread, which, with the fork start method, prints the
// fork warning (set_fork_warning) if the program has other threads. With
// mp_context = get_context("forkserver") the workers come from the
// forkserver instead, which holds no lock of the caller's threads.
//
// Thread safety: every member may be called from any thread. The
// destructor shuts down and waits; do not destroy the pool from one of its
// futures' callbacks, which run on the collector thread.
//
// Differences from Python: tasks are plain functions, not any picklable
// callable; a call is sent to the workers as soon as max_workers + 32 are
// not already waiting there (Python: max_workers + 1), and a sent call
// counts as running (it can no longer be cancelled); the default start
// method is fork (Python 3.14's is forkserver); a worker's death can cost
// only its task instead of the whole pool.
class ProcessPoolExecutor : public ExecutorBase<ProcessPoolExecutor> {
 public:
  ProcessPoolExecutor() : ProcessPoolExecutor(ProcessPoolOptions{}) {}
  // max_workers must be at least 1 (ValueError otherwise).
  explicit ProcessPoolExecutor(std::ptrdiff_t max_workers);
  explicit ProcessPoolExecutor(ProcessPoolOptions options);
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  // Shuts down and waits (Python's `with` block's end).
  ~ProcessPoolExecutor();

  // Calls run in other processes: map() sends each chunk's items.
  static constexpr bool kSharesMemory = false;

  // Sends fn(args...) to a worker. RuntimeError after shutdown;
  // BrokenProcessPool once broken; ValueError if the encoded call does not
  // fit in half of buffer_bytes.
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    Future<std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>>
        future;
    send(future, std::forward<F>(fn), std::forward<Args>(args)...);
    return future;
  }

  // Stops accepting work. wait: block until every sent task has run and
  // the workers have ended. cancel_futures: cancel the tasks not yet sent
  // to a worker. Idempotent.
  void shutdown(bool wait = true, bool cancel_futures = false);
  // Python 3.14: shuts down, cancelling the tasks not yet sent, and sends
  // SIGTERM / SIGKILL to every worker; the tasks that were running fail
  // with BrokenProcessPool. Does not wait (the destructor does).
  void terminate_workers();
  void kill_workers();

  std::size_t max_workers() const noexcept;
  // The largest encoded call submit accepts (half of buffer_bytes).
  std::size_t max_call_bytes() const noexcept;

 private:
  friend struct futures_detail::ProcessPoolAccess;

  // Sends fn(args...) as the call of `future`, which is pending and may
  // already have done-callbacks.
  template <class R, class F, class... Args>
  void send(Future<R>& future, F&& fn, Args&&... args) {
    using Fn = std::decay_t<F>;
    static_assert(detail::SendableCallable<Fn>,
                  "a ProcessPoolExecutor task must be a function or a "
                  "captureless lambda: it runs in another process");
    static_assert((detail::SendableArgument<std::decay_t<Args>> && ...),
                  "a ProcessPoolExecutor task's arguments must be encodable "
                  "(concur/codec.hpp): they are sent to another process");
    static_assert(codec::Encodable<futures_detail::Stored<R>>,
                  "a ProcessPoolExecutor task's result must be encodable "
                  "(concur/codec.hpp): it is sent back from another process");
    codec::Buffer call;
    codec::Writer w(call);
    const futures_detail::Invoker invoker =
        &futures_detail::invoke_sent<Fn, std::decay_t<Args>...>;
    // Each with its decayed type: a function (not its pointer) sends
    // nothing otherwise.
    detail::send_argument<futures_detail::Invoker>(w, invoker);
    detail::send_argument<Fn>(w, fn);
    (detail::send_argument<std::decay_t<Args>>(w, args), ...);
    futures_detail::submit(*pool_, std::move(call),
                           futures_detail::FutureAccess::state(future),
                           &futures_detail::RemoteCompletion::complete<R>);
  }

  std::unique_ptr<futures_detail::ProcessPool,
                  futures_detail::ProcessPoolDeleter>
      pool_;
};

}  // namespace concur::futures

namespace concur::futures_detail {

// How multiprocessing::Pool sends a call into a future it made first, so
// that the future's callbacks are in place before the call can finish (and
// run on the pool's collector thread, as Python's run on its result
// thread).
struct ProcessPoolAccess {
  template <class R, class F, class... Args>
  static void send(futures::ProcessPoolExecutor& pool,
                   futures::Future<R>& future, F&& fn, Args&&... args) {
    pool.send(future, std::forward<F>(fn), std::forward<Args>(args)...);
  }
};

}  // namespace concur::futures_detail
