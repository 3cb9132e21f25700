// Semaphore and BoundedSemaphore: Python's threading.Semaphore and
// threading.BoundedSemaphore, after CPython's Lib/test/lock_tests.py.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::BoundedSemaphore;
using concur::threading::Semaphore;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kMaxValue = std::numeric_limits<std::uint32_t>::max();

// Threads that each acquire `sem` once and report it.
class Acquirers {
 public:
  Acquirers(Semaphore& sem, int n) {
    for (int i = 0; i < n; ++i) {
      threads_.emplace_back([this, &sem] {
        sem.acquire();
        acquired_.release();
      });
    }
  }
  ~Acquirers() {
    for (auto& t : threads_) t.join();
  }
  void AwaitAcquisitions(int n) {
    for (int i = 0; i < n; ++i) acquired_.acquire();
  }
  bool AnotherAcquiresWithin(Clock::duration timeout) {
    return acquired_.try_acquire_for(timeout);
  }

 private:
  std::vector<std::thread> threads_;
  std::counting_semaphore<> acquired_{0};
};

TEST(Semaphore, NegativeInitialValueThrowsValueError) {
  EXPECT_THROW(Semaphore(-1), concur::ValueError);
  EXPECT_THROW(Semaphore{std::numeric_limits<std::int64_t>::min()},
               concur::ValueError);
  EXPECT_THROW(BoundedSemaphore(-1), concur::ValueError);
}

TEST(Semaphore, InitialValueAboveTheCounterRangeThrowsValueError) {
  EXPECT_THROW(Semaphore(kMaxValue + 1), concur::ValueError);
  EXPECT_EQ(Semaphore(kMaxValue).value(), kMaxValue);
}

TEST(Semaphore, DefaultValueIsOne) {
  Semaphore sem;
  EXPECT_EQ(sem.value(), 1u);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_EQ(BoundedSemaphore().value(), 1u);
}

TEST(Semaphore, AcquireDecrementsAndReleaseIncrements) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.acquire());
  EXPECT_EQ(sem.value(), 1u);
  EXPECT_TRUE(sem.acquire());
  EXPECT_EQ(sem.value(), 0u);
  sem.release();
  EXPECT_EQ(sem.value(), 1u);
  sem.release(3);
  EXPECT_EQ(sem.value(), 4u);
}

TEST(Semaphore, NonBlockingAcquire) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
}

TEST(Semaphore, NonBlockingAcquireFromManyThreads) {
  Semaphore sem(3);
  std::atomic<int> successes{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&] {
      successes += sem.acquire(false);
      successes += sem.acquire(false);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(successes, 3);
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, AcquireTimeout) {
  Semaphore sem(2);
  EXPECT_TRUE(sem.acquire(5ms));
  EXPECT_TRUE(sem.acquire(5ms));
  EXPECT_FALSE(sem.acquire(5ms));
  sem.release();
  EXPECT_TRUE(sem.acquire(5ms));
  auto start = Clock::now();
  EXPECT_FALSE(sem.acquire(50ms));
  EXPECT_GE(Clock::now() - start, 50ms);
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, AcquireTimeoutSucceedsWhenReleasedInTime) {
  Semaphore sem(0);
  std::atomic<bool> waiting{false};
  bool result = false;
  std::thread other([&] {
    waiting = true;
    result = sem.acquire(30s);
  });
  while (!waiting) std::this_thread::yield();
  sem.release();
  other.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, NegativeTimeoutThrowsValueError) {
  Semaphore sem(1);
  EXPECT_THROW(static_cast<void>(sem.acquire(-1ms)), concur::ValueError);
  EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, AcquireBlocksUntilRelease) {
  Semaphore sem;
  sem.acquire();
  Acquirers acquirers(sem, 1);
  EXPECT_FALSE(acquirers.AnotherAcquiresWithin(30ms));
  sem.release();
  acquirers.AwaitAcquisitions(1);
}

TEST(Semaphore, ReleaseNWakesNWaiters) {
  Semaphore sem(0);
  Acquirers acquirers(sem, 5);
  EXPECT_FALSE(acquirers.AnotherAcquiresWithin(30ms));
  sem.release(3);
  acquirers.AwaitAcquisitions(3);
  EXPECT_FALSE(acquirers.AnotherAcquiresWithin(30ms));
  EXPECT_EQ(sem.value(), 0u);
  sem.release(2);
  acquirers.AwaitAcquisitions(2);
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, ContendedAcquireInPhases) {
  // Python's test_acquire_contended: ten threads each acquire twice from a
  // semaphore that grants exactly as many units as are released.
  Semaphore sem(7);
  sem.acquire();
  std::counting_semaphore<> progress(0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&] {
      sem.acquire();
      progress.release();
      sem.acquire();
      progress.release();
    });
  }
  auto await = [&](int n) {
    for (int i = 0; i < n; ++i) progress.acquire();
  };
  await(6);
  EXPECT_FALSE(progress.try_acquire_for(30ms));
  sem.release(7);
  await(7);
  EXPECT_FALSE(progress.try_acquire_for(30ms));
  for (int i = 0; i < 6; ++i) sem.release();
  await(6);
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  await(1);
  for (auto& t : threads) t.join();
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, ReleaseCountBelowOneThrowsValueError) {
  Semaphore sem(1);
  EXPECT_THROW(sem.release(0), concur::ValueError);
  EXPECT_THROW(sem.release(-1), concur::ValueError);
  EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, UnboundedReleaseRaisesTheValue) {
  Semaphore sem(1);
  sem.release();
  EXPECT_EQ(sem.value(), 2u);
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(false));
}

