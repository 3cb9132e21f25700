// concur/generator.hpp — Python's generators on C++20 coroutines.
//
//   concur::Generator<int> count_up(int n) {
//     for (int i = 0; i < n; ++i) co_yield i;
//   }
//   for (int i : count_up(3)) ...            // 0, 1, 2
//
// A function that returns Generator<T> and uses co_yield is a generator
// function: calling it runs nothing, as in Python; each next() (or step of a
// range-for) runs the body to its next co_yield. Python's pieces:
//
//   Python                          concur
//   yield v                         co_yield v;
//   x = yield v (with send)         auto x = co_yield v;  (Generator<T, Send>:
//                                   std::optional<Send>, empty after next(),
//                                   as Python's None)
//   yield from sub()                co_yield concur::yield_from(sub());
//   next(gen)                       gen.next()  (StopIteration at the end;
//                                   try_next() gives std::optional instead)
//   gen.send(v)                     gen.send(v)
//   gen.throw(e)                    gen.throw_(e)
//   gen.close()                     gen.close()  (also done by the destructor)
//   inspect.getgeneratorstate(gen)  gen.state()
//
// An exception that escapes the body reaches the caller of next(), send()
// or throw_(), and closes the generator. Errors on misuse are Python's:
// ValueError "generator already executing" (a body resuming itself),
// TypeError for a value sent to a generator that has not started, and
// RuntimeError when a body swallows GeneratorExit and yields again.
//
// yield_from hands the consumer straight to the innermost generator, so
// each value costs the same however deep the delegation goes; a generator
// finishing hands back to its delegator through the consumer's own loop,
// not by nesting calls, so no depth grows the stack.
//
// Thread safety: a Generator is one thread's at a time, as a Python
// generator is; driving it from two threads at once is a data race. Moving
// it to another thread between steps is fine.
//
// Differences from Python: a generator's return value (StopIteration.value,
// the value of `yield from`) is not kept: bodies end with co_return; or by
// running off their end. yield_from takes a Generator of the same T and
// Send. C++ allows no co_yield inside a catch block: catch, note, and
// yield after it. A range-for calls next() for its first value too, so starting
// a second loop over a generator goes on from where the first one stopped, as
// in Python. Values are handed out by reference: one co_yield of an rvalue
// moves nothing, and an lvalue is copied once, so the consumer may move from
// what it is given.
#pragma once

#include <coroutine>
#include <cstdio>
#include <exception>
#include <iterator>
#include <optional>
#include <type_traits>
#include <utility>

#include "concur/errors.hpp"

namespace concur {

// inspect.getgeneratorstate's four answers.
enum class GeneratorState { kCreated, kRunning, kSuspended, kClosed };

// "GEN_CREATED", "GEN_RUNNING", "GEN_SUSPENDED" or "GEN_CLOSED".
constexpr const char* state_name(GeneratorState state) noexcept {
  switch (state) {
    case GeneratorState::kCreated:
      return "GEN_CREATED";
    case GeneratorState::kRunning:
      return "GEN_RUNNING";
    case GeneratorState::kSuspended:
      return "GEN_SUSPENDED";
    case GeneratorState::kClosed:
      return "GEN_CLOSED";
  }
  return "?";
}

template <class T, class Send = void>
class Generator;

// `co_yield yield_from(sub)`: Python's `yield from sub`.
template <class T, class Send>
struct YieldFrom {
  Generator<T, Send> inner;
};
template <class T, class Send>
YieldFrom<T, Send> yield_from(Generator<T, Send> inner) {
  return {std::move(inner)};
}

namespace generator_detail {

// What `co_yield v` evaluates to: the sent value, or nothing.
template <class Send>
struct Sent {
  using type = std::optional<Send>;
};
template <>
struct Sent<void> {
  using type = void;
};

}  // namespace generator_detail

template <class T, class Send>
class [[nodiscard]] Generator {
  static_assert(!std::is_reference_v<T> && !std::is_void_v<T>,
                "Generator<T>: T is the type of the values, not a reference");

 public:
  using value_type = T;
  using SentType = typename generator_detail::Sent<Send>::type;

  class promise_type;
  using Handle = std::coroutine_handle<promise_type>;

