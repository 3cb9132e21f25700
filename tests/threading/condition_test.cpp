// Condition: Python's threading.Condition, after CPython's
// Lib/test/lock_tests.py.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Condition;
using concur::threading::Lock;
using concur::threading::RLock;
using Clock = std::chrono::steady_clock;

// Threads that each wait once on `cond`, started one at a time, recording
// which of them came back. Start(i) returns only once waiter i is queued in
// wait(): it takes the Condition's lock right after the waiter announced
// itself, and the waiter gives that lock up only inside wait(). So the
// queue order is the index order.
class Waiters {
 public:
  explicit Waiters(Condition& cond) : cond_(cond) {}
  // Wakes whoever is left, so that a failed expectation cannot hang the test.
  ~Waiters() {
    {
      std::scoped_lock guard(cond_);
      cond_.notify_all();
    }
    for (auto& t : threads_) t.join();
  }

  void Start(int index) {
    std::latch ready(1);
    threads_.emplace_back([this, index, &ready] {
      std::unique_lock guard(cond_);
      ready.count_down();
      results_.push_back(cond_.wait());
      woken_.push_back(index);
      woke_.release();
    });
    ready.wait();
    std::scoped_lock queued(cond_);
  }
  // Blocks until n more waiters have come back.
  void AwaitWakeups(int n) {
    for (int i = 0; i < n; ++i) woke_.acquire();
  }
  // Whether another waiter comes back within `timeout`.
  bool WakesWithin(Clock::duration timeout) {
    return woke_.try_acquire_for(timeout);
  }
  std::vector<int> Woken() {
    std::scoped_lock guard(cond_);
    std::vector<int> sorted = woken_;
    std::sort(sorted.begin(), sorted.end());
    return sorted;
  }
  std::vector<bool> Results() {
    std::scoped_lock guard(cond_);
    return results_;
  }

 private:
  Condition& cond_;
  std::vector<std::thread> threads_;
  std::counting_semaphore<> woke_{0};
  std::vector<int> woken_;     // guarded by cond_
  std::vector<bool> results_;  // guarded by cond_
};

TEST(Condition, DefaultLockIsReentrant) {
  Condition cond;
  EXPECT_TRUE(cond.acquire());
  EXPECT_TRUE(cond.acquire(false));
  EXPECT_TRUE(cond.acquire(10ms));
  cond.release();
  cond.release();
  cond.release();
  bool taken_elsewhere = false;
  std::thread([&] {
    taken_elsewhere = cond.acquire(false);
    if (taken_elsewhere) cond.release();
  }).join();
  EXPECT_TRUE(taken_elsewhere);
}

