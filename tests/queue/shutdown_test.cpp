// shutdown() of Queue, LifoQueue and PriorityQueue, with Python 3.13's
// semantics. After CPython's Lib/test/test_queue.py (every test_shutdown_*),
// plus checks that blocked callers were really blocked when it happened.

#include <atomic>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::queue::Empty;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur::queue::ShutDown;
using concur_test::StartBlocked;

template <class Q>
class ShutdownTest : public ::testing::Test {};
using QueueTypes =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>>;
TYPED_TEST_SUITE(ShutdownTest, QueueTypes);

TYPED_TEST(ShutdownTest, EmptyQueueRefusesPutAndGet) {
  TypeParam q;
  q.shutdown();
  EXPECT_THROW(q.put(1), ShutDown);
  EXPECT_THROW(q.get(), ShutDown);
  // ShutDown, not Empty, from every form of get.
  EXPECT_THROW(q.get_nowait(), ShutDown);
  EXPECT_THROW(q.get(1h), ShutDown);
  EXPECT_THROW(static_cast<void>(q.try_get()), ShutDown);
}

TYPED_TEST(ShutdownTest, RefusedPutsAreNotUnfinishedTasks) {
  TypeParam q;
  q.put(1);
  q.shutdown();
  EXPECT_THROW(q.put(2), ShutDown);
  EXPECT_THROW(q.put_nowait(3), ShutDown);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), ValueError);
  q.join();
}

TYPED_TEST(ShutdownTest, ImmediateNeverTakesTheCountBelowZero) {
  // task_done may be called for items still queued (Python allows it);
  // dropping those items then leaves the count at zero, not below.
  TypeParam q;
  q.put(1);
  q.put(2);
  q.task_done();
  q.task_done();
  q.shutdown(true);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.task_done(), ValueError);
  q.join();
}

TYPED_TEST(ShutdownTest, GetDrainsWhatIsLeftThenThrows) {
  TypeParam q;
  q.put(1);
  q.put(2);
  q.shutdown();
  EXPECT_EQ(q.qsize(), 2u);
  int sum = q.get();
  sum += q.get_nowait();
  EXPECT_EQ(sum, 3);
  EXPECT_THROW(q.get(), ShutDown);
}

TYPED_TEST(ShutdownTest, ImmediateDropsTheItems) {
  TypeParam q;
  q.put(1);
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.get(), ShutDown);
}

TYPED_TEST(ShutdownTest, AllowedTransitions) {
  TypeParam q;
  EXPECT_FALSE(q.is_shutdown());
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(true);
  EXPECT_TRUE(q.is_shutdown());
  q.shutdown(false);
  EXPECT_TRUE(q.is_shutdown());
}

// Python's _shutdown_all_methods_in_one_thread.
TYPED_TEST(ShutdownTest, AllMethodsInOneThread) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(1);
    q.put_nowait(2);
    q.shutdown(immediate);
    EXPECT_THROW(q.put(3), ShutDown);
    EXPECT_THROW(q.put_nowait(4), ShutDown);
    EXPECT_THROW(q.put(5, 1h), ShutDown);
    if (immediate) {
      EXPECT_THROW(q.get(), ShutDown);
      EXPECT_THROW(q.get_nowait(), ShutDown);
      EXPECT_THROW(q.task_done(), ValueError);
      q.join();
    } else {
      int sum = q.get();
      q.task_done();
      sum += q.get();
      q.task_done();
      EXPECT_EQ(sum, 3);
      q.join();
      EXPECT_THROW(q.get(), ShutDown);
      EXPECT_THROW(q.get_nowait(), ShutDown);
      EXPECT_THROW(q.get(1s), ShutDown);
    }
  }
}

// Python's _shutdown_get: a full queue, more getters than items, released
// together after the shutdown.
TYPED_TEST(ShutdownTest, GettersAfterShutdownDrainThenFail) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(1);
    q.put(2);
    const int getters = immediate ? 2 : 3;
    std::latch go(1);
    std::atomic<int> got{0};
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(getters));
    for (int i = 0; i < getters; ++i) {
      threads.emplace_back([&] {
        go.wait();
        try {
          q.get();
          ++got;
        } catch (const ShutDown&) {
          ++refused;
        }
      });
    }
    q.shutdown(immediate);
    go.count_down();
    for (auto& t : threads) t.join();
    EXPECT_EQ(got, immediate ? 0 : 2);
    EXPECT_EQ(refused, immediate ? 2 : 1);
  }
}

