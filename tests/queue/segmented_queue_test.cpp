// detail::SegmentedQueue, the lock-free queue behind SimpleQueue: the parts
// of its structure that the public tests reach only by chance, namely block
// boundaries, freeing and reusing blocks, the destructor, and items of
// unusual size and alignment.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "concur/detail/segmented_queue.hpp"

namespace {

using concur::detail::SegmentedQueue;
using concur::sys::Deadline;

// Enough items to cross many blocks, whatever the block size.
constexpr int kMany = 1000;

// Counts live objects, so that the tests see every item destroyed once.
struct Tracked {
  static inline std::atomic<int> live{0};
  int value;
  explicit Tracked(int v) : value(v) { ++live; }
  Tracked(const Tracked& other) : value(other.value) { ++live; }
  Tracked(Tracked&& other) noexcept : value(other.value) { ++live; }
  Tracked& operator=(const Tracked&) = default;
  ~Tracked() { --live; }
};

class SegmentedQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { Tracked::live = 0; }
  void TearDown() override { EXPECT_EQ(Tracked::live, 0); }
};

TEST_F(SegmentedQueueTest, SizeIsExactAcrossBlocks) {
  SegmentedQueue<Tracked> q;
  for (int i = 0; i < kMany; ++i) {
    ASSERT_EQ(q.size(), static_cast<std::size_t>(i));
    q.push(Tracked(i));
  }
  for (int i = 0; i < kMany; ++i) {
    ASSERT_EQ(q.size(), static_cast<std::size_t>(kMany - i));
    auto item = q.try_pop();
    ASSERT_TRUE(item.has_value());
    ASSERT_EQ(item->value, i);
  }
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

// A queue that stays short while its positions cross block after block:
// each block is freed and its memory reused for a later one.
TEST_F(SegmentedQueueTest, ReusesBlocksInSteadyState) {
  SegmentedQueue<Tracked> q;
  for (int i = 0; i < 60 * kMany; ++i) {
    q.push(Tracked(i));
    if (i % 3 == 2) {
      for (int j = i - 2; j <= i; ++j) ASSERT_EQ(q.try_pop()->value, j);
    }
  }
  EXPECT_EQ(q.size(), 0u);
}

// Popping up to, onto and past a block boundary (63 slots a block) first.
TEST_F(SegmentedQueueTest, DestructorDestroysWhatIsLeft) {
  for (int popped : {0, 1, 62, 63, 64, 500}) {
    SegmentedQueue<Tracked> q;
    for (int i = 0; i < kMany; ++i) q.push(Tracked(i));
    for (int i = 0; i < popped; ++i) ASSERT_EQ(q.try_pop()->value, i);
    EXPECT_EQ(Tracked::live, kMany - popped);
  }
}

TEST_F(SegmentedQueueTest, CopiesConstItems) {
  SegmentedQueue<Tracked> q;
  const Tracked item(7);
  q.push(item);
  q.push(item);
  EXPECT_EQ(q.try_pop()->value, 7);
  EXPECT_EQ(q.try_pop()->value, 7);
}

TEST_F(SegmentedQueueTest, PopWithAPassedDeadlineDoesNotWait) {
  SegmentedQueue<int> q;
  EXPECT_EQ(q.pop(Deadline::after(std::chrono::seconds(0))), std::nullopt);
  q.push(1);
  EXPECT_EQ(q.pop(Deadline::after(std::chrono::seconds(0))), 1);
}

TEST_F(SegmentedQueueTest, LargeItems) {
  using Big = std::array<std::uint64_t, 200>;
  SegmentedQueue<Big> q;
  for (std::uint64_t i = 0; i < 300; ++i) {
    Big b{};
    b.fill(i);
    q.push(b);
  }
  for (std::uint64_t i = 0; i < 300; ++i) {
    auto b = q.try_pop();
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->front(), i);
    EXPECT_EQ(b->back(), i);
  }
}

