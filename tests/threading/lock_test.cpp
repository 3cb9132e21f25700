// Lock: Python's threading.Lock, after CPython's Lib/test/lock_tests.py.

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Lock;
using Clock = std::chrono::steady_clock;

TEST(Lock, AcquireAndRelease) {
  Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, NonBlockingAcquire) {
  Lock lock;
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(false));
  lock.release();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, NonBlockingAcquireFromAnotherThreadFails) {
  Lock lock;
  lock.acquire();
  bool result = true;
  std::thread([&] { result = lock.acquire(false); }).join();
  EXPECT_FALSE(result);
  lock.release();
}

TEST(Lock, BlockingFlagTrueWaitsForRelease) {
  Lock lock;
  lock.acquire();
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    acquired = lock.acquire(true);
    lock.release();
  });
  // The other thread must still be blocked after a while.
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(acquired);
  lock.release();
  other.join();
  EXPECT_TRUE(acquired);
}

TEST(Lock, IsNotReentrant) {
  Lock lock;
  lock.acquire();
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(10ms));
  lock.release();
}

TEST(Lock, AcquireTimeoutFailsAfterAtLeastTheTimeout) {
  Lock lock;
  lock.acquire();
  bool result = true;
  Clock::duration waited{};
  std::thread([&] {
    auto start = Clock::now();
    result = lock.acquire(50ms);
    waited = Clock::now() - start;
  }).join();
  EXPECT_FALSE(result);
  EXPECT_GE(waited, 50ms);
  lock.release();
}

TEST(Lock, AcquireTimeoutSucceedsWhenFree) {
  Lock lock;
  EXPECT_TRUE(lock.acquire(5s));
  lock.release();
  EXPECT_TRUE(lock.acquire(0ms));
  EXPECT_FALSE(lock.acquire(0ms));
  lock.release();
}

TEST(Lock, AcquireTimeoutSucceedsWhenReleasedInTime) {
  Lock lock;
  lock.acquire();
  std::atomic<bool> waiting{false};
  bool result = false;
  std::thread other([&] {
    waiting = true;
    result = lock.acquire(30s);
  });
  while (!waiting) std::this_thread::yield();
  lock.release();
  other.join();
  EXPECT_TRUE(result);
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST(Lock, AcquireHugeTimeoutIsAccepted) {
  Lock lock;
  EXPECT_TRUE(lock.acquire(std::chrono::hours::max()));
  lock.release();
}

TEST(Lock, StateIsCleanAfterTimeout) {
  Lock lock;
  lock.acquire();
  EXPECT_FALSE(lock.acquire(10ms));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, NegativeTimeoutThrowsValueError) {
  Lock lock;
  EXPECT_THROW(static_cast<void>(lock.acquire(-1ms)), concur::ValueError);
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  EXPECT_THROW(static_cast<void>(lock.acquire(-1s)), concur::ValueError);
  lock.release();
}

TEST(Lock, ReleaseUnlockedThrowsRuntimeError) {
  Lock lock;
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  EXPECT_FALSE(lock.locked());
  // The failed release must not have corrupted the state.
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, ReleasedByAnotherThread) {
  Lock lock;
  lock.acquire();
  std::thread([&] { lock.release(); }).join();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, ReacquireBlocksUntilAnotherThreadReleases) {
  // Python's test_reacquire: a thread that acquires twice waits for a
  // release by someone else.
  Lock lock;
  std::atomic<int> phase{0};
  std::thread other([&] {
    lock.acquire();
    phase = 1;
    lock.acquire();
    phase = 2;
  });
  while (phase == 0) std::this_thread::yield();
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(phase, 1);
  lock.release();
  other.join();
  EXPECT_EQ(phase, 2);
  lock.release();
}

TEST(Lock, ContendedAcquireWakesAllWaitersInTurn) {
  Lock lock;
  lock.acquire();
  constexpr int kThreads = 5;
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      lock.acquire();
      ++finished;
      lock.release();
    });
  }
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(finished, 0);
  lock.release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(finished, kThreads);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, WorksWithScopedLockAndLockGuard) {
  Lock lock;
  {
    std::scoped_lock guard(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::lock_guard guard(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ScopedLockReleasesOnException) {
  Lock lock;
  EXPECT_THROW(
      {
        std::scoped_lock guard(lock);
        throw std::runtime_error("inside the critical section");
      },
      std::runtime_error);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ScopedLockOfTwoLocks) {
  Lock a;
  Lock b;
  {
    std::scoped_lock guard(a, b);
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
}

TEST(Lock, WorksWithUniqueLock) {
  Lock lock;
  std::unique_lock guard(lock, std::defer_lock);
  EXPECT_FALSE(guard.owns_lock());
  EXPECT_TRUE(guard.try_lock());
  EXPECT_TRUE(lock.locked());
  guard.unlock();
  EXPECT_FALSE(lock.locked());
  guard.lock();
  EXPECT_TRUE(lock.locked());
}

TEST(Lock, TryLockForTimesOutWhenHeld) {
  Lock lock;
  std::unique_lock holder(lock);
  bool result = true;
  Clock::duration waited{};
  std::thread([&] {
    std::unique_lock guard(lock, std::defer_lock);
    auto start = Clock::now();
    result = guard.try_lock_for(30ms);
    waited = Clock::now() - start;
  }).join();
  EXPECT_FALSE(result);
  EXPECT_GE(waited, 30ms);
}

TEST(Lock, TryLockForSucceedsWhenFree) {
  Lock lock;
  std::unique_lock guard(lock, 1s);
  EXPECT_TRUE(guard.owns_lock());
  EXPECT_TRUE(lock.locked());
}

TEST(Lock, TryLockForNegativeDurationActsAsTryLock) {
  // The Lockable requirements define a negative duration as "do not wait",
  // unlike acquire(), which follows Python and rejects it.
  Lock lock;
  EXPECT_TRUE(lock.try_lock_for(-1ms));
  EXPECT_FALSE(lock.try_lock_for(-1ms));
  lock.unlock();
}

TEST(Lock, TryLockUntilTimesOutWhenHeld) {
  Lock lock;
  lock.acquire();
  bool result = true;
  Clock::duration waited{};
  std::thread([&] {
    auto start = Clock::now();
    result = lock.try_lock_until(start + 30ms);
    waited = Clock::now() - start;
  }).join();
  EXPECT_FALSE(result);
  EXPECT_GE(waited, 30ms);
  lock.release();
}

TEST(Lock, TryLockUntilOnOtherClocksAndPastTimePoints) {
  Lock lock;
  EXPECT_TRUE(lock.try_lock_until(std::chrono::system_clock::now() + 1s));
  EXPECT_FALSE(lock.try_lock_until(Clock::now() - 1s));
  lock.unlock();
  EXPECT_TRUE(lock.try_lock_until(Clock::now() - 1s));
  lock.unlock();
}

TEST(Lock, TryLockNeverBlocks) {
  Lock lock;
  EXPECT_TRUE(lock.try_lock());
  EXPECT_FALSE(lock.try_lock());
  lock.unlock();
}

TEST(Lock, ReleasePublishesWritesToTheNextAcquirer) {
  Lock lock;
  int shared = 0;  // deliberately not atomic: the lock must order it
  lock.acquire();
  std::thread other([&] {
    lock.acquire();
    shared += 1;
    lock.release();
  });
  shared = 41;
  lock.release();
  other.join();
  lock.acquire();
  EXPECT_EQ(shared, 42);
  lock.release();
}

}  // namespace