  // The coroutine's state. A delegated generator (one inside yield_from)
  // points at the outermost one, its root, which the consumer drives and
  // which keeps what the consumer sees: the value, the sent value, the
  // exception to throw in, and which generator runs now (the leaf).
  class promise_type {
   public:
    Generator get_return_object() noexcept {
      return Generator(Handle::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }

    // At its end a delegated generator hands the leaf back to its
    // delegator; the consumer's loop resumes that one.
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      void await_suspend(Handle self) noexcept {
        promise_type& p = self.promise();
        if (p.parent_ != nullptr) p.root_->leaf_ = p.parent_->handle();
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }

    // The value lives in the frame until the next resume: an rvalue as
    // the co_yield's temporary, an lvalue as a copy in this awaiter.
    struct YieldAwaiter {
      promise_type* self;
      T* value;
      std::optional<T> copy{};
      bool await_ready() noexcept { return false; }
      void await_suspend(Handle) noexcept {
        self->root_->value_ = copy ? std::addressof(*copy) : value;
      }
      SentType await_resume() { return self->root_->resumed(); }
    };
    YieldAwaiter yield_value(T&& value) noexcept {
      return {this, std::addressof(value)};
    }
    YieldAwaiter yield_value(const T& value) { return {this, nullptr, value}; }

    // Starts the inner generator as the leaf; the consumer's loop runs it.
    struct FromAwaiter {
      Generator inner;
      bool await_ready() noexcept { return false; }
      void await_suspend(Handle outer) noexcept {
        promise_type& p = inner.handle_.promise();
        p.root_ = outer.promise().root_;
        p.parent_ = &outer.promise();
        p.root_->leaf_ = inner.handle_;
      }
      void await_resume() {
        if (inner.handle_.promise().error_) {
          std::rethrow_exception(
              std::exchange(inner.handle_.promise().error_, nullptr));
        }
      }
    };
    FromAwaiter yield_value(YieldFrom<T, Send>&& from) {
      if (!from.inner.handle_) {
        throw ValueError("yield_from of an empty (moved-from) Generator");
      }
      if (from.inner.state_ != GeneratorState::kCreated) {
        throw ValueError("yield_from of a Generator that has already started");
      }
      from.inner.state_ = GeneratorState::kRunning;
      return {std::move(from.inner)};
    }

    void return_void() noexcept {}
    void unhandled_exception() noexcept {
      error_ = std::current_exception();
      // PEP 479: a StopIteration escaping the body must not look like the
      // generator's end to whatever drives it.
      try {
        std::rethrow_exception(error_);
      } catch (const StopIteration&) {
        error_ = std::make_exception_ptr(
            RuntimeError("generator raised StopIteration"));
      } catch (...) {  // NOLINT(bugprone-empty-catch): kept as it is
      }
    }

    // co_await has no meaning in a generator.
    template <class U>
    std::suspend_never await_transform(U&&) = delete;

   private:
    friend class Generator;

    Handle handle() noexcept { return Handle::from_promise(*this); }

    // At the root, as the leaf's co_yield returns: throws what throw_()
    // or close() put there, else hands over the sent value.
    SentType resumed() {
      if (pending_) Generator::rethrow(pending_);
      if constexpr (!std::is_void_v<Send>) return std::exchange(sent_, {});
    }

    promise_type* root_ = this;
    promise_type* parent_ = nullptr;  // the delegator, if delegated
    // Root only:
    Handle leaf_ = handle();
    T* value_ = nullptr;  // set by each co_yield, cleared before a resume
    std::exception_ptr pending_;
    [[no_unique_address]] std::conditional_t<std::is_void_v<Send>,
                                             std::nullptr_t, SentType>
        sent_{};
    // This generator's own end, if an exception ended it.
    std::exception_ptr error_;
  };

  // A range-for's iterator: each ++ is a next(); *it is the value, by
  // reference, until the next step.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    T& operator*() const noexcept { return *gen_->value(); }
    T* operator->() const noexcept { return gen_->value(); }
    iterator& operator++() {
      gen_->step_if_open();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) {
      return it.gen_->state() == GeneratorState::kClosed;
    }

   private:
    friend class Generator;
    explicit iterator(Generator* gen) noexcept : gen_(gen) {}
    Generator* gen_ = nullptr;
  };

  Generator() = default;
  Generator(Generator&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)),
        state_(std::exchange(other.state_, GeneratorState::kClosed)) {}
  Generator& operator=(Generator other) noexcept {
    std::swap(handle_, other.handle_);
    std::swap(state_, other.state_);
    return *this;
  }
  Generator(const Generator&) = delete;

