// SimpleQueue: Python's queue.SimpleQueue, after CPython's
// Lib/test/test_queue.py (BaseSimpleQueueTest and CSimpleQueueTest). Run for
// both bodies: the lock-free one (int) and the locked one that items whose
// move may throw get (SlowInt).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::queue::Empty;
using concur::queue::SimpleQueue;
using concur_test::StartBlocked;
using Clock = std::chrono::steady_clock;

// An int whose move may throw (it never does), which gives SimpleQueue its
// locked body.
struct SlowInt {
  int value;
  SlowInt(int v) : value(v) {}  // converts both ways, like the int it wraps
  SlowInt(const SlowInt&) = default;
  SlowInt(SlowInt&& other) noexcept(false) : value(other.value) {}
  SlowInt& operator=(const SlowInt&) = default;
  operator int() const { return value; }
};
static_assert(!std::is_nothrow_move_constructible_v<SlowInt>);

template <class Q>
class SimpleQueueTest : public ::testing::Test {};
using Bodies = ::testing::Types<SimpleQueue<int>, SimpleQueue<SlowInt>>;
TYPED_TEST_SUITE(SimpleQueueTest, Bodies);

// Python's test_basic.
TYPED_TEST(SimpleQueueTest, Basic) {
  TypeParam q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 1u);
  q.put(2);
  q.put_nowait(3);
  q.put(4, 1s);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 4u);

  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.qsize(), 3u);
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.try_get(), 3);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(100ms), 4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);

  EXPECT_THROW(q.get_nowait(), Empty);
  EXPECT_THROW(q.get(1ms), Empty);
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_EQ(q.try_get(1ms), std::nullopt);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
}

TYPED_TEST(SimpleQueueTest, NegativeTimeoutsThrowValueError) {
  TypeParam q;
  q.put(1);
  EXPECT_THROW(q.get(-1s), ValueError);
  EXPECT_THROW(static_cast<void>(q.try_get(-1ms)), ValueError);
  EXPECT_THROW(q.put(2, -1ms), ValueError);
  EXPECT_EQ(q.qsize(), 1u);
}

TYPED_TEST(SimpleQueueTest, TimeoutsWaitAtLeastTheirDuration) {
  TypeParam q;
  auto start = Clock::now();
  EXPECT_THROW(q.get(30ms), Empty);
  EXPECT_GE(Clock::now() - start, 30ms);
  start = Clock::now();
  EXPECT_EQ(q.try_get(20ms), std::nullopt);
  EXPECT_GE(Clock::now() - start, 20ms);
}

TYPED_TEST(SimpleQueueTest, GetBlocksUntilAPut) {
  TypeParam q;
  std::atomic<int> got{0};
  auto getter = StartBlocked([&] { got = q.get(); });
  EXPECT_EQ(got, 0);
  q.put(5);
  getter.join();
  EXPECT_EQ(got, 5);

  getter = StartBlocked([&] { got = q.get(1h); });
  q.put(6);
  getter.join();
  EXPECT_EQ(got, 6);

  std::optional<int> tried;
  getter = StartBlocked([&] { tried = q.try_get(1h); });
  q.put(7);
  getter.join();
  EXPECT_EQ(tried, 7);
}

// Many sleeping getters, then one put at a time: each put must wake a
// getter (none may sleep through its item), whatever order they wake in.
TYPED_TEST(SimpleQueueTest, EachPutReleasesOneOfManySleepingGetters) {
  constexpr int kGetters = 4;
  TypeParam q;
  std::atomic<int> sum{0};
  std::atomic<int> returned{0};
  std::vector<std::thread> getters;
  getters.reserve(kGetters);
  for (int i = 0; i < kGetters; ++i) {
    getters.push_back(StartBlocked([&] {
      sum += q.get();
      ++returned;
    }));
  }
  for (int i = 1; i <= kGetters; ++i) {
    q.put(i);
    while (returned < i) std::this_thread::yield();
  }
  for (auto& t : getters) t.join();
  EXPECT_EQ(sum, 1 + 2 + 3 + 4);
  EXPECT_TRUE(q.empty());
}

