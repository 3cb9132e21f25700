// RLock: Python's threading.RLock, after CPython's Lib/test/lock_tests.py.

#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::RLock;
using Clock = std::chrono::steady_clock;

// Runs `body` while another thread holds `lock` (once), then lets it go.
template <class Body>
void WhileHeldElsewhere(RLock& lock, Body body) {
  std::latch held(1);
  std::latch done(1);
  std::thread owner([&] {
    lock.acquire();
    held.count_down();
    done.wait();
    lock.release();
  });
  held.wait();
  body();
  done.count_down();
  owner.join();
}

TEST(RLock, IsReentrant) {
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(10ms));
  EXPECT_EQ(lock.recursion_count(), 4u);
  lock.release();
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked());
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.recursion_count(), 0u);
}

TEST(RLock, ReacquireAfterPartialRelease) {
  RLock lock;
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.acquire();
  EXPECT_EQ(lock.recursion_count(), 2u);
  lock.release();
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, IsOwnedOnlyByTheAcquiringThread) {
  RLock lock;
  EXPECT_FALSE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.is_owned());
  lock.acquire();
  bool owned_elsewhere = true;
  std::size_t count_elsewhere = 1;
  std::thread([&] {
    owned_elsewhere = lock.is_owned();
    count_elsewhere = lock.recursion_count();
  }).join();
  EXPECT_FALSE(owned_elsewhere);
  EXPECT_EQ(count_elsewhere, 0u);
  lock.release();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_FALSE(lock.is_owned());
}

TEST(RLock, ReleaseUnlockedThrowsRuntimeError) {
  RLock lock;
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  lock.acquire();
  lock.acquire();
  lock.release();
  lock.release();
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(RLock, ReleaseByNonOwnerThrowsRuntimeError) {
  RLock lock;
  WhileHeldElsewhere(lock, [&] {
    EXPECT_THROW(lock.release(), concur::RuntimeError);
    // The owner's hold survives the failed release.
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(lock.is_owned());
  });
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, NonBlockingAcquireFailsWhileHeldElsewhere) {
  RLock lock;
  WhileHeldElsewhere(lock, [&] { EXPECT_FALSE(lock.acquire(false)); });
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(RLock, AcquireTimeoutFailsAfterAtLeastTheTimeout) {
  RLock lock;
  WhileHeldElsewhere(lock, [&] {
    auto start = Clock::now();
    EXPECT_FALSE(lock.acquire(50ms));
    EXPECT_GE(Clock::now() - start, 50ms);
    EXPECT_FALSE(lock.is_owned());
    EXPECT_EQ(lock.recursion_count(), 0u);
  });
}

TEST(RLock, TryLockForAndUntilTimeOutWhileHeldElsewhere) {
  RLock lock;
  WhileHeldElsewhere(lock, [&] {
    auto start = Clock::now();
    EXPECT_FALSE(lock.try_lock_for(20ms));
    EXPECT_GE(Clock::now() - start, 20ms);
    start = Clock::now();
    EXPECT_FALSE(lock.try_lock_until(start + 20ms));
    EXPECT_GE(Clock::now() - start, 20ms);
    EXPECT_FALSE(lock.try_lock());
  });
}

TEST(RLock, BlockedAcquireProceedsAfterFullRelease) {
  RLock lock;
  lock.acquire();
  lock.acquire();
  std::atomic<bool> acquired{false};
  std::thread other([&] {
    lock.acquire();
    acquired = true;
    EXPECT_EQ(lock.recursion_count(), 1u);
    lock.release();
  });
  lock.release();
  // One level is still held, so the other thread must still wait.
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(acquired);
  lock.release();
  other.join();
  EXPECT_TRUE(acquired);
}

TEST(RLock, AcquireTimeoutSucceedsWhenReleasedInTime) {
  RLock lock;
  lock.acquire();
  std::atomic<bool> waiting{false};
  bool result = false;
  std::thread other([&] {
    waiting = true;
    result = lock.acquire(30s);
    lock.release();
  });
  while (!waiting) std::this_thread::yield();
  lock.release();
  other.join();
  EXPECT_TRUE(result);
}

TEST(RLock, NegativeTimeoutThrowsValueError) {
  RLock lock;
  EXPECT_THROW(static_cast<void>(lock.acquire(-1ms)), concur::ValueError);
  EXPECT_FALSE(lock.locked());
  // Also when the acquire would re-enter.
  lock.acquire();
  EXPECT_THROW(static_cast<void>(lock.acquire(-1ms)), concur::ValueError);
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.release();
}

TEST(RLock, WorksWithStandardLockTypes) {
  RLock lock;
  {
    std::scoped_lock outer(lock);
    std::unique_lock inner(lock);
    std::lock_guard innermost(lock);
    EXPECT_EQ(lock.recursion_count(), 3u);
  }
  EXPECT_FALSE(lock.locked());
  std::unique_lock guard(lock, 10ms);
  EXPECT_TRUE(guard.owns_lock());
  EXPECT_TRUE(lock.try_lock_until(Clock::now() + 1s));
  EXPECT_EQ(lock.recursion_count(), 2u);
  lock.unlock();
}

TEST(RLock, OwnershipPassesBetweenThreads) {
  RLock lock;
  for (int i = 0; i < 3; ++i) {
    std::thread([&] {
      lock.acquire();
      lock.acquire();
      EXPECT_EQ(lock.recursion_count(), 2u);
      lock.release();
      lock.release();
    }).join();
    EXPECT_FALSE(lock.locked());
    lock.acquire();
    EXPECT_EQ(lock.recursion_count(), 1u);
    lock.release();
  }
}

}  // namespace