TYPED_TEST(ShutdownTest, BlockedGettersWakeWithShutDown) {
  for (bool immediate : {false, true}) {
    TypeParam q;
    std::atomic<int> refused{0};
    auto refuse = [&](auto get) {
      return [&, get] {
        try {
          get();
        } catch (const ShutDown&) {
          ++refused;
        }
      };
    };
    std::vector<std::thread> threads;
    threads.push_back(StartBlocked(refuse([&] { q.get(); })));
    threads.push_back(StartBlocked(refuse([&] { q.get(1h); })));
    threads.push_back(
        StartBlocked(refuse([&] { static_cast<void>(q.try_get(1h)); })));
    EXPECT_EQ(refused, 0);
    q.shutdown(immediate);
    for (auto& t : threads) t.join();
    EXPECT_EQ(refused, 3);
  }
}

// Python's _shutdown_put: putters blocked on a full queue all get ShutDown,
// even though shutdown(immediate) makes room.
TYPED_TEST(ShutdownTest, BlockedPuttersWakeWithShutDown) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(1);
    q.put(2);
    std::atomic<int> refused{0};
    std::vector<std::thread> threads;
    threads.reserve(2);
    for (int i = 0; i < 2; ++i) {
      threads.push_back(StartBlocked([&, i] {
        try {
          if (i == 0) {
            q.put(3);
          } else {
            q.put(4, 1h);
          }
        } catch (const ShutDown&) {
          ++refused;
        }
      }));
    }
    EXPECT_EQ(refused, 0);
    q.shutdown(immediate);
    for (auto& t : threads) t.join();
    EXPECT_EQ(refused, 2);
    EXPECT_EQ(q.qsize(), immediate ? 0u : 2u);
  }
}

// Python's _shutdown_join: immediate releases joiners by counting the
// dropped items as done; otherwise a consumer's task_done does.
TYPED_TEST(ShutdownTest, BlockedJoinersAreReleased) {
  for (bool immediate : {false, true}) {
    TypeParam q;
    q.put(1);
    std::atomic<int> joined{0};
    std::vector<std::thread> joiners;
    joiners.reserve(2);
    for (int i = 0; i < 2; ++i) {
      joiners.push_back(StartBlocked([&] {
        q.join();
        ++joined;
      }));
    }
    EXPECT_EQ(joined, 0);
    q.shutdown(immediate);
    if (!immediate) {
      EXPECT_EQ(q.get(), 1);
      q.task_done();
    }
    for (auto& t : joiners) t.join();
    EXPECT_EQ(joined, 2);
    EXPECT_EQ(q.unfinished_tasks(), 0u);
  }
}

// Python's _shutdown_put_join.
TYPED_TEST(ShutdownTest, PutRefusedAndJoinReleased) {
  for (bool immediate : {false, true}) {
    TypeParam q(2);
    q.put(1);
    EXPECT_EQ(q.unfinished_tasks(), 1u);
    std::latch go(1);
    std::atomic<bool> refused{false};
    std::thread putter([&] {
      go.wait();
      try {
        q.put(2);
      } catch (const ShutDown&) {
        refused = true;
      }
    });
    std::atomic<bool> joined{false};
    auto joiner = StartBlocked([&] {
      q.join();
      joined = true;
    });
    q.shutdown(immediate);
    go.count_down();
    if (immediate) {
      EXPECT_THROW(q.get_nowait(), ShutDown);
    } else {
      EXPECT_EQ(q.get(), 1);
      q.task_done();
    }
    putter.join();
    joiner.join();
    EXPECT_TRUE(refused);
    EXPECT_TRUE(joined);
  }
}

// Python's test_shutdown_get_task_done_join.
TYPED_TEST(ShutdownTest, GetTaskDoneAndJoinAfterShutdown) {
  TypeParam q(2);
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.unfinished_tasks(), q.qsize());
  std::latch go(1);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      go.wait();
      q.get();
      q.task_done();
      ++ok;
    });
    threads.emplace_back([&] {
      q.join();
      ++ok;
    });
  }
  go.count_down();
  q.shutdown(false);
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 4);
}

// Items taken before an immediate shutdown still count until task_done.
TYPED_TEST(ShutdownTest, ImmediateKeepsTasksAlreadyTaken) {
  TypeParam q;
  q.put(1);
  q.put(2);
  q.put(3);
  q.get();
  q.shutdown(true);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  std::atomic<bool> joined{false};
  auto joiner = StartBlocked([&] {
    q.join();
    joined = true;
  });
  EXPECT_FALSE(joined);
  q.task_done();
  joiner.join();
  EXPECT_TRUE(joined);
  EXPECT_THROW(q.task_done(), ValueError);
}

