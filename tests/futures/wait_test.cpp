// futures::wait(), after CPython's
// Lib/test/test_concurrent_futures/test_wait.py.
//
// Futures are completed by hand, from a helper thread where the call must
// block, so each case reaches exactly the state it names.

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur_test::AwaitSleeping;
using concur_test::CurrentTid;
namespace cf = concur::futures;
using cf::ALL_COMPLETED;
using cf::FIRST_COMPLETED;
using cf::FIRST_EXCEPTION;
using cf::Future;
using cf::ThreadPoolExecutor;
using concur::ValueError;
using concur::threading::Event;
using Clock = std::chrono::steady_clock;

Future<int> Finished(int value) {
  Future<int> f;
  f.set_result(value);
  return f;
}
Future<int> Failed() {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(std::runtime_error("failed")));
  return f;
}
Future<int> Cancelled() {
  Future<int> f;
  f.cancel();
  return f;
}

// Whether `list` holds exactly `expected`, in that order.
::testing::AssertionResult Same(const std::vector<Future<int>>& list,
                                const std::vector<Future<int>>& expected) {
  if (list.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << list.size() << " futures, expected " << expected.size();
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!(list[i] == expected[i])) {
      return ::testing::AssertionFailure() << "future " << i << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// The safety net for calls that block: wait() with a timeout far beyond
// what the test needs, so that a wait that misses a completion fails the
// test instead of hanging it. A wait that lasts until the safety net was
// not woken by the completion it waited for.
constexpr auto kSafetyNet = 10s;

template <class T>
cf::DoneAndNotDone<T> WaitBounded(const std::vector<Future<T>>& fs,
                                  cf::ReturnWhen when) {
  auto start = Clock::now();
  auto r = cf::wait(fs, kSafetyNet, when);
  EXPECT_LT(Clock::now() - start, kSafetyNet)
      << "wait() slept through the completion it was waiting for";
  return r;
}

TEST(Wait, AllCompletedWithEverythingDone) {
  std::vector<Future<int>> fs{Finished(1), Failed(), Cancelled()};
  auto r = cf::wait(fs);
  EXPECT_TRUE(Same(r.done, fs));
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, AllCompletedBlocksUntilAll) {
  Future<int> a;
  Future<int> b;
  Future<int> c;
  std::thread completer([=]() mutable {
    b.set_result(2);
    c.cancel();
    a.set_exception(std::make_exception_ptr(std::runtime_error("x")));
  });
  auto r = WaitBounded(std::vector<Future<int>>{a, b, c}, ALL_COMPLETED);
  EXPECT_TRUE(Same(r.done, {a, b, c}));
  EXPECT_TRUE(r.not_done.empty());
  completer.join();
}

TEST(Wait, WithoutTimeoutBlocksUntilDone) {
  // The no-timeout form, made race-free: the future is completed only once
  // the waiting thread sleeps in the kernel, i.e. inside wait() proper.
  Future<int> a;
  Future<int> b = Finished(1);
  const long waiter = CurrentTid();
  std::thread completer([a, waiter]() mutable {
    AwaitSleeping(waiter);
    a.set_result(2);
  });
  auto r = cf::wait(std::vector<Future<int>>{a, b});
  completer.join();
  EXPECT_TRUE(Same(r.done, {a, b}));
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, AllCompletedFromAPool) {
  // Python's test_all_completed.
  ThreadPoolExecutor pool(2);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit([i] { return i; }));
  fs.push_back(pool.submit([]() -> int { throw std::runtime_error("x"); }));
  auto r = WaitBounded(fs, ALL_COMPLETED);
  EXPECT_EQ(r.done.size(), 21u);
  EXPECT_TRUE(r.not_done.empty());
  for (auto& f : fs) EXPECT_TRUE(f.done());
}

TEST(Wait, FirstCompletedReturnsWithTheFirst) {
  Future<int> a;
  Future<int> b;
  std::thread completer([b]() mutable { b.set_result(2); });
  auto r = WaitBounded(std::vector<Future<int>>{a, b}, FIRST_COMPLETED);
  completer.join();
  EXPECT_TRUE(Same(r.done, {b}));
  EXPECT_TRUE(Same(r.not_done, {a}));
}

TEST(Wait, FirstCompletedWithSomeAlreadyDone) {
  // Python's test_first_completed_some_already_completed: returns at once.
  Future<int> pending;
  Future<int> done = Finished(1);
  Future<int> cancelled = Cancelled();
  auto r = cf::wait(std::vector<Future<int>>{pending, done, cancelled},
                    std::nullopt, FIRST_COMPLETED);
  EXPECT_TRUE(Same(r.done, {done, cancelled}));
  EXPECT_TRUE(Same(r.not_done, {pending}));
}

TEST(Wait, FirstCompletedCountsACancel) {
  Future<int> a;
  Future<int> b;
  std::thread canceller([a]() mutable { a.cancel(); });
  auto r = WaitBounded(std::vector<Future<int>>{a, b}, FIRST_COMPLETED);
  canceller.join();
  EXPECT_TRUE(Same(r.done, {a}));
  EXPECT_TRUE(Same(r.not_done, {b}));
}

TEST(Wait, FirstCompletedFromAPool) {
  // Python's test_first_completed: a quick task and one that cannot end
  // until the test lets it.
  ThreadPoolExecutor pool(2);
  Event release;
  auto quick = pool.submit([] { return 42; });
  auto slow = pool.submit([&] {
    release.wait();
    return 0;
  });
  auto r = WaitBounded(std::vector<Future<int>>{slow, quick}, FIRST_COMPLETED);
  EXPECT_TRUE(Same(r.done, {quick}));
  EXPECT_TRUE(Same(r.not_done, {slow}));
  release.set();
  slow.result();  // the task uses `release`: let it finish first
}

TEST(Wait, FirstExceptionReturnsWithTheFailure) {
  Future<int> ok = Finished(1);
  Future<int> pending;
  Future<int> failing;
  std::thread completer([failing]() mutable {
    failing.set_exception(std::make_exception_ptr(std::runtime_error("x")));
  });
  auto r = WaitBounded(std::vector<Future<int>>{ok, pending, failing},
                       FIRST_EXCEPTION);
  completer.join();
  EXPECT_TRUE(Same(r.done, {ok, failing}));
  EXPECT_TRUE(Same(r.not_done, {pending}));
}

TEST(Wait, FirstExceptionWithOneAlreadyFailed) {
  // Python's test_first_exception_one_already_failed: returns at once.
  Future<int> pending;
  Future<int> failed = Failed();
  auto r = cf::wait(std::vector<Future<int>>{pending, failed}, std::nullopt,
                    FIRST_EXCEPTION);
  EXPECT_TRUE(Same(r.done, {failed}));
  EXPECT_TRUE(Same(r.not_done, {pending}));
}

TEST(Wait, FirstExceptionWithoutExceptionIsAllCompleted) {
  Future<int> a;
  Future<int> b;
  std::thread completer([=]() mutable {
    a.set_result(1);
    b.set_result(2);
  });
  auto r = WaitBounded(std::vector<Future<int>>{a, b}, FIRST_EXCEPTION);
  completer.join();
  EXPECT_TRUE(Same(r.done, {a, b}));
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, FirstExceptionIgnoresResultsAndCancels) {
  // A result or a cancel is not an exception: with one future left
  // pending, the call waits for its whole timeout.
  Future<int> pending;
  Future<int> ok;
  Future<int> cancelled;
  std::thread completer([=]() mutable {
    ok.set_result(1);
    cancelled.cancel();
  });
  auto start = Clock::now();
  auto r = cf::wait(std::vector<Future<int>>{pending, ok, cancelled}, 50ms,
                    FIRST_EXCEPTION);
  EXPECT_GE(Clock::now() - start, 50ms);
  completer.join();
  EXPECT_TRUE(Same(r.done, {ok, cancelled}));
  EXPECT_TRUE(Same(r.not_done, {pending}));
}

TEST(Wait, FirstExceptionFromAPool) {
  // Python's test_first_exception: the failing task ends the wait while
  // another task is still held.
  ThreadPoolExecutor pool(2);
  Event release;
  auto fails = pool.submit([]() -> int { throw std::runtime_error("x"); });
  auto held = pool.submit([&] {
    release.wait();
    return 0;
  });
  auto r = WaitBounded(std::vector<Future<int>>{held, fails}, FIRST_EXCEPTION);
  EXPECT_TRUE(Same(r.done, {fails}));
  EXPECT_TRUE(Same(r.not_done, {held}));
  release.set();
  held.result();  // the task uses `release`: let it finish first
}

TEST(Wait, Timeout) {
  // Python's test_timeout: the done ones and the pending ones, after the
  // timeout.
  Future<int> done = Finished(1);
  Future<int> failed = Failed();
  Future<int> pending;
  auto start = Clock::now();
  auto r = cf::wait(std::vector<Future<int>>{done, failed, pending}, 30ms,
                    ALL_COMPLETED);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_TRUE(Same(r.done, {done, failed}));
  EXPECT_TRUE(Same(r.not_done, {pending}));
}

TEST(Wait, ZeroTimeoutPolls) {
  Future<int> pending;
  Future<int> done = Finished(1);
  for (auto when : {ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION}) {
    auto r = cf::wait(std::vector<Future<int>>{pending, done}, 0ms, when);
    EXPECT_TRUE(Same(r.done, {done}));
    EXPECT_TRUE(Same(r.not_done, {pending}));
  }
}

TEST(Wait, TimeoutWithFirstCompleted) {
  Future<int> a;
  Future<int> b;
  auto start = Clock::now();
  auto r = cf::wait(std::vector<Future<int>>{a, b}, 30ms, FIRST_COMPLETED);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_TRUE(r.done.empty());
  EXPECT_TRUE(Same(r.not_done, {a, b}));
}

TEST(Wait, NegativeTimeoutIsValueError) {
  std::vector<Future<int>> fs{Finished(1)};
  EXPECT_THROW(static_cast<void>(cf::wait(fs, -1ms)), ValueError);
}

TEST(Wait, DuplicatesAppearOnce) {
  // Python's test_20369: wait() on duplicates returns each future once.
  Future<int> done = Finished(1);
  Future<int> pending;
  auto r =
      cf::wait(std::vector<Future<int>>{done, pending, done, pending}, 0ms);
  EXPECT_TRUE(Same(r.done, {done}));
  EXPECT_TRUE(Same(r.not_done, {pending}));

  ThreadPoolExecutor pool(1);
  auto f = pool.submit([] { return 1; });
  auto all = WaitBounded(std::vector<Future<int>>{f, f, f}, ALL_COMPLETED);
  EXPECT_TRUE(Same(all.done, {f}));
  EXPECT_TRUE(all.not_done.empty());
}

TEST(Wait, DuplicatesCountOnceForAllCompleted) {
  // A duplicate must not be counted twice toward "all done": with one of
  // two distinct futures done, ALL_COMPLETED still waits.
  Future<int> done = Finished(1);
  Future<int> pending;
  std::thread completer([pending]() mutable { pending.set_result(2); });
  auto r = WaitBounded(std::vector<Future<int>>{pending, done, pending, done},
                       ALL_COMPLETED);
  completer.join();
  EXPECT_TRUE(Same(r.done, {pending, done}));
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, Empty) {
  std::vector<Future<int>> none;
  auto r = cf::wait(none);
  EXPECT_TRUE(r.done.empty());
  EXPECT_TRUE(r.not_done.empty());
}

TEST(Wait, PublishesTheTasksWrites) {
  ThreadPoolExecutor pool(2);
  std::vector<std::string> slots(8);
  std::vector<Future<void>> fs;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    fs.push_back(pool.submit([&slots, i] { slots[i] = std::string(32, 'z'); }));
  }
  auto r = WaitBounded(fs, ALL_COMPLETED);
  EXPECT_EQ(r.done.size(), 8u);
  for (const auto& s : slots) EXPECT_EQ(s, std::string(32, 'z'));
}

TEST(Wait, ManyWaitersOnOneFuture) {
  Future<int> f;
  std::vector<std::thread> waiters;
  std::atomic<int> woke{0};
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&woke, f] {
      auto r = WaitBounded(std::vector<Future<int>>{f}, FIRST_COMPLETED);
      if (r.done.size() == 1) ++woke;
    });
  }
  f.set_result(1);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(woke.load(), 4);
}

}  // namespace