// Python's run_threads: feeders put the inputs (pausing at random), then a
// sentinel each; consumers collect until they see one.
template <class Q, class Consume>
std::vector<int> RunThreads(int threads, Q& q, int inputs, Consume consume) {
  constexpr int kSentinel = -1;
  std::atomic<int> next{0};
  std::vector<std::vector<int>> results(static_cast<std::size_t>(threads));
  std::vector<std::thread> all;
  all.reserve(2 * static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    all.emplace_back([&, t] {
      std::minstd_rand random(static_cast<unsigned>(t));
      for (int v; (v = next++) < inputs;) {
        q.put(v);
        if (random() % 2 == 0) std::this_thread::yield();
      }
      q.put(kSentinel);
    });
  }
  for (int t = 0; t < threads; ++t) {
    all.emplace_back([&, t] {
      for (int v; (v = consume(q)) != kSentinel;) {
        results[static_cast<std::size_t>(t)].push_back(v);
      }
    });
  }
  for (auto& thread : all) thread.join();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  std::vector<int> merged;
  for (auto& r : results) merged.insert(merged.end(), r.begin(), r.end());
  return merged;
}

std::vector<int> Range(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

// Python's test_order: one producer, one consumer, FIFO.
TYPED_TEST(SimpleQueueTest, OrderWithOneProducerAndOneConsumer) {
  TypeParam q;
  auto results =
      RunThreads(1, q, 100, [](TypeParam& q) -> int { return q.get(); });
  EXPECT_EQ(results, Range(100));
}

// Python's test_many_threads.
TYPED_TEST(SimpleQueueTest, ManyThreads) {
  TypeParam q;
  auto results =
      RunThreads(8, q, 10000, [](TypeParam& q) -> int { return q.get(); });
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, Range(10000));
}

// Python's test_many_threads_nonblock.
TYPED_TEST(SimpleQueueTest, ManyThreadsNonblocking) {
  TypeParam q;
  auto results = RunThreads(8, q, 10000, [](TypeParam& q) -> int {
    for (;;) {
      if (auto v = q.try_get()) return *v;
      std::this_thread::yield();
    }
  });
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, Range(10000));
}

// Python's test_many_threads_timeout: gets that time out all the time must
// never lose an item.
TYPED_TEST(SimpleQueueTest, ManyThreadsTimeout) {
  TypeParam q;
  auto results = RunThreads(8, q, 2000, [](TypeParam& q) -> int {
    for (;;) {
      try {
        return q.get(10us);
      } catch (const Empty&) {
      }
    }
  });
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, Range(2000));
}

// Python's test_references: the queue lets go of an item as it hands it
// out, and of what is left when it is destroyed.
TEST(SimpleQueue, ReleasesItems) {
  auto item = std::make_shared<int>(1);
  {
    SimpleQueue<std::shared_ptr<int>> q;
    q.put(item);
    q.put(item);
    EXPECT_EQ(item.use_count(), 3);
    q.get();
    EXPECT_EQ(item.use_count(), 2);
  }
  EXPECT_EQ(item.use_count(), 1);
}

// CPython's test_reentrancy: an item whose destruction, as it leaves the
// queue, puts another item into the same queue.
struct Circular {
  SimpleQueue<Circular>* queue = nullptr;
  int* destroyed = nullptr;
  Circular(SimpleQueue<Circular>* q, int* d) : queue(q), destroyed(d) {}
  Circular(Circular&& other) noexcept
      : queue(std::exchange(other.queue, nullptr)),
        destroyed(other.destroyed) {}
  Circular& operator=(Circular&&) = delete;
  ~Circular() {
    if (queue != nullptr && ++*destroyed < 3)
      queue->put(Circular(queue, destroyed));
  }
};

TEST(SimpleQueue, ItemDestructorMayPutIntoTheQueue) {
  SimpleQueue<Circular> q;
  int destroyed = 0;
  q.put(Circular(&q, &destroyed));
  // Each item, destroyed after get() returns it, puts the next.
  for (int i = 0; i < 3; ++i) q.get();
  EXPECT_EQ(destroyed, 3);
  EXPECT_TRUE(q.empty());
}

TEST(SimpleQueue, MoveOnlyItems) {
  SimpleQueue<std::unique_ptr<int>> q;
  for (int i = 0; i < 200; ++i) q.put(std::make_unique<int>(i));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(*q.get(), i);
}

// Visibility through the queue: what a producer wrote before put() is
// seen by the consumer whose get() returns the item, with nothing else
// synchronising them (ThreadSanitizer checks the claim).
TEST(SimpleQueue, GetSeesWhatThePutterWrote) {
  constexpr int kItems = 5000;
  std::vector<int> payload(kItems);
  SimpleQueue<int*> q;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) {
      payload[static_cast<std::size_t>(i)] = i * 3;
      q.put(&payload[static_cast<std::size_t>(i)]);
    }
  });
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(*q.get(), i * 3);
  producer.join();
}

}  // namespace
