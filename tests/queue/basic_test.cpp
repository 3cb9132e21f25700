// Queue, LifoQueue and PriorityQueue on one thread: order, size, the
// non-blocking and timed forms, errors. After CPython's Lib/test/test_queue.py
// (basic_queue_test, test_nowait, test_negative_timeout_raises_exception),
// run for each of the three classes as Python's mixins do.

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::queue::Empty;
using concur::queue::Full;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using Clock = std::chrono::steady_clock;

constexpr int kQueueSize = 5;

// The same queue class for another item type.
template <class Q, class U>
struct Rebind;
template <class T, class U>
struct Rebind<Queue<T>, U> {
  using type = Queue<U>;
};
template <class T, class U>
struct Rebind<LifoQueue<T>, U> {
  using type = LifoQueue<U>;
};
template <class T, class U>
struct Rebind<PriorityQueue<T>, U> {
  using type = PriorityQueue<U>;
};

// The order in which each class returns 111, 333, 222 (Python's
// target_order).
template <class Q>
std::vector<int> ExpectedOrder();
template <>
std::vector<int> ExpectedOrder<Queue<int>>() {
  return {111, 333, 222};
}
template <>
std::vector<int> ExpectedOrder<LifoQueue<int>>() {
  return {222, 333, 111};
}
template <>
std::vector<int> ExpectedOrder<PriorityQueue<int>>() {
  return {111, 222, 333};
}

template <class Q>
class BasicTest : public ::testing::Test {};
using QueueTypes =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>>;
TYPED_TEST_SUITE(BasicTest, QueueTypes);

// Python's basic_queue_test without the blocking parts (blocking_test.cpp
// has those), run twice on one queue as Python does.
TYPED_TEST(BasicTest, BasicQueueTwice) {
  TypeParam q(kQueueSize);
  for (int round = 0; round < 2; ++round) {
    ASSERT_EQ(q.qsize(), 0u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    q.put(111);
    q.put(333);
    q.put(222);
    std::vector<int> order{q.get(), q.get(), q.get()};
    EXPECT_EQ(order, ExpectedOrder<TypeParam>());
    for (int i = 0; i < kQueueSize - 1; ++i) {
      q.put(i);
      EXPECT_NE(q.qsize(), 0u);
    }
    EXPECT_FALSE(q.full());
    q.put(2 * kQueueSize);
    EXPECT_TRUE(q.full());
    EXPECT_FALSE(q.empty());
    EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize));
    EXPECT_THROW(q.put_nowait(6 * kQueueSize), Full);
    EXPECT_THROW(q.put(6 * kQueueSize, 10ms), Full);
    for (int i = 0; i < kQueueSize; ++i) q.get();
    EXPECT_EQ(q.qsize(), 0u);
    EXPECT_THROW(q.get_nowait(), Empty);
    EXPECT_THROW(q.get(10ms), Empty);
  }
}

TYPED_TEST(BasicTest, Nowait) {
  TypeParam q(kQueueSize);
  for (int i = 0; i < kQueueSize; ++i) q.put_nowait(1);
  EXPECT_THROW(q.put_nowait(1), Full);
  for (int i = 0; i < kQueueSize; ++i) EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_THROW(q.get_nowait(), Empty);
}

TYPED_TEST(BasicTest, TryGetReturnsNothingInsteadOfEmpty) {
  TypeParam q;
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_EQ(q.try_get(0ms), std::nullopt);
  q.put(7);
  EXPECT_EQ(q.try_get(), 7);
  q.put(8);
  EXPECT_EQ(q.try_get(1h), 8);
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(BasicTest, NegativeTimeoutsThrowValueError) {
  TypeParam q(kQueueSize);
  EXPECT_THROW(q.put(1, -1ms), ValueError);
  EXPECT_TRUE(q.empty());
  q.put(1);
  // Even with an item ready, as Python's get checks the timeout first.
  EXPECT_THROW(q.get(-1s), ValueError);
  EXPECT_THROW(static_cast<void>(q.try_get(-1ns)), ValueError);
  EXPECT_EQ(q.qsize(), 1u);
}

TYPED_TEST(BasicTest, TimeoutsWaitAtLeastTheirDuration) {
  TypeParam q(1);
  auto start = Clock::now();
  EXPECT_THROW(q.get(30ms), Empty);
  EXPECT_GE(Clock::now() - start, 30ms);
  start = Clock::now();
  EXPECT_EQ(q.try_get(20ms), std::nullopt);
  EXPECT_GE(Clock::now() - start, 20ms);
  q.put(1);
  start = Clock::now();
  EXPECT_THROW(q.put(2, 30ms), Full);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_EQ(q.get(), 1);
}

TYPED_TEST(BasicTest, ZeroTimeoutsDoNotWait) {
  TypeParam q(1);
  EXPECT_THROW(q.get(0s), Empty);
  q.put(1, 0s);
  EXPECT_THROW(q.put(2, 0s), Full);
  EXPECT_EQ(q.get(0s), 1);
}

TYPED_TEST(BasicTest, UnboundedWhenMaxsizeIsZeroOrNegative) {
  for (std::ptrdiff_t maxsize : {0, -1}) {
    TypeParam q(maxsize);
    EXPECT_EQ(q.maxsize(), maxsize);
    for (int i = 0; i < 1000; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.qsize(), 1000u);
  }
}

TYPED_TEST(BasicTest, MoveOnlyItems) {
  typename Rebind<TypeParam, std::unique_ptr<int>>::type q(2);
  q.put(std::make_unique<int>(1));
  auto item = std::make_unique<int>(2);
  q.put_nowait(std::move(item));
  // A put that fails leaves the caller's item alone: that is the point of
  // looking at it after the move.
  auto kept = std::make_unique<int>(3);
  EXPECT_THROW(q.put_nowait(std::move(kept)), Full);
  // NOLINTBEGIN(bugprone-use-after-move)
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(*kept, 3);
  // NOLINTEND(bugprone-use-after-move)
  std::vector<int> got;
  got.push_back(*q.get());
  got.push_back(*q.try_get().value());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

TYPED_TEST(BasicTest, CopiesAndMovesItems) {
  typename Rebind<TypeParam, std::string>::type q;
  const std::string copied = "copied";
  std::string moved(100, 'm');
  q.put(copied);
  q.put(std::move(moved));
  EXPECT_EQ(copied, "copied");
  std::vector<std::string> got{q.get(), q.get()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"copied", std::string(100, 'm')}));
}

