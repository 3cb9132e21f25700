// EventCount (concur/detail/sys/event_count.hpp): a waiter either sees the
// change or is woken by it, under both ways of notifying, with timeouts,
// and under load.

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "common/sanitized.hpp"
#include "concur/detail/sys/event_count.hpp"

namespace {

using namespace std::chrono_literals;
using concur::sys::Deadline;
using concur::sys::EventCount;

TEST(EventCount, CancelledWaitLeavesNoWaiter) {
  EventCount ec;
  EXPECT_FALSE(ec.has_waiters());
  ec.prepare_wait();
  EXPECT_TRUE(ec.has_waiters());
  ec.cancel_wait();
  EXPECT_FALSE(ec.has_waiters());
}

TEST(EventCount, WaitTimesOutWhenNothingHappens) {
  EventCount ec;
  const auto key = ec.prepare_wait();
  EXPECT_FALSE(ec.wait(key, Deadline::after(10ms)));
  EXPECT_FALSE(ec.has_waiters());
}

TEST(EventCount, AWakeBetweenPrepareAndWaitIsNotLost) {
  EventCount ec;
  const auto key = ec.prepare_wait();
  ec.notify_one();  // after the announcement, before the sleep
  EXPECT_TRUE(ec.wait(key, Deadline::never()));
}

TEST(EventCount, NotifyWithoutWaitersMovesNothing) {
  EventCount ec;
  const auto before = ec.prepare_wait();
  ec.cancel_wait();
  ec.notify_all();  // nobody announced: the epoch stays
  const auto after = ec.prepare_wait();
  ec.cancel_wait();
  EXPECT_EQ(before.epoch(), after.epoch());
  ec.wake_all();  // unconditional
  const auto moved = ec.prepare_wait();
  ec.cancel_wait();
  EXPECT_NE(moved.epoch(), after.epoch());
}

TEST(EventCount, AwaitReturnsWhenTheConditionTurnsTrue) {
  EventCount ec;
  std::atomic<bool> flag{false};
  std::atomic<long> tid{0};
  std::thread waiter([&] {
    tid = concur_test::CurrentTid();
    EXPECT_TRUE(ec.await([&] { return flag.load(); }, Deadline::never()));
  });
  while (tid == 0) std::this_thread::yield();
  concur_test::AwaitSleeping(tid);
  flag.store(true);
  ec.notify_all();
  waiter.join();
}

TEST(EventCount, AwaitTimesOutWithTheConditionFalse) {
  EventCount ec;
  EXPECT_FALSE(ec.await([] { return false; }, Deadline::after(10ms)));
  EXPECT_TRUE(ec.await([] { return true; }, Deadline::after(0s)));
}

// Producers bump a counter and notify; consumers await "counter past what I
// saw": a lost wake-up leaves a consumer asleep for good and the test hangs.
TEST(EventCount, NoWakeUpIsLostUnderLoad) {
  constexpr int kRounds = concur_test::kSanitized ? 2'000 : 20'000;
  EventCount ec;
  std::atomic<int> counter{0};
  std::atomic<int> consumed{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      for (int seen = 0; seen < kRounds;) {
        ec.await([&] { return counter.load() > seen; }, Deadline::never());
        seen = counter.load();
        consumed.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < kRounds; ++i) {
      // seq_cst change, then the fence-free look: has_waiters + wake.
      counter.fetch_add(1, std::memory_order_seq_cst);
      if (i % 2 == 0) {
        if (ec.has_waiters()) ec.wake_all();
      } else {
        ec.notify_all();
      }
    }
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.load(), kRounds);
  EXPECT_FALSE(ec.has_waiters());
}

}  // namespace
