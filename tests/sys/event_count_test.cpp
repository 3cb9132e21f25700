// EventCount (concur/detail/sys/event_count.hpp): a waiter either sees the
// change or is woken by it, under both ways of notifying, with timeouts,
// and under load.

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <new>
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

TEST(EventCount, WakeOneCoalescesUntilAWaiterLeaves) {
  EventCount ec;
  const auto first = ec.prepare_wait();
  ec.wake_one();  // moves the epoch; the wake-up is now pending
  const auto second = ec.prepare_wait();
  EXPECT_NE(second.epoch(), first.epoch());
  ec.wake_one();     // pending: nothing moves
  ec.cancel_wait();  // a waiter leaves and takes the wake-up
  const auto third = ec.prepare_wait();
  EXPECT_EQ(third.epoch(), second.epoch());
  ec.wake_one();  // nothing pending: moves again
  EXPECT_TRUE(ec.wait(third, Deadline::never()));
  EXPECT_TRUE(ec.wait(second, Deadline::never()));
  EXPECT_FALSE(ec.has_waiters());
}

TEST(EventCount, WakeOneWithoutWaitersLeavesNothingPending) {
  EventCount ec;
  ec.wake_one();  // nobody to wake: the epoch moves, nothing is pending
  const auto key = ec.prepare_wait();
  ec.wake_one();
  EXPECT_TRUE(ec.wait(key, Deadline::after(0s)));
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

// wake_one as a pool uses it: producers queue items and call wake_one,
// which coalesces while a wake-up is pending; consumers that leave a wait
// look at the queue again before they sleep. A wake-up lost to the
// coalescing leaves items unconsumed and the test hangs.
TEST(EventCount, CoalescedWakeOneLosesNoWorkUnderLoad) {
  constexpr int kItems = concur_test::kSanitized ? 4'000 : 40'000;
  constexpr int kProducers = 2;
  EventCount ec;
  std::atomic<int> queued{0};
  std::atomic<int> taken{0};
  auto take = [&] {
    int t = taken.load();
    while (t < queued.load()) {
      if (taken.compare_exchange_weak(t, t + 1)) return true;
    }
    return false;
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < 3; ++c) {
    threads.emplace_back([&] {
      while (taken.load() < kItems) {
        if (take()) continue;
        const auto key = ec.prepare_wait();
        if (queued.load() > taken.load() || taken.load() >= kItems) {
          ec.cancel_wait();
        } else {
          ec.wait(key, Deadline::never());
        }
      }
      ec.wake_all();  // the last items' consumers release the others
    });
  }
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kItems / kProducers; ++i) {
        queued.fetch_add(1, std::memory_order_seq_cst);
        if (ec.has_waiters()) ec.wake_one();
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), kItems);
}

// The shared form across processes: a child awaits a flag in a shared
// mapping that the parent sets, and is woken by notify_all.
TEST(EventCount, SharedFormWakesAnotherProcess) {
  using SharedEventCount =
      concur::sys::BasicEventCount<concur::sys::FutexScope::kShared>;
  struct Shared {
    SharedEventCount ec;
    std::atomic<int> flag{0};
    std::atomic<long> child_tid{0};
  };
  void* page = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  auto* shared = ::new (page) Shared;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    shared->child_tid.store(concur_test::CurrentTid());
    // Exit 2 if the wait timed out: a private futex would time out here.
    const bool woken = shared->ec.await(
        [&] { return shared->flag.load() == 1; }, Deadline::after(20s));
    ::_exit(woken ? 0 : 2);
  }
  while (shared->child_tid.load() == 0) std::this_thread::yield();
  while (!concur_test::IsProcessSleeping(child)) std::this_thread::yield();
  shared->flag.store(1);
  shared->ec.notify_all();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::munmap(page, sizeof(Shared));
}

}  // namespace
