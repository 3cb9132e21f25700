// excepthook: where an exception that escapes a Thread goes, after
// CPython's ExceptHookTests in Lib/test/test_threading.py.

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::default_excepthook;
using concur::threading::ExceptHook;
using concur::threading::ExceptHookArgs;
using concur::threading::main_thread;
using concur::threading::set_excepthook;
using concur::threading::Thread;
using concur::threading::ThreadOptions;
using concur::threading::Timer;
using testing::HasSubstr;

// Installs a hook for the scope of a test and puts the previous one back.
class ScopedHook {
 public:
  explicit ScopedHook(ExceptHook hook)
      : previous_(set_excepthook(std::move(hook))) {}
  ~ScopedHook() { set_excepthook(std::move(previous_)); }
  ScopedHook(const ScopedHook&) = delete;
  ScopedHook& operator=(const ScopedHook&) = delete;

 private:
  ExceptHook previous_;
};

// What a recording hook saw, copied out of the ExceptHookArgs.
struct Seen {
  int calls = 0;
  std::exception_ptr exc_value;
  std::string exc_type;
  std::optional<Thread> thread;
};

// A hook that records its arguments into `seen`, under `mu`.
ExceptHook Recorder(std::mutex& mu, Seen& seen) {
  return [&mu, &seen](const ExceptHookArgs& args) {
    std::scoped_lock guard(mu);
    ++seen.calls;
    seen.exc_value = args.exc_value;
    seen.exc_type = args.exc_type;
    seen.thread = args.thread;
  };
}

// The message of the std::exception inside `e`.
std::string MessageOf(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& caught) {
    return caught.what();
  }
}

// Starts a thread named `name` whose target throws, joins it and returns
// what it printed to stderr.
template <class Throw>
std::string StderrOfFailingThread(const std::string& name, Throw do_throw) {
  Thread t(ThreadOptions{.name = name, .daemon = std::nullopt}, do_throw);
  testing::internal::CaptureStderr();
  t.start();
  t.join();
  return testing::internal::GetCapturedStderr();
}

TEST(Excepthook, DefaultPrintsThreadNameTypeAndMessage) {
  std::string printed = StderrOfFailingThread(
      "failing-worker", [] { throw std::runtime_error("something broke"); });
  EXPECT_THAT(printed, HasSubstr("Exception in thread failing-worker:"));
  EXPECT_THAT(printed, HasSubstr("std::runtime_error: something broke"));
}

TEST(Excepthook, DefaultPrintsConcurErrors) {
  std::string printed = StderrOfFailingThread(
      "concur-worker", [] { throw concur::ValueError("bad value"); });
  EXPECT_THAT(printed, HasSubstr("Exception in thread concur-worker:"));
  EXPECT_THAT(printed, HasSubstr("ValueError"));
  EXPECT_THAT(printed, HasSubstr("bad value"));
}

TEST(Excepthook, DefaultHandlesExceptionsThatAreNotStdExceptions) {
  std::string printed = StderrOfFailingThread("int-thrower", [] { throw 42; });
  EXPECT_THAT(printed, HasSubstr("Exception in thread int-thrower:"));
}

TEST(Excepthook, DefaultExcepthookCalledDirectly) {
  ExceptHookArgs args{
      .exc_value = std::make_exception_ptr(std::logic_error("direct")),
      .exc_type = "std::logic_error",
      .thread = main_thread()};
  testing::internal::CaptureStderr();
  default_excepthook(args);
  std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_THAT(printed, HasSubstr("Exception in thread MainThread:"));
  EXPECT_THAT(printed, HasSubstr("std::logic_error: direct"));
}

TEST(Excepthook, ThreadDoesNotTerminateTheProcess) {
  ScopedHook quiet([](const ExceptHookArgs&) {});
  std::atomic<bool> before_throw{false};
  Thread t([&] {
    before_throw = true;
    throw std::runtime_error("escapes");
  });
  t.start();
  t.join();
  EXPECT_TRUE(before_throw);
  EXPECT_FALSE(t.is_alive());
  // Threads still work afterwards.
  std::atomic<bool> ran{false};
  Thread next([&] { ran = true; });
  next.start();
  next.join();
  EXPECT_TRUE(ran);
}

TEST(Excepthook, HookReceivesTheExceptionAndTheThread) {
  std::mutex mu;
  Seen seen;
  ScopedHook hook(Recorder(mu, seen));
  Thread t(ThreadOptions{.name = "hooked", .daemon = std::nullopt},
           [] { throw std::out_of_range("index 7"); });
  t.start();
  t.join();
  std::scoped_lock guard(mu);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.exc_type, "std::out_of_range");
  ASSERT_TRUE(seen.exc_value);
  EXPECT_THROW(std::rethrow_exception(seen.exc_value), std::out_of_range);
  EXPECT_EQ(MessageOf(seen.exc_value), "index 7");
  ASSERT_TRUE(seen.thread.has_value());
  EXPECT_TRUE(*seen.thread == t);
  EXPECT_EQ(seen.thread->name(), "hooked");
}

