// task_done() and join() of Queue, LifoQueue and PriorityQueue. After
// CPython's Lib/test/test_queue.py (queue_join_test, test_queue_task_done,
// test_queue_join).

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/queue.hpp"

namespace {

using concur::ValueError;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur_test::StartBlocked;

template <class Q>
class TaskTest : public ::testing::Test {};
using QueueTypes =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>>;
TYPED_TEST_SUITE(TaskTest, QueueTypes);

TYPED_TEST(TaskTest, TaskDoneWithoutAPutThrowsValueError) {
  TypeParam q;
  try {
    q.task_done();
    FAIL() << "task_done() on a fresh queue did not throw";
  } catch (const ValueError& error) {
    EXPECT_STREQ(error.what(), "task_done() called too many times");
  }
}

// Python's queue_join_test, twice on one queue: two workers sum what they
// get; join() must not return before the last task_done().
TYPED_TEST(TaskTest, JoinWaitsForEveryTaskTwice) {
  TypeParam q;
  for (int round = 0; round < 2; ++round) {
    std::atomic<int> sum{0};
    std::vector<std::thread> workers;
    workers.reserve(2);
    for (int w = 0; w < 2; ++w) {
      workers.emplace_back([&] {
        for (;;) {
          int x = q.get();
          if (x < 0) {
            q.task_done();
            return;
          }
          sum += x;
          q.task_done();
        }
      });
    }
    for (int i = 0; i < 100; ++i) q.put(i);
    q.join();
    EXPECT_EQ(sum, 99 * 100 / 2)
        << "join() returned before every task was done";
    q.put(-1);
    q.put(-1);
    q.join();  // joining twice works
    for (auto& w : workers) w.join();
  }
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), ValueError);
}

TYPED_TEST(TaskTest, JoinReturnsAtOnceWithNothingUnfinished) {
  TypeParam q;
  q.join();
  q.put(1);
  q.get();
  q.task_done();
  q.join();
}

TYPED_TEST(TaskTest, JoinBlocksUntilTheLastTaskDone) {
  TypeParam q;
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.get();
  q.get();
  std::atomic<bool> joined{false};
  auto joiner = StartBlocked([&] {
    q.join();
    joined = true;
  });
  q.task_done();
  // One task is still unfinished, so the joiner must still be waiting; it
  // was woken by nothing, as notify_all happens only at zero.
  EXPECT_FALSE(joined);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  q.task_done();
  joiner.join();
  EXPECT_TRUE(joined);
}

TYPED_TEST(TaskTest, EveryJoinerIsReleased) {
  TypeParam q;
  q.put(1);
  std::atomic<int> joined{0};
  std::vector<std::thread> joiners;
  joiners.reserve(3);
  for (int i = 0; i < 3; ++i) {
    joiners.push_back(StartBlocked([&] {
      q.join();
      ++joined;
    }));
  }
  EXPECT_EQ(joined, 0);
  q.get();
  q.task_done();
  for (auto& t : joiners) t.join();
  EXPECT_EQ(joined, 3);
}

// Visibility through join(): what a worker wrote before task_done() is
// seen by the joiner once join() returns, without other synchronisation
// (ThreadSanitizer checks the claim).
TYPED_TEST(TaskTest, JoinSeesTheWorkersWrites) {
  TypeParam q;
  std::vector<std::string> results(64);
  std::thread worker([&] {
    for (std::size_t i = 0; i < results.size(); ++i) {
      int x = q.get();
      results[static_cast<std::size_t>(x)] = std::to_string(x);
      q.task_done();
    }
  });
  for (int i = 0; i < 64; ++i) q.put(i);
  q.join();
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(results[static_cast<std::size_t>(i)], std::to_string(i));
  worker.join();
}

// Many producers and workers, and a joiner that joins in a loop while they
// run: task_done never raises, and every join returns (ThreadSanitizer
// checks that join's return sees the workers' writes).
TYPED_TEST(TaskTest, ManyWorkersAndJoinersHammer) {
  TypeParam q;
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 20000;
  constexpr int kWorkers = 4;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerProducer; ++i) q.put(i);
    });
  }
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&] {
      while (q.get() >= 0) {
        done.fetch_add(1, std::memory_order_relaxed);
        q.task_done();
      }
      q.task_done();  // for the stop item
    });
  }
  for (int j = 0; j < 100; ++j) q.join();
  for (int p = 0; p < kProducers; ++p)
    threads[static_cast<std::size_t>(p)].join();
  q.join();
  EXPECT_EQ(done.load(), kProducers * kPerProducer);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  for (int w = 0; w < kWorkers; ++w) q.put(-1);
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  q.join();
  EXPECT_THROW(q.task_done(), ValueError);
}

}  // namespace