// Python's test_references: the queue lets go of an item as it hands it out.
TYPED_TEST(BasicTest, ReleasesItemsOnGet) {
  typename Rebind<TypeParam, std::shared_ptr<int>>::type q;
  auto item = std::make_shared<int>(1);
  q.put(item);
  EXPECT_EQ(item.use_count(), 2);
  q.get();
  EXPECT_EQ(item.use_count(), 1);
}

TYPED_TEST(BasicTest, DestructorDestroysQueuedItems) {
  auto item = std::make_shared<int>(1);
  {
    typename Rebind<TypeParam, std::shared_ptr<int>>::type q;
    q.put(item);
    q.put(item);
    EXPECT_EQ(item.use_count(), 3);
  }
  EXPECT_EQ(item.use_count(), 1);
}

// A backlog larger than the queue keeps after draining: its memory is
// released on the last get, and the queue works on afterwards.
TYPED_TEST(BasicTest, DrainsALargeBacklogAndGoesOn) {
  typename Rebind<TypeParam, std::string>::type q;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 5000; ++i) q.put(std::to_string(i));
    EXPECT_EQ(q.qsize(), 5000u);
    std::set<std::string> got;
    while (auto item = q.try_get()) got.insert(*item);
    EXPECT_EQ(got.size(), 5000u);
    EXPECT_TRUE(q.empty());
  }
}

// The ring behind Queue grows while its items wrap around its end; their
// order must survive the move to the larger ring.
TEST(Queue, FifoOrderSurvivesGrowthWhileWrapped) {
  Queue<std::string> q;
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 7 + 3 * round; ++i) q.put(std::to_string(next_in++));
    for (int i = 0; i < 5 + round; ++i) {
      ASSERT_EQ(q.get(), std::to_string(next_out++));
    }
  }
  while (next_out < next_in) ASSERT_EQ(q.get(), std::to_string(next_out++));
  EXPECT_TRUE(q.empty());
}

TEST(PriorityQueue, ReturnsItemsInAscendingOrder) {
  PriorityQueue<int> q;
  const std::vector<int> in{5, 3, 9, 1, 1, 8, 2, 7, 0, 6, 4, 3};
  for (int v : in) q.put(v);
  std::vector<int> out;
  while (auto v = q.try_get()) out.push_back(*v);
  auto sorted = in;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(out, sorted);
}

TEST(PriorityQueue, KeepsHeapOrderUnderInterleavedPutsAndGets) {
  PriorityQueue<int> q;
  std::multiset<int> model;
  unsigned state = 12345;
  for (int step = 0; step < 5000; ++step) {
    state = state * 1103515245u + 12345u;
    if (model.empty() || (state >> 16) % 3 != 0) {
      int v = static_cast<int>((state >> 8) % 1000);
      q.put(v);
      model.insert(v);
    } else {
      ASSERT_EQ(q.get(), *model.begin());
      model.erase(model.begin());
    }
  }
  EXPECT_EQ(q.qsize(), model.size());
}

TEST(PriorityQueue, CustomCompare) {
  PriorityQueue<int, std::greater<int>> largest_first;
  for (int v : {2, 9, 4}) largest_first.put(v);
  EXPECT_EQ(largest_first.get(), 9);
  EXPECT_EQ(largest_first.get(), 4);

  // A stateful comparator given at construction; Python's (priority, data)
  // tuples become pairs.
  auto by_second = [](const std::pair<int, int>& a,
                      const std::pair<int, int>& b) {
    return a.second < b.second;
  };
  PriorityQueue<std::pair<int, int>, decltype(by_second)> q(0, by_second);
  q.put({1, 30});
  q.put({2, 10});
  q.put({3, 20});
  EXPECT_EQ(q.get().first, 2);
  EXPECT_EQ(q.get().first, 3);
  EXPECT_EQ(q.get().first, 1);
}

TEST(PriorityQueue, MoveOnlyItemsByPointee) {
  auto by_value = [](const std::unique_ptr<int>& a,
                     const std::unique_ptr<int>& b) { return *a < *b; };
  PriorityQueue<std::unique_ptr<int>, decltype(by_value)> q;
  for (int v : {4, 1, 3, 0, 2}) q.put(std::make_unique<int>(v));
  for (int v = 0; v < 5; ++v) EXPECT_EQ(*q.get(), v);
}

}  // namespace