// Python's _shutdown_all_methods_in_many_threads, smaller: writers put
// until refused, readers poll with get_nowait until refused, joiners wait;
// one writer shuts the queue down part-way.
TYPED_TEST(ShutdownTest, AllMethodsInManyThreads) {
  constexpr int kWriters = 4;
  constexpr int kReaders = 4;
  constexpr int kPerWriter = 2000;
  for (bool immediate : {false, true}) {
    TypeParam q;
    std::atomic<bool> shut{false};
    std::atomic<int> refused_puts{0};
    std::atomic<int> refused_gets{0};
    std::latch start(kWriters + kReaders + (immediate ? 2 : 0));
    std::vector<std::thread> threads;
    threads.reserve(kWriters + kReaders + 2);
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; i < kPerWriter / 4; ++i) q.put(i);
        start.arrive_and_wait();
        for (int i = kPerWriter / 4; i < kPerWriter; ++i) {
          try {
            q.put(i);
          } catch (const ShutDown&) {
            ++refused_puts;
            return;
          }
          if (w == 0 && i == kPerWriter / 2 && !shut.exchange(true)) {
            q.shutdown(immediate);
          }
        }
      });
    }
    for (int r = 0; r < kReaders; ++r) {
      threads.emplace_back([&] {
        q.get();
        q.task_done();
        start.arrive_and_wait();
        for (;;) {
          try {
            q.get_nowait();
            q.task_done();
          } catch (const ShutDown&) {
            ++refused_gets;
            return;
          } catch (const Empty&) {
            std::this_thread::yield();
          }
        }
      });
    }
    if (immediate) {
      for (int j = 0; j < 2; ++j) {
        threads.emplace_back([&] {
          start.arrive_and_wait();
          q.join();
        });
      }
    }
    for (auto& t : threads) t.join();
    EXPECT_TRUE(shut);
    EXPECT_GE(refused_puts, 1);
    EXPECT_EQ(refused_gets, kReaders);
    EXPECT_TRUE(q.empty());
    q.join();
  }
}

// Python's guarantee, which its lock gives for free: once shutdown(true) is
// seen to have happened (is_shutdown()), no get returns an item, not even
// a get that a put or the shutdown itself had just woken. Every item put is
// either got or dropped, and the task count ends at zero.
TYPED_TEST(ShutdownTest, NoGetReturnsAnItemOnceImmediateShutdownIsSeen) {
  constexpr int kRounds = 20;
  constexpr int kGetters = 3;
  for (int round = 0; round < kRounds; ++round) {
    TypeParam q;
    std::atomic<int> put{0};
    std::atomic<int> got{0};
    std::atomic<int> late{0};
    std::latch ready(kGetters + 2);
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      ready.arrive_and_wait();
      try {
        for (int i = 0;; ++i) {
          q.put(i);
          put.fetch_add(1);
        }
      } catch (const ShutDown&) {
      }
    });
    for (int g = 0; g < kGetters; ++g) {
      threads.emplace_back([&] {
        ready.arrive_and_wait();
        for (;;) {
          const bool seen_shut = q.is_shutdown();
          try {
            static_cast<void>(q.get());
          } catch (const ShutDown&) {
            return;
          }
          if (seen_shut) late.fetch_add(1);
          got.fetch_add(1);
          q.task_done();
        }
      });
    }
    ready.arrive_and_wait();
    while (put.load() < 100) std::this_thread::yield();
    q.shutdown(true);
    for (auto& t : threads) t.join();
    EXPECT_EQ(late.load(), 0) << "round " << round;
    EXPECT_LE(got.load(), put.load());
    EXPECT_EQ(q.unfinished_tasks(), 0u);
    EXPECT_THROW(q.get_nowait(), ShutDown);
    q.join();
  }
}

// The dropped items are destroyed after the queue's lock is released, so an
// item's destructor may call into the queue.
TEST(Shutdown, DroppedItemsAreDestroyedOutsideTheLock) {
  using Item = std::shared_ptr<int>;
  auto probe = std::make_shared<int>(1);
  std::size_t size_seen_by_destructor = 99;
  {
    Queue<std::shared_ptr<void>> q;
    // The deleter runs when the last copy of the item is destroyed.
    Item item(new int(2), [&](int* p) {
      size_seen_by_destructor = q.qsize();
      delete p;
    });
    q.put(std::move(item));
    q.put(probe);
    q.shutdown(true);
    EXPECT_EQ(size_seen_by_destructor, 0u);
  }
  EXPECT_EQ(probe.use_count(), 1);
}

}  // namespace
