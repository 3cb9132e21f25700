// Queue, LifoQueue and PriorityQueue across threads: blocked puts and gets
// and the calls that release them. After CPython's Lib/test/test_queue.py
// (the do_blocking_test parts of basic_queue_test), with the blocked thread
// observed asleep instead of a trigger thread that sleeps first.

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur_test::StartBlocked;

template <class Q>
class BlockingTest : public ::testing::Test {};
using QueueTypes =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>>;
TYPED_TEST_SUITE(BlockingTest, QueueTypes);

TYPED_TEST(BlockingTest, PutBlocksWhileFullUntilAGet) {
  TypeParam q(1);
  q.put(1);
  std::atomic<bool> put{false};
  auto putter = StartBlocked([&] {
    q.put(2);
    put = true;
  });
  EXPECT_FALSE(put);
  EXPECT_EQ(q.get(), 1);
  putter.join();
  EXPECT_TRUE(put);
  EXPECT_EQ(q.get(), 2);
}

TYPED_TEST(BlockingTest, TimedPutIsReleasedByAGet) {
  TypeParam q(1);
  q.put(1);
  std::atomic<bool> put{false};
  auto putter = StartBlocked([&] {
    q.put(2, 1h);
    put = true;
  });
  EXPECT_FALSE(put);
  q.get();
  putter.join();
  EXPECT_TRUE(put);
  EXPECT_EQ(q.get_nowait(), 2);
}

TYPED_TEST(BlockingTest, GetBlocksWhileEmptyUntilAPut) {
  TypeParam q;
  std::atomic<int> got{0};
  auto getter = StartBlocked([&] { got = q.get(); });
  EXPECT_EQ(got, 0);
  q.put(5);
  getter.join();
  EXPECT_EQ(got, 5);
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(BlockingTest, TimedGetsAreReleasedByAPut) {
  TypeParam q;
  std::atomic<int> got{0};
  auto getter = StartBlocked([&] { got = q.get(1h); });
  q.put(6);
  getter.join();
  EXPECT_EQ(got, 6);

  std::optional<int> tried;
  getter = StartBlocked([&] { tried = q.try_get(1h); });
  q.put(7);
  getter.join();
  EXPECT_EQ(tried, 7);
}

// Every blocked getter gets exactly one item, whatever order they wake in.
TYPED_TEST(BlockingTest, EachPutReleasesOneOfManyGetters) {
  constexpr int kGetters = 4;
  TypeParam q;
  std::vector<std::atomic<int>> got(kGetters);
  std::vector<std::thread> getters;
  getters.reserve(kGetters);
  for (int i = 0; i < kGetters; ++i) {
    getters.push_back(StartBlocked([&, i] { got[i] = q.get(); }));
  }
  for (int i = 1; i <= kGetters; ++i) q.put(i);
  for (auto& t : getters) t.join();
  int sum = 0;
  for (auto& g : got) sum += g;
  EXPECT_EQ(sum, 1 + 2 + 3 + 4);
  EXPECT_TRUE(q.empty());
}

TYPED_TEST(BlockingTest, EachGetReleasesOneOfManyPutters) {
  constexpr int kPutters = 4;
  TypeParam q(1);
  q.put(0);
  std::atomic<int> done{0};
  std::vector<std::thread> putters;
  for (int i = 1; i <= kPutters; ++i) {
    putters.push_back(StartBlocked([&, i] {
      q.put(i);
      ++done;
    }));
  }
  int sum = 0;
  for (int i = 0; i <= kPutters; ++i) sum += q.get();
  for (auto& t : putters) t.join();
  EXPECT_EQ(done, kPutters);
  EXPECT_EQ(sum, 1 + 2 + 3 + 4);
}

}  // namespace
