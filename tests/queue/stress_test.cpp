// Stress: many producers and consumers on every queue type, checking that
// each item is delivered exactly once, that what a producer wrote before
// put() is visible to the consumer that gets the item, and that gets which
// time out or poll, and shutdowns in mid-stream, lose nothing. Sized to take
// well under a second each in a release build; sanitizer builds, several
// times slower, move a tenth of the items.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"

#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::queue::Empty;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur::queue::ShutDown;
using concur::queue::SimpleQueue;

constexpr int kScale = concur_test::kSanitized ? 10 : 1;

constexpr int kProducers = 4;
constexpr int kConsumers = 4;
constexpr int kItems = 200'000 / kScale;

// An int whose move may throw (it never does): SimpleQueue's locked body.
struct SlowInt {
  int value;
  SlowInt(int v) : value(v) {}  // converts both ways, like the int it wraps
  SlowInt(const SlowInt&) = default;
  SlowInt(SlowInt&& other) noexcept(false) : value(other.value) {}
  SlowInt& operator=(const SlowInt&) = default;
  operator int() const { return value; }
};

// Makes each queue type the same way; `bounded` gives a small maxsize,
// which keeps producers blocking in put.
template <class Q>
struct Maker {
  static Q* make(bool bounded) { return new Q(bounded ? 16 : 0); }
};
template <class T>
struct Maker<SimpleQueue<T>> {
  static SimpleQueue<T>* make(bool) { return new SimpleQueue<T>; }
};

// How consumer c takes its items, to mix every form of get.
enum class Take { kBlocking, kTimed, kPolling };
Take TakeFor(int consumer) { return static_cast<Take>(consumer % 3); }

template <class Q>
int TakeOne(Q& q, Take how) {
  switch (how) {
    case Take::kBlocking:
      return q.get();
    case Take::kTimed:
      for (;;) {
        if (auto item = q.try_get(200us)) return *item;
      }
    case Take::kPolling:
      for (;;) {
        try {
          return q.get_nowait();
        } catch (const Empty&) {
          std::this_thread::yield();
        }
      }
  }
  return -1;
}

template <class Q>
void ExactlyOnce(bool bounded) {
  std::unique_ptr<Q> q(Maker<Q>::make(bounded));
  // Written by the producer before put(), read by the consumer after get():
  // plain memory, so a missing happens-before is a data race for TSan.
  std::vector<std::uint64_t> payload(kItems);
  std::vector<std::atomic<int>> seen(kItems);
  std::atomic<int> claimed{0};
  std::atomic<std::uint64_t> checksum{0};
  std::latch go(kProducers + kConsumers);
  std::vector<std::thread> threads;
  threads.reserve(kProducers + kConsumers);
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      go.arrive_and_wait();
      for (int i = p; i < kItems; i += kProducers) {
        payload[static_cast<std::size_t>(i)] =
            std::uint64_t{2} * static_cast<std::uint64_t>(i) + 1;
        q->put(i);
      }
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      go.arrive_and_wait();
      std::uint64_t sum = 0;
      // Exactly kItems gets in all, so every one of them finds an item.
      while (claimed.fetch_add(1) < kItems) {
        const int item = TakeOne(*q, TakeFor(c));
        if (item < 0 || item >= kItems) {
          ADD_FAILURE() << "got " << item << ", which nobody put";
          continue;
        }
        ++seen[static_cast<std::size_t>(item)];
        sum += payload[static_cast<std::size_t>(item)];
      }
      checksum += sum;
    });
  }
  for (auto& t : threads) t.join();
  int missing = 0;
  int repeated = 0;
  for (auto& s : seen) {
    missing += s == 0;
    repeated += s > 1;
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(repeated, 0);
  // The sum of 2i+1 over i < n is n^2.
  EXPECT_EQ(checksum, std::uint64_t{kItems} * kItems);
  EXPECT_TRUE(q->empty());
}

template <class Q>
class StressTest : public ::testing::Test {};
using AllQueues =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>,
                     SimpleQueue<int>, SimpleQueue<SlowInt>>;
TYPED_TEST_SUITE(StressTest, AllQueues);

TYPED_TEST(StressTest, ExactlyOnceUnbounded) { ExactlyOnce<TypeParam>(false); }

template <class Q>
class BoundedStressTest : public ::testing::Test {};
using ShutdownQueues =
    ::testing::Types<Queue<int>, LifoQueue<int>, PriorityQueue<int>>;
TYPED_TEST_SUITE(BoundedStressTest, ShutdownQueues);

TYPED_TEST(BoundedStressTest, ExactlyOnceBounded) {
  ExactlyOnce<TypeParam>(true);
}

// Producers put until refused, consumers get until refused, and the queue
// is shut down while both run. Every put that returned delivered its item
// exactly once, unless shutdown(immediate) dropped it; nothing else.
TYPED_TEST(BoundedStressTest, ShutdownInMidStreamLosesNothing) {
  for (bool immediate : {false, true}) {
    for (bool bounded : {false, true}) {
      TypeParam q(bounded ? 16 : 0);
      constexpr int kCap = kItems / 4;
      std::vector<std::atomic<int>> put(kCap);
      std::vector<std::atomic<int>> got(kCap);
      std::atomic<int> gets{0};
      std::latch go(kProducers + kConsumers + 1);
      std::vector<std::thread> threads;
      threads.reserve(kProducers + kConsumers);
      for (int p = 0; p < kProducers; ++p) {
        threads.emplace_back([&, p] {
          go.arrive_and_wait();
          try {
            for (int i = p; i < kCap; i += kProducers) {
              q.put(i);
              ++put[static_cast<std::size_t>(i)];
            }
          } catch (const ShutDown&) {
          }
        });
      }
      for (int c = 0; c < kConsumers; ++c) {
        threads.emplace_back([&, c] {
          go.arrive_and_wait();
          try {
            for (;;) {
              const int item = TakeOne(q, TakeFor(c));
              ++got[static_cast<std::size_t>(item)];
              ++gets;
            }
          } catch (const ShutDown&) {
          }
        });
      }
      go.arrive_and_wait();
      while (gets < kCap / 4) std::this_thread::yield();
      q.shutdown(immediate);
      for (auto& t : threads) t.join();
      int lost = 0;
      int invented = 0;
      int repeated = 0;
      for (int i = 0; i < kCap; ++i) {
        const int p = put[static_cast<std::size_t>(i)];
        const int g = got[static_cast<std::size_t>(i)];
        lost += !immediate && p == 1 && g == 0;
        invented += p == 0 && g != 0;
        repeated += g > 1;
      }
      EXPECT_EQ(lost, 0) << "immediate=" << immediate << " bounded=" << bounded;
      EXPECT_EQ(invented, 0);
      EXPECT_EQ(repeated, 0);
      EXPECT_TRUE(q.empty());
    }
  }
}

}  // namespace