TEST(Condition, AcquireActsOnTheGivenLock) {
  Lock lock;
  Condition cond(lock);
  cond.acquire();
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));
  cond.release();
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  EXPECT_FALSE(cond.acquire(false));
  EXPECT_FALSE(cond.try_lock());
  lock.release();
  {
    std::scoped_lock guard(cond);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(Condition, AcquireActsOnTheGivenRLock) {
  RLock rlock;
  Condition cond(rlock);
  cond.acquire();
  EXPECT_TRUE(rlock.is_owned());
  cond.acquire();
  EXPECT_EQ(rlock.recursion_count(), 2u);
  cond.release();
  cond.release();
  EXPECT_FALSE(rlock.locked());
}

TEST(Condition, AcquireTimeoutFailsWhileHeldElsewhere) {
  Lock lock;
  Condition cond(lock);
  lock.acquire();
  auto start = Clock::now();
  EXPECT_FALSE(cond.acquire(30ms));
  EXPECT_GE(Clock::now() - start, 30ms);
  lock.release();
}

TEST(Condition, WaitReturnsTrueWhenNotified) {
  Lock lock;
  Condition cond(lock);
  Waiters waiters(cond);
  waiters.Start(0);
  {
    std::scoped_lock guard(cond);
    cond.notify();
  }
  waiters.AwaitWakeups(1);
  EXPECT_EQ(waiters.Results(), std::vector<bool>{true});
}

TEST(Condition, NotifyWakesExactlyNInArrivalOrder) {
  Condition cond;
  Waiters waiters(cond);
  for (int i = 0; i < 6; ++i) waiters.Start(i);

  {
    std::scoped_lock guard(cond);
    cond.notify(2);
  }
  waiters.AwaitWakeups(2);
  EXPECT_FALSE(waiters.WakesWithin(50ms));
  EXPECT_EQ(waiters.Woken(), (std::vector<int>{0, 1}));

  {
    std::scoped_lock guard(cond);
    cond.notify();
  }
  waiters.AwaitWakeups(1);
  EXPECT_FALSE(waiters.WakesWithin(50ms));
  EXPECT_EQ(waiters.Woken(), (std::vector<int>{0, 1, 2}));

  {
    std::scoped_lock guard(cond);
    cond.notify(0);
  }
  EXPECT_FALSE(waiters.WakesWithin(50ms));

  {
    std::scoped_lock guard(cond);
    cond.notify_all();
  }
  waiters.AwaitWakeups(3);
  EXPECT_EQ(waiters.Woken(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(waiters.Results(), std::vector<bool>(6, true));
}

TEST(Condition, NotifyMoreThanWaitingWakesAll) {
  Lock lock;
  Condition cond(lock);
  Waiters waiters(cond);
  waiters.Start(0);
  waiters.Start(1);
  {
    std::scoped_lock guard(cond);
    cond.notify(10);
  }
  waiters.AwaitWakeups(2);
  EXPECT_EQ(waiters.Woken(), (std::vector<int>{0, 1}));
  // Nobody waits now; a notification must not be stored for later.
  {
    std::scoped_lock guard(cond);
    cond.notify_all();
  }
  waiters.Start(2);
  EXPECT_FALSE(waiters.WakesWithin(50ms));
  {
    std::scoped_lock guard(cond);
    cond.notify();
  }
  waiters.AwaitWakeups(1);
}

TEST(Condition, NotifyAllWakesEveryWaiter) {
  Lock lock;
  Condition cond(lock);
  Waiters waiters(cond);
  for (int i = 0; i < 5; ++i) waiters.Start(i);
  {
    std::scoped_lock guard(cond);
    cond.notify_all();
  }
  waiters.AwaitWakeups(5);
  EXPECT_EQ(waiters.Woken(), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Condition, WaitOverRLockRestoresEveryRecursionLevel) {
  RLock rlock;
  Condition cond(rlock);
  std::latch ready(1);
  bool result = false;
  std::size_t levels_after_wait = 0;
  std::thread waiter([&] {
    rlock.acquire();
    rlock.acquire();
    cond.acquire();
    ready.count_down();
    result = cond.wait();
    levels_after_wait = rlock.recursion_count();
    cond.release();
    rlock.release();
    rlock.release();
  });
  ready.wait();
  // This succeeds only if wait() gave up all three levels.
  rlock.acquire();
  EXPECT_EQ(rlock.recursion_count(), 1u);
  cond.notify();
  rlock.release();
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(levels_after_wait, 3u);
  EXPECT_FALSE(rlock.locked());
}

TEST(Condition, WaitTimeoutReturnsFalseWithTheLockHeld) {
  RLock rlock;
  Condition cond(rlock);
  rlock.acquire();
  rlock.acquire();
  auto start = Clock::now();
  EXPECT_FALSE(cond.wait(30ms));
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_EQ(rlock.recursion_count(), 2u);
  rlock.release();
  rlock.release();

  Lock lock;
  Condition plain(lock);
  plain.acquire();
  EXPECT_FALSE(plain.wait(1ms));
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(plain.wait(0ms));
  plain.release();
}

TEST(Condition, ConcurrentWaitsTimeOutIndependently) {
  Condition cond;
  std::vector<std::thread> threads;
  std::atomic<int> timed_out{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      std::unique_lock guard(cond);
      auto start = Clock::now();
      bool result = cond.wait(30ms);
      if (!result && Clock::now() - start >= 30ms) ++timed_out;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(timed_out, 4);
}

TEST(Condition, WaitTimeoutReturnsTrueWhenNotifiedInTime) {
  Lock lock;
  Condition cond(lock);
  std::latch ready(1);
  bool result = false;
  std::thread waiter([&] {
    std::unique_lock guard(cond);
    ready.count_down();
    result = cond.wait(30s);
  });
  ready.wait();
  {
    std::scoped_lock guard(cond);
    cond.notify();
  }
  waiter.join();
  EXPECT_TRUE(result);
}

TEST(Condition, TimedOutWaiterDoesNotSwallowANotification) {
  // The timed-out waiter leaves the queue, so notify(1) reaches the next.
  Lock lock;
  Condition cond(lock);
  std::latch first_ready(1);
  std::latch first_done(1);
  bool first_result = true;
  std::thread first([&] {
    std::unique_lock guard(cond);
    first_ready.count_down();
    first_result = cond.wait(20ms);
    guard.unlock();
    first_done.count_down();
  });
  first_ready.wait();
  Waiters waiters(cond);
  waiters.Start(1);
  first_done.wait();
  first.join();
  EXPECT_FALSE(first_result);
  {
    std::scoped_lock guard(cond);
    cond.notify();
  }
  EXPECT_TRUE(waiters.WakesWithin(10s));
}

TEST(Condition, WaitForReturnsOnceThePredicateHolds) {
  RLock rlock;
  Condition cond(rlock);
  int state = 0;  // guarded by cond
  bool result = false;
  bool owned_in_predicate = true;
  std::latch ready(1);
  std::thread waiter([&] {
    std::unique_lock guard(cond);
    ready.count_down();
    result = cond.wait_for([&] {
      owned_in_predicate = owned_in_predicate && rlock.is_owned();
      return state == 4;
    });
    EXPECT_EQ(state, 4);
  });
  ready.wait();
  for (int i = 0; i < 4; ++i) {
    std::scoped_lock guard(cond);
    ++state;
    cond.notify();
  }
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_TRUE(owned_in_predicate);
}

TEST(Condition, WaitForTimeoutReturnsThePredicatesLastValue) {
  Lock lock;
  Condition cond(lock);
  int state = 0;  // guarded by cond
  bool result = true;
  Clock::duration waited{};
  std::latch ready(1);
  std::thread waiter([&] {
    std::unique_lock guard(cond);
    ready.count_down();
    auto start = Clock::now();
    result = cond.wait_for([&] { return state == 4; }, 50ms);
    waited = Clock::now() - start;
  });
  ready.wait();
  // Three notifications: the predicate never becomes true.
  for (int i = 0; i < 3; ++i) {
    std::scoped_lock guard(cond);
    ++state;
    cond.notify();
  }
  waiter.join();
  EXPECT_FALSE(result);
  EXPECT_GE(waited, 50ms);
}

TEST(Condition, WaitForTrueReturnsAtOnce) {
  Condition cond;
  std::scoped_lock guard(cond);
  int calls = 0;
  EXPECT_TRUE(cond.wait_for([&] { return ++calls > 0; }, 0ms));
  EXPECT_TRUE(cond.wait_for([&] { return ++calls > 0; }));
  EXPECT_EQ(calls, 2);
}

TEST(Condition, WaitWithoutTheLockThrowsRuntimeError) {
  Condition by_default;
  EXPECT_THROW(by_default.wait(), concur::RuntimeError);
  EXPECT_THROW(static_cast<void>(by_default.wait(10ms)), concur::RuntimeError);
  EXPECT_THROW(by_default.wait_for([] { return false; }), concur::RuntimeError);

  Lock lock;
  Condition over_lock(lock);
  EXPECT_THROW(over_lock.wait(), concur::RuntimeError);
  EXPECT_THROW(static_cast<void>(over_lock.wait(10ms)), concur::RuntimeError);
  EXPECT_FALSE(lock.locked());

  RLock rlock;
  Condition over_rlock(rlock);
  EXPECT_THROW(over_rlock.wait(), concur::RuntimeError);
}

TEST(Condition, WaitWhileAnotherThreadOwnsTheRLockThrowsRuntimeError) {
  RLock rlock;
  Condition cond(rlock);
  std::latch held(1);
  std::latch done(1);
  std::thread owner([&] {
    std::scoped_lock guard(rlock);
    held.count_down();
    done.wait();
  });
  held.wait();
  EXPECT_THROW(cond.wait(), concur::RuntimeError);
  EXPECT_THROW(cond.notify(), concur::RuntimeError);
  EXPECT_THROW(cond.notify_all(), concur::RuntimeError);
  done.count_down();
  owner.join();
}

TEST(Condition, NotifyWithoutTheLockThrowsRuntimeError) {
  Condition by_default;
  EXPECT_THROW(by_default.notify(), concur::RuntimeError);
  EXPECT_THROW(by_default.notify(0), concur::RuntimeError);
  EXPECT_THROW(by_default.notify_all(), concur::RuntimeError);

  Lock lock;
  Condition over_lock(lock);
  EXPECT_THROW(over_lock.notify(), concur::RuntimeError);
  EXPECT_THROW(over_lock.notify_all(), concur::RuntimeError);
}

TEST(Condition, NotifyWithNoWaitersIsHarmless) {
  Condition cond;
  std::scoped_lock guard(cond);
  cond.notify();
  cond.notify(5);
  cond.notify_all();
  EXPECT_FALSE(cond.wait(1ms));
}

TEST(Condition, NegativeTimeoutThrowsValueError) {
  Lock lock;
  Condition cond(lock);
  std::scoped_lock guard(cond);
  EXPECT_THROW(static_cast<void>(cond.wait(-1ms)), concur::ValueError);
  EXPECT_THROW(static_cast<void>(cond.wait_for([] { return false; }, -1ms)),
               concur::ValueError);
  EXPECT_THROW(static_cast<void>(cond.acquire(-1ms)), concur::ValueError);
  EXPECT_TRUE(lock.locked());
}

TEST(Condition, SecondRoundAfterNotifyAllStillWorks) {
  Condition cond;
  for (int round = 0; round < 2; ++round) {
    Waiters waiters(cond);
    for (int i = 0; i < 3; ++i) waiters.Start(i);
    {
      std::scoped_lock guard(cond);
      cond.notify(1);
    }
    waiters.AwaitWakeups(1);
    EXPECT_EQ(waiters.Woken(), std::vector<int>{0});
    {
      std::scoped_lock guard(cond);
      cond.notify_all();
    }
    waiters.AwaitWakeups(2);
  }
}

}  // namespace