TEST(Semaphore, ReleasePastTheCounterRangeThrowsValueError) {
  Semaphore sem(kMaxValue);
  EXPECT_THROW(sem.release(), concur::ValueError);
  EXPECT_EQ(sem.value(), kMaxValue);
  sem.acquire();
  EXPECT_THROW(sem.release(2), concur::ValueError);
  EXPECT_EQ(sem.value(), kMaxValue - 1);
  sem.release();
  EXPECT_EQ(sem.value(), kMaxValue);
}

TEST(Semaphore, WorksWithStandardLockTypes) {
  Semaphore sem(2);
  {
    std::scoped_lock guard(sem);
    EXPECT_EQ(sem.value(), 1u);
    std::unique_lock inner(sem);
    EXPECT_EQ(sem.value(), 0u);
    EXPECT_FALSE(sem.try_lock());
  }
  EXPECT_EQ(sem.value(), 2u);
  std::unique_lock one(sem, 10ms);
  std::unique_lock two(sem, 10ms);
  EXPECT_TRUE(one.owns_lock());
  EXPECT_TRUE(two.owns_lock());
  auto start = Clock::now();
  EXPECT_FALSE(sem.try_lock_for(20ms));
  EXPECT_GE(Clock::now() - start, 20ms);
  start = Clock::now();
  EXPECT_FALSE(sem.try_lock_until(start + 20ms));
  EXPECT_GE(Clock::now() - start, 20ms);
  EXPECT_FALSE(sem.try_lock_for(-1ms));
}

TEST(Semaphore, ReleasePublishesWritesToTheAcquirer) {
  Semaphore sem(0);
  int shared = 0;  // deliberately not atomic: the semaphore must order it
  std::thread other([&] {
    sem.acquire();
    EXPECT_EQ(shared, 42);
  });
  shared = 42;
  sem.release();
  other.join();
}

TEST(BoundedSemaphore, ReleaseAboveTheInitialValueThrowsValueError) {
  BoundedSemaphore sem;
  EXPECT_THROW(sem.release(), concur::ValueError);
  EXPECT_EQ(sem.value(), 1u);
  sem.acquire();
  sem.release();
  EXPECT_THROW(sem.release(), concur::ValueError);
  EXPECT_EQ(sem.value(), 1u);
}

TEST(BoundedSemaphore, ReleaseNAboveTheInitialValueThrowsValueError) {
  BoundedSemaphore sem(3);
  sem.acquire();
  EXPECT_THROW(sem.release(2), concur::ValueError);
  EXPECT_EQ(sem.value(), 2u);
  sem.acquire();
  sem.release(2);
  EXPECT_EQ(sem.value(), 3u);
  EXPECT_THROW(sem.release(0), concur::ValueError);
}

TEST(BoundedSemaphore, IsASemaphore) {
  BoundedSemaphore bounded(1);
  Semaphore& sem = bounded;
  sem.acquire();
  sem.release();
  // Through the base class the bound still holds.
  EXPECT_THROW(sem.release(), concur::ValueError);
  EXPECT_EQ(sem.value(), 1u);
}

TEST(BoundedSemaphore, ReleaseWakesWaiters) {
  BoundedSemaphore sem(2);
  sem.acquire();
  sem.acquire();
  Acquirers acquirers(sem, 2);
  EXPECT_FALSE(acquirers.AnotherAcquiresWithin(30ms));
  sem.release(2);
  acquirers.AwaitAcquisitions(2);
  EXPECT_EQ(sem.value(), 0u);
}

}  // namespace

namespace {

// A woken acquirer may destroy the Semaphore at once, while the releaser is
// still returning from release(); ASan reports a violation.
TEST(Semaphore, AcquirerMayDestroyItAsSoonAsItWakes) {
  for (int round = 0; round < 2000; ++round) {
    auto* sem = new concur::threading::Semaphore(0);
    std::thread releaser([sem] { sem->release(); });
    sem->acquire();
    delete sem;
    releaser.join();
  }
}

}  // namespace