TEST_F(SegmentedQueueTest, OverAlignedItems) {
  struct alignas(64) Aligned {
    int value;
  };
  SegmentedQueue<Aligned> q;
  for (int i = 0; i < 300; ++i) q.push(Aligned{i});
  for (int i = 0; i < 300; ++i) {
    auto item = q.try_pop();
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->value, i);
  }
}

// Two producers and two consumers racing over block boundaries, each block
// freed by whichever consumer takes its last item: every item arrives
// once, and every block is freed once (AddressSanitizer checks the rest).
TEST_F(SegmentedQueueTest, ConcurrentUseAcrossBlocks) {
  constexpr int kPerProducer = 20000;
  SegmentedQueue<Tracked> q;
  std::vector<std::atomic<int>> seen(std::size_t{2} * kPerProducer);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i)
        q.push(Tracked(p * kPerProducer + i));
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      while (taken.fetch_add(1) < 2 * kPerProducer) {
        auto item = q.pop(Deadline::never());
        ++seen[static_cast<std::size_t>(item->value)];
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& s : seen) ASSERT_EQ(s, 1);
  EXPECT_EQ(q.size(), 0u);
}

TEST_F(SegmentedQueueTest, CloseRefusesPushesAndKeepsItems) {
  SegmentedQueue<Tracked> q;
  for (int i = 0; i < kMany; ++i) EXPECT_TRUE(q.push(Tracked(i)));
  EXPECT_FALSE(q.closed());
  EXPECT_TRUE(q.close());
  EXPECT_FALSE(q.close());  // once
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.push(Tracked(-1)));
  for (int i = 0; i < kMany; ++i) {
    auto item = q.pop(Deadline::never());
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->value, i);
  }
  // Closed and empty: pop returns at once, even without a deadline.
  EXPECT_FALSE(q.pop(Deadline::never()).has_value());
}

TEST_F(SegmentedQueueTest, CloseOnABlockBoundaryKeepsTheFlag) {
  // Closing while the tail sits on a block's sentinel: the producer that
  // links the next block must not clear the flag.
  for (int n = 60; n < 70; ++n) {
    SegmentedQueue<int> q;
    std::atomic<bool> go{false};
    std::thread producer([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < n; ++i) {
        if (!q.push(i)) return;
      }
    });
    go = true;
    q.close();
    producer.join();
    EXPECT_TRUE(q.closed());
    EXPECT_FALSE(q.push(0));
  }
}

TEST_F(SegmentedQueueTest, CloseWakesSleepingConsumers) {
  SegmentedQueue<int> q;
  std::atomic<int> returned{0};
  std::vector<std::thread> consumers;
  for (int i = 0; i < 4; ++i) {
    consumers.emplace_back([&] {
      EXPECT_FALSE(q.pop(Deadline::never()).has_value());
      ++returned;
    });
  }
  q.close();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(returned, 4);
}

TEST_F(SegmentedQueueTest, PushesRacingCloseAreAllOrNothing) {
  // Every push that returned true is popped exactly once; none after.
  for (int round = 0; round < 20; ++round) {
    SegmentedQueue<int> q;
    constexpr int kProducers = 4;
    std::vector<std::atomic<int>> stored(kProducers);
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0;; ++i) {
          if (!q.push(p * 1'000'000 + i)) return;
          ++stored[static_cast<std::size_t>(p)];
        }
      });
    }
    std::vector<int> popped(kProducers, 0);
    for (int i = 0; i < 1000; ++i) {
      if (auto item = q.pop(Deadline::never()))
        ++popped[static_cast<std::size_t>(*item / 1'000'000)];
    }
    q.close();
    for (auto& t : producers) t.join();
    while (auto item = q.pop(Deadline::never())) {
      ++popped[static_cast<std::size_t>(*item / 1'000'000)];
    }
    for (int p = 0; p < kProducers; ++p) {
      EXPECT_EQ(popped[static_cast<std::size_t>(p)],
                stored[static_cast<std::size_t>(p)].load());
    }
  }
}

}  // namespace
