// as_completed(), after CPython's
// Lib/test/test_concurrent_futures/test_as_completed.py.
//
// Hand-completed futures make the completion order deterministic: a
// future is completed from inside the loop, after the items before it have
// been seen.

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::TimeoutError;
using concur::ValueError;
using concur::futures::as_completed;
using concur::futures::AsCompletedOptions;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;
using concur::threading::Event;
using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

Future<int> Finished(int value) {
  Future<int> f;
  f.set_result(value);
  return f;
}

Future<int> Cancelled() {
  Future<int> f;
  f.cancel();
  return f;
}

TEST(AsCompleted, YieldsEveryFutureOnce) {
  ThreadPoolExecutor pool(4);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 50; ++i)
    futures.push_back(pool.submit([i] { return i; }));
  std::multiset<int> seen;
  for (Future<int> f : as_completed(futures)) {
    EXPECT_TRUE(f.done());
    seen.insert(f.result());
  }
  std::multiset<int> expected;
  for (int i = 0; i < 50; ++i) expected.insert(i);
  EXPECT_EQ(seen, expected);
}

TEST(AsCompleted, YieldsTheSameFutures) {
  std::vector<Future<int>> futures{Finished(1), Finished(2)};
  std::vector<Future<int>> got;
  for (Future<int> f : as_completed(futures)) got.push_back(f);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == futures[0]);
  EXPECT_TRUE(got[1] == futures[1]);
}

TEST(AsCompleted, Empty) {
  std::vector<Future<int>> none;
  int n = 0;
  for ([[maybe_unused]] Future<int> f : as_completed(none)) ++n;
  EXPECT_EQ(n, 0);
  // Even with a zero timeout: nothing is unfinished.
  for ([[maybe_unused]] Future<int> f : as_completed(none, 0ms)) ++n;
  EXPECT_EQ(n, 0);
}

TEST(AsCompleted, AlreadyDoneComeFirstThenInCompletionOrder) {
  Future<int> late1;
  Future<int> late2;
  std::vector<Future<int>> futures{late1, Finished(1), late2, Cancelled(),
                                   Finished(3)};
  std::vector<Future<int>> got;
  for (Future<int> f : as_completed(futures)) {
    got.push_back(f);
    // Once the done ones are out, complete the others in reverse order.
    if (got.size() == 3) late2.set_result(22);
    if (got.size() == 4) late1.set_result(11);
  }
  ASSERT_EQ(got.size(), 5u);
  EXPECT_TRUE(got[0] == futures[1]);
  EXPECT_TRUE(got[1] == futures[3]);
  EXPECT_TRUE(got[2] == futures[4]);
  EXPECT_TRUE(got[3] == late2);
  EXPECT_TRUE(got[4] == late1);
}

TEST(AsCompleted, DuplicatesAreYieldedOnce) {
  // Python's test_duplicate_futures.
  Future<int> pending;
  Future<int> done = Finished(1);
  std::vector<Future<int>> futures{done, pending, done, pending, done};
  int n = 0;
  for (Future<int> f : as_completed(futures)) {
    ++n;
    if (f == done) pending.set_result(2);
  }
  EXPECT_EQ(n, 2);
}

TEST(AsCompleted, DuplicatesFromAPool) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([] { return 1; });
  std::vector<Future<int>> futures(5, f);
  int n = 0;
  for ([[maybe_unused]] Future<int> g : as_completed(futures)) ++n;
  EXPECT_EQ(n, 1);
}

TEST(AsCompleted, CancelWhileIteratingCountsAsCompletion) {
  Future<int> a;
  Future<int> b;
  std::vector<Future<int>> futures{a, b};
  std::thread canceller([&] {
    a.cancel();
    b.set_result(1);
  });
  int n = 0;
  for (Future<int> f : as_completed(futures)) {
    EXPECT_TRUE(f.done());
    ++n;
  }
  canceller.join();
  EXPECT_EQ(n, 2);
}

TEST(AsCompleted, TimeoutAfterTheDoneOnes) {
  // Python's test_future_times_out and test_correct_timeout_exception_msg:
  // the done ones come out, then TimeoutError counting the unfinished ones
  // among the distinct futures.
  Future<int> pending1;
  Future<int> pending2;
  std::vector<Future<int>> futures{Finished(1), pending1, Cancelled(), pending2,
                                   pending1};
  std::vector<Future<int>> got;
  auto start = Clock::now();
  try {
    for (Future<int> f : as_completed(futures, 30ms)) got.push_back(f);
    FAIL() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    EXPECT_STREQ(e.what(), "2 (of 4) futures unfinished");
  }
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_EQ(got.size(), 2u);
}

