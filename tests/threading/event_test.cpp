// Event: Python's threading.Event, after CPython's Lib/test/lock_tests.py.

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Event;
using concur_test::AwaitSleeping;
using concur_test::CurrentTid;
using Clock = std::chrono::steady_clock;

TEST(Event, IsSetFollowsSetAndClear) {
  Event event;
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST(Event, WaitReturnsTrueAtOnceWhenSet) {
  Event event;
  event.set();
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0ms));
  EXPECT_TRUE(event.wait(1h));
}

TEST(Event, WaitTimeoutReturnsFalseWhenNotSet) {
  Event event;
  EXPECT_FALSE(event.wait(0ms));
  auto start = Clock::now();
  EXPECT_FALSE(event.wait(50ms));
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_FALSE(event.is_set());
}

TEST(Event, ConcurrentWaitsTimeOut) {
  Event event;
  std::atomic<int> timed_out{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto start = Clock::now();
      if (!event.wait(30ms) && Clock::now() - start >= 30ms) ++timed_out;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(timed_out, 4);
}

TEST(Event, NegativeTimeoutThrowsValueError) {
  Event event;
  EXPECT_THROW(static_cast<void>(event.wait(-1ms)), concur::ValueError);
  event.set();
  EXPECT_THROW(static_cast<void>(event.wait(-1ms)), concur::ValueError);
}

TEST(Event, WaitBlocksUntilSet) {
  Event event;
  std::atomic<bool> returned{false};
  bool result = false;
  std::thread waiter([&] {
    result = event.wait();
    returned = true;
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(returned);
  event.set();
  waiter.join();
  EXPECT_TRUE(result);
}

TEST(Event, SetWakesEveryWaiter) {
  // Python's _check_notify, twice: the second time after a set and clear.
  Event event;
  for (int round = 0; round < 2; ++round) {
    constexpr int kWaiters = 8;
    std::atomic<int> woken{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
      threads.emplace_back([&] {
        // Twice: the flag stays set after it woke everyone.
        if (event.wait() && event.wait()) ++woken;
      });
    }
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(woken, 0);
    event.set();
    for (auto& t : threads) t.join();
    EXPECT_EQ(woken, kWaiters);
    event.clear();
  }
}

TEST(Event, TimedWaitersAllWokenBySet) {
  Event event;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&] { woken += event.wait(30s); });
  }
  event.set();
  for (auto& t : threads) t.join();
  EXPECT_EQ(woken, 5);
}

TEST(Event, WaiterWokenBySetReturnsTrueEvenIfClearedAtOnce) {
  // Issue gh-57711 in CPython: set() immediately followed by clear() must
  // still release every thread that was waiting. Repeated, since the window
  // is narrow.
  constexpr int kRounds = 200;
  constexpr int kWaiters = 2;
  Event event;
  int failures = 0;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<int> results(kWaiters, -1);
    std::vector<long> tids(kWaiters);
    // Not a latch: the waiters must not sleep anywhere but in wait().
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kWaiters; ++i) {
      threads.emplace_back([&, i] {
        tids[i] = CurrentTid();
        ++ready;
        // Bounded so that a lost wake-up fails instead of hanging.
        results[i] = event.wait(10s);
      });
    }
    while (ready < kWaiters) std::this_thread::yield();
    for (long tid : tids) AwaitSleeping(tid);
    event.set();
    event.clear();
    for (auto& t : threads) t.join();
    for (int r : results) failures += (r != 1);
  }
  EXPECT_EQ(failures, 0);
  EXPECT_FALSE(event.is_set());
}

TEST(Event, WaiterArrivingAfterSetAndClearBlocks) {
  Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(event.wait(10ms));
}

TEST(Event, SetPublishesWritesToTheWaiter) {
  Event event;
  int shared = 0;  // deliberately not atomic: the event must order it
  std::thread waiter([&] {
    event.wait();
    EXPECT_EQ(shared, 42);
  });
  shared = 42;
  event.set();
  waiter.join();
}

}  // namespace

namespace {

// A woken waiter may destroy the Event at once, while the
// setter is still returning from set(): the setter must not touch the
// object after the step that wakes the waiter. ASan turns a violation
// into a heap-use-after-free report.
TEST(Event, WaiterMayDestroyItAsSoonAsItWakes) {
  for (int round = 0; round < 2000; ++round) {
    auto* event = new concur::threading::Event;
    std::thread setter([event] { event->set(); });
    event->wait();
    delete event;
    setter.join();
  }
}

}  // namespace