TEST(Excepthook, HookReceivesExceptionsThatAreNotStdExceptions) {
  std::mutex mu;
  Seen seen;
  ScopedHook hook(Recorder(mu, seen));
  Thread t([] { throw 42; });
  t.start();
  t.join();
  std::scoped_lock guard(mu);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(seen.exc_type, "int");
  int value = 0;
  try {
    std::rethrow_exception(seen.exc_value);
  } catch (int thrown) {
    value = thrown;
  }
  EXPECT_EQ(value, 42);
}

TEST(Excepthook, HookRunsInTheFailingThread) {
  std::optional<Thread> current_in_hook;
  ScopedHook hook([&](const ExceptHookArgs&) {
    current_in_hook = concur::threading::current_thread();
  });
  Thread t([] { throw std::runtime_error("x"); });
  t.start();
  t.join();
  ASSERT_TRUE(current_in_hook.has_value());
  EXPECT_TRUE(*current_in_hook == t);
}

TEST(Excepthook, OverriddenRunThatThrowsGoesToTheHook) {
  class Failing : public Thread {
   protected:
    void run() override { throw std::runtime_error("from run"); }
  };
  std::mutex mu;
  Seen seen;
  ScopedHook hook(Recorder(mu, seen));
  Failing failing;
  failing.start();
  failing.join();
  std::scoped_lock guard(mu);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(MessageOf(seen.exc_value), "from run");
  ASSERT_TRUE(seen.thread.has_value());
  EXPECT_TRUE(*seen.thread == failing);
}

TEST(Excepthook, TimerFunctionThatThrowsGoesToTheHook) {
  std::mutex mu;
  Seen seen;
  ScopedHook hook(Recorder(mu, seen));
  Timer timer(1ms, [] { throw std::runtime_error("from timer"); });
  timer.start();
  timer.join();
  std::scoped_lock guard(mu);
  EXPECT_EQ(seen.calls, 1);
  EXPECT_EQ(MessageOf(seen.exc_value), "from timer");
}

TEST(Excepthook, ThreadThatEndsNormallyDoesNotCallTheHook) {
  std::mutex mu;
  Seen seen;
  ScopedHook hook(Recorder(mu, seen));
  Thread t([] {});
  t.start();
  t.join();
  std::scoped_lock guard(mu);
  EXPECT_EQ(seen.calls, 0);
}

TEST(Excepthook, SetExcepthookReturnsThePreviousHook) {
  std::mutex mu;
  Seen first_seen;
  ScopedHook first(Recorder(mu, first_seen));
  int second_calls = 0;
  ExceptHook previous =
      set_excepthook([&](const ExceptHookArgs&) { ++second_calls; });
  ASSERT_TRUE(previous);

  ExceptHookArgs args{
      .exc_value = std::make_exception_ptr(std::runtime_error("direct")),
      .exc_type = "std::runtime_error",
      .thread = main_thread()};
  concur::threading::excepthook(args);
  EXPECT_EQ(second_calls, 1);
  previous(args);
  {
    std::scoped_lock guard(mu);
    EXPECT_EQ(first_seen.calls, 1);
  }

  // Putting the previous hook back routes thread failures to it again.
  set_excepthook(std::move(previous));
  Thread t([] { throw std::runtime_error("after restore"); });
  t.start();
  t.join();
  EXPECT_EQ(second_calls, 1);
  std::scoped_lock guard(mu);
  EXPECT_EQ(first_seen.calls, 2);
  EXPECT_EQ(MessageOf(first_seen.exc_value), "after restore");
}

TEST(Excepthook, EmptyHookRestoresTheDefault) {
  int calls = 0;
  ScopedHook custom([&](const ExceptHookArgs&) { ++calls; });
  ExceptHook replaced = set_excepthook({});
  ASSERT_TRUE(replaced);
  std::string printed = StderrOfFailingThread(
      "after-reset", [] { throw std::runtime_error("default again"); });
  EXPECT_EQ(calls, 0);
  EXPECT_THAT(printed, HasSubstr("Exception in thread after-reset:"));
  EXPECT_THAT(printed, HasSubstr("default again"));
}

TEST(Excepthook, ConcurrentFailuresEachReachTheHook) {
  std::atomic<int> calls{0};
  ScopedHook hook([&](const ExceptHookArgs& args) {
    if (args.thread.has_value()) ++calls;
  });
  std::vector<Thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([] { throw std::runtime_error("many"); });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(calls, 8);
}

}  // namespace