  // Closes a generator still suspended (its cleanup runs), as Python's
  // does when collected; an exception that cleanup raises cannot propagate
  // from here, so it is printed to stderr, as Python prints "Exception
  // ignored in".
  ~Generator() {
    if (!handle_) return;
    if (state_ == GeneratorState::kSuspended) {
      try {
        close();
      } catch (const BaseException& e) {
        std::fprintf(stderr, "Exception ignored in a generator: %s: %s\n",
                     e.type_name(), e.what());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "Exception ignored in a generator: %s\n",
                     e.what());
      } catch (...) {
        std::fputs("Exception ignored in a generator\n", stderr);
      }
    }
    handle_.destroy();
  }

  // Runs the body to its next co_yield and returns that value; throws
  // StopIteration once the body has ended, and whatever the body throws.
  T next() {
    step_to_value();
    return std::move(*value());
  }
  // next(), or an empty optional at the end.
  std::optional<T> try_next() {
    if (!step_if_open()) return std::nullopt;
    return std::move(*value());
  }

  // Resumes the body with `value` as its co_yield's result. As in Python,
  // a generator that has not started yet can only be started by next().
  template <class U = Send>
  requires(!std::is_void_v<U>) T send(U value) {
    check_resumable();
    if (state_ == GeneratorState::kCreated) {
      throw TypeError("can't send non-None value to a just-started generator");
    }
    handle_.promise().sent_ = std::move(value);
    return next();
  }

  // Throws `error` at the body's co_yield (at once, in a generator not yet
  // started, which then never runs). Returns the next value if the body
  // catches it and yields again; StopIteration if it ends; else the error
  // comes back out.
  T throw_(const std::exception_ptr& error) {
    if (error == nullptr) throw ValueError("throw_ of a null exception_ptr");
    check_resumable();
    if (state_ != GeneratorState::kSuspended) {
      state_ = GeneratorState::kClosed;
      std::rethrow_exception(error);
    }
    handle_.promise().pending_ = error;
    return next();
  }
  template <class E>
  requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>) T
      throw_(E&& error) {
    return throw_(std::make_exception_ptr(std::forward<E>(error)));
  }

  // Throws GeneratorExit at the body's co_yield so that its cleanup runs.
  // A body that ends, or lets GeneratorExit (or StopIteration) out, is
  // closed; one that yields again gets RuntimeError; another exception
  // comes back out. Closing a generator not started, or closed, does
  // nothing but mark it closed.
  void close() {
    if (!handle_) return;
    if (state_ == GeneratorState::kRunning) fail_running();
    if (state_ != GeneratorState::kSuspended) {
      state_ = GeneratorState::kClosed;
      return;
    }
    handle_.promise().pending_ = std::make_exception_ptr(GeneratorExit());
    try {
      step();
    } catch (const GeneratorExit&) {
      return;
    }
    if (state_ != GeneratorState::kClosed) {
      state_ = GeneratorState::kClosed;
      throw RuntimeError("generator ignored GeneratorExit");
    }
  }

  GeneratorState state() const noexcept { return state_; }

  // Each step of the loop is a next(); see the header's notes.
  iterator begin() {
    step_if_open();
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  explicit Generator(Handle handle) noexcept : handle_(handle) {}

  T* value() const noexcept { return handle_.promise().value_; }

  // The throws live out of line, so that the steps around them inline.
  [[noreturn, gnu::cold, gnu::noinline]] static void fail_empty() {
    throw ValueError("an empty (moved-from) Generator");
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void fail_running() {
    throw ValueError("generator already executing");
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void fail_stopped() {
    throw StopIteration("");
  }
  [[noreturn, gnu::cold, gnu::noinline]] static void rethrow(
      std::exception_ptr& error) {
    std::rethrow_exception(std::exchange(error, nullptr));
  }

  void check_resumable() const {
    if (!handle_) fail_empty();
    if (state_ == GeneratorState::kRunning) fail_running();
  }

  // Runs the body to its next value; false once it has ended.
  bool step_if_open() {
    check_resumable();
    if (state_ == GeneratorState::kClosed) return false;
    step();
    return state_ != GeneratorState::kClosed;
  }
  void step_to_value() {
    if (!step_if_open()) fail_stopped();
  }

  // Resumes the leaf until one co_yield gives a value or the root ends.
  // Handing the leaf between generators returns here, so delegation
  // never deepens the stack.
  void step() {
    promise_type& root = handle_.promise();
    root.value_ = nullptr;
    state_ = GeneratorState::kRunning;
    do {
      root.leaf_.resume();
    } while (root.value_ == nullptr && !handle_.done());
    if (root.value_ != nullptr) {
      state_ = GeneratorState::kSuspended;
      return;
    }
    state_ = GeneratorState::kClosed;
    if (root.error_) rethrow(root.error_);
  }

  Handle handle_ = nullptr;
  GeneratorState state_ = GeneratorState::kCreated;
};

}  // namespace concur