TEST(AsCompleted, ZeroTimeoutWithEverythingDone) {
  std::vector<Future<int>> futures{Finished(1), Finished(2), Cancelled()};
  int n = 0;
  for ([[maybe_unused]] Future<int> f : as_completed(futures, 0ms)) ++n;
  EXPECT_EQ(n, 3);
}

TEST(AsCompleted, ZeroTimeoutWithNothingDone) {
  Future<int> pending;
  std::vector<Future<int>> futures{pending};
  try {
    for ([[maybe_unused]] Future<int> f : as_completed(futures, 0ms)) {
      ADD_FAILURE() << "nothing is done";
    }
    FAIL() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    EXPECT_STREQ(e.what(), "1 (of 1) futures unfinished");
  }
}

TEST(AsCompleted, TimeoutIsForTheWholeIteration) {
  // A future completed after the call is yielded; then the iteration runs
  // out of the time counted from the call.
  ThreadPoolExecutor pool(1);
  Event release;
  Future<int> quick;
  auto slow = pool.submit([&] {
    release.wait();
    return 2;
  });
  std::vector<Future<int>> futures{quick, slow};
  auto start = Clock::now();
  auto iteration = as_completed(futures, AsCompletedOptions{50ms});
  quick.set_result(1);
  int n = 0;
  try {
    for (Future<int> f : iteration) {
      EXPECT_TRUE(f == quick);
      ++n;
    }
    FAIL() << "expected TimeoutError";
  } catch (const TimeoutError& e) {
    EXPECT_STREQ(e.what(), "1 (of 2) futures unfinished");
  }
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_EQ(n, 1);
  release.set();
  EXPECT_EQ(slow.result(), 2);
}

TEST(AsCompleted, NegativeTimeoutIsValueError) {
  std::vector<Future<int>> futures{Finished(1)};
  EXPECT_THROW(as_completed(futures, -1ms), ValueError);
}

TEST(AsCompleted, CompletionPublishesTheTasksWrites) {
  ThreadPoolExecutor pool(2);
  std::vector<std::string> slots(8);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 8; ++i) {
    futures.push_back(pool.submit([&slots, i] {
      slots[static_cast<std::size_t>(i)] = std::string(64, 'a' + i);
      return i;
    }));
  }
  for (Future<int> f : as_completed(futures)) {
    int i = f.result();
    EXPECT_EQ(slots[static_cast<std::size_t>(i)], std::string(64, 'a' + i));
  }
}

TEST(AsCompleted, StoppedEarlyThenFuturesComplete) {
  // An iteration dropped while futures are pending unregisters from them:
  // completing them afterwards touches nothing that is gone (ASan checks).
  std::vector<Future<int>> futures(10);
  futures[0].set_result(0);
  {
    auto iteration = as_completed(futures);
    auto it = iteration.begin();
    EXPECT_TRUE(*it == futures[0]);
  }
  for (std::size_t i = 1; i < futures.size(); ++i) {
    futures[i].set_result(static_cast<int>(i));
  }
}

TEST(AsCompleted, MovedIterationStillWorks) {
  Future<int> pending;
  std::vector<Future<int>> futures{Finished(1), pending};
  auto first = as_completed(futures);
  auto second = std::move(first);
  int n = 0;
  for ([[maybe_unused]] Future<int> f : second) {
    if (++n == 1) pending.set_result(2);
  }
  EXPECT_EQ(n, 2);
}

TEST(AsCompleted, ProgressIsSilentWhenStderrIsNotATerminal) {
  ThreadPoolExecutor pool(2);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 10; ++i)
    futures.push_back(pool.submit([i] { return i; }));
  testing::internal::CaptureStderr();
  int n = 0;
  for ([[maybe_unused]] Future<int> f :
       as_completed(futures, AsCompletedOptions{std::nullopt, true})) {
    ++n;
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  EXPECT_EQ(n, 10);
}

TEST(AsCompleted, VoidFutures) {
  ThreadPoolExecutor pool(2);
  std::atomic<int> ran{0};
  std::vector<Future<void>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back(pool.submit([&] { ++ran; }));
  int n = 0;
  for (Future<void> f : as_completed(futures)) {
    f.result();
    ++n;
  }
  EXPECT_EQ(n, 10);
  EXPECT_EQ(ran.load(), 10);
}

}  // namespace
