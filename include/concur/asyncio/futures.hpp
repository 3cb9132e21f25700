// concur/asyncio/futures.hpp — asyncio.Future<T>, for callback-style code,
// and awaiting a concurrent futures::Future from a task.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "concur/asyncio/events.hpp"
#include "concur/detail/asyncio_core.hpp"
#include "concur/futures.hpp"

namespace concur::asyncio_detail {

template <class T>
class FutureState : public FutureCore {
 public:
  explicit FutureState(asyncio::EventLoop* loop) noexcept : FutureCore(loop) {}
  ResultSlot<T> value;

 private:
  void destroy() noexcept override { delete this; }
};

// Calls fn(handle) once the future is done; the node frees itself. It
// holds no handle meanwhile, so a future that never completes does not
// keep itself alive.
template <class Handle, class F>
class DoneFunction {
 public:
  static void add(FutureCore& core, F fn) {
    auto* self = new DoneFunction{std::move(fn), {}};
    self->node.fn = &invoke;
    self->node.drop = &drop;
    self->node.owner = self;
    core.add_done_callback(&self->node);
  }

  F fn;
  DoneCallback node;

 private:
  static void invoke(DoneCallback* cb, FutureCore& future) {
    std::unique_ptr<DoneFunction> self(static_cast<DoneFunction*>(cb->owner));
    Handle handle = Handle::from_core(future);
    self->fn(handle);
  }
  static void drop(DoneCallback* cb) {
    delete static_cast<DoneFunction*>(cb->owner);
  }
};

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

// ---------------------------------------------------------------------------
// Future<T> — Python's asyncio.Future: a result that a callback will set.
//
// A handle: copies refer to one future. Awaiting it in a task waits until
// it is done, then gives the value (a const reference for an lvalue
// future, a copy for an rvalue), or throws its exception or
// CancelledError. Cancelling a task that awaits the future cancels the
// future, as in Python.
//
// Thread safety: belongs to its loop's thread, as in Python; set it from
// another thread through loop.call_soon_threadsafe.
template <class T>
class Future {
 public:
  using value_type = T;

  // A future of the running loop, or of this thread's event loop.
  Future() : Future(get_event_loop()) {}
  explicit Future(EventLoop& loop)
      : state_(new asyncio_detail::FutureState<T>(&loop)) {}
  Future(const Future& other) noexcept : state_(other.state_) {
    state_->retain();
  }
  Future(Future&& other) noexcept
      : state_(std::exchange(other.state_, nullptr)) {}
  Future& operator=(Future other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Future() {
    if (state_ != nullptr) state_->release();
  }

  bool valid() const noexcept { return state_ != nullptr; }
  bool done() const noexcept { return state_->done(); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  bool cancel(std::string message = {}) {
    return state_->cancel(std::move(message));
  }
  // The value: InvalidStateError if pending, CancelledError if cancelled,
  // the exception if one was set.
  decltype(auto) result() const {
    state_->check_done("Result is not set.");
    if (auto error = state_->outcome_error()) std::rethrow_exception(error);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return static_cast<const T&>(state_->value.get());
    }
  }
  // The exception set (null if a value was), CancelledError if cancelled,
  // InvalidStateError if pending.
  std::exception_ptr exception() const {
    state_->check_done("Exception is not set.");
    if (state_->cancelled()) std::rethrow_exception(state_->outcome_error());
    return state_->outcome_error();
  }

  template <class... Args>
  void set_result(Args&&... args) {
    if (state_->done()) throw InvalidStateError("invalid state");
    state_->value.emplace(std::forward<Args>(args)...);
    state_->finish_value();
  }
  void set_exception(std::exception_ptr error) {
    state_->finish_error(std::move(error));
  }

  // Calls fn(future) on the loop once the future is done (on the next pass
  // if it is done already), as Python's add_done_callback.
  template <class F>
  requires std::is_invocable_v<F&, Future&>
  void add_done_callback(F fn) {
    asyncio_detail::DoneFunction<Future, F>::add(*state_, std::move(fn));
  }
  EventLoop& get_loop() const noexcept { return *state_->loop(); }

  auto operator co_await() const& noexcept { return Awaiter<true>{*this}; }
  auto operator co_await() const&& noexcept { return Awaiter<false>{*this}; }

  friend bool operator==(const Future& a, const Future& b) noexcept {
    return a.state_ == b.state_;
  }

  // The library's: the state, and a handle taking over a new state's one
  // reference (gather's own futures).
  asyncio_detail::FutureState<T>* core() const noexcept { return state_; }
  static Future adopt(asyncio_detail::FutureState<T>* state) noexcept {
    return Future(state);
  }

 private:
  template <class, class>
  friend class asyncio_detail::DoneFunction;
  static Future from_core(asyncio_detail::FutureCore& core) noexcept {
    core.retain();
    return Future(static_cast<asyncio_detail::FutureState<T>*>(&core));
  }
  explicit Future(asyncio_detail::FutureState<T>* state) noexcept
      : state_(state) {}

  template <bool kByReference>
  struct Awaiter : asyncio_detail::CoreAwaiter {
    explicit Awaiter(const Future& f) : CoreAwaiter(*f.state_), future(f) {}
    decltype(auto) await_resume() {
      resume_checks();
      if constexpr (std::is_void_v<T>) {
        return;
      } else if constexpr (kByReference) {
        return static_cast<const T&>(future.state_->value.get());
      } else {
        return T(future.state_->value.get());
      }
    }
    Future future;
  };

  asyncio_detail::FutureState<T>* state_;
};

// A concurrent future's outcome as a future of `loop` (Python's
// wrap_future): completed on the loop's thread when the concurrent one is
// done; cancelling it cancels the concurrent one.
template <class T>
Future<T> wrap_future(futures::Future<T> concurrent, EventLoop& loop) {
  Future<T> mirror(loop);
  mirror.add_done_callback([concurrent](Future<T>& f) mutable {
    if (f.cancelled()) concurrent.cancel();
  });
  // The pool's thread reaches the loop through its inbox, which refuses
  // once the loop has closed: the outcome is then dropped, as in Python.
  concurrent.add_done_callback(
      [mirror, inbox = loop.inbox()](futures::Future<T>& done) {
        asyncio_detail::post(inbox, [mirror, done]() mutable {
          if (mirror.done()) return;
          if (done.cancelled()) {
            mirror.cancel();
          } else if (auto error = done.exception()) {
            mirror.set_exception(error);
          } else if constexpr (std::is_void_v<T>) {
            mirror.set_result();
          } else {
            mirror.set_result(done.result());
          }
        });
      });
  return mirror;
}

}  // namespace concur::asyncio

namespace concur::futures {

// `co_await future` of a concurrent future inside a task: waits on the
// loop, without blocking it, for the pool (or process) to finish the call.
template <class T>
auto operator co_await(Future<T> future) {
  return asyncio::wrap_future(std::move(future), asyncio::get_running_loop())
      .
      operator co_await();
}

}  // namespace concur::futures
