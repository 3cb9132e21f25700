// Bad input to every blocking call of <concur/threading.hpp>, as CPython's
// lock_tests.py and test_threading.py try it: NaN and negative timeouts
// raise ValueError ("Invalid value NaN (not a number)"), the extremes of
// every duration and time point type neither overflow nor hang, and counts
// are signed and checked.

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "common/bad_input.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::threading::Barrier;
using concur::threading::BoundedSemaphore;
using concur::threading::Condition;
using concur::threading::Event;
using concur::threading::Lock;
using concur::threading::RLock;
using concur::threading::Semaphore;
using concur::threading::Thread;
using concur_test::ExpectNaNRejected;
using concur_test::kInf;
using concur_test::kNaN;
using Seconds = std::chrono::duration<double>;
using Steady = std::chrono::steady_clock;

TEST(BadInput, NaNTimeoutsRaiseValueError) {
  Lock lock;
  ExpectNaNRejected([&] { static_cast<void>(lock.acquire(kNaN)); }, "Lock");
  ExpectNaNRejected([&] { static_cast<void>(lock.try_lock_for(kNaN)); },
                    "Lock::try_lock_for");
  RLock rlock;
  ExpectNaNRejected([&] { static_cast<void>(rlock.acquire(kNaN)); }, "RLock");
  Semaphore sem(0);
  ExpectNaNRejected([&] { static_cast<void>(sem.acquire(kNaN)); }, "Semaphore");
  Event event;
  ExpectNaNRejected([&] { static_cast<void>(event.wait(kNaN)); }, "Event");
  Condition cond;
  std::scoped_lock hold(cond);
  ExpectNaNRejected([&] { static_cast<void>(cond.wait(kNaN)); }, "Condition");
  ExpectNaNRejected(
      [&] { static_cast<void>(cond.wait_for([] { return false; }, kNaN)); },
      "Condition::wait_for");
  Barrier barrier(2);
  ExpectNaNRejected([&] { static_cast<void>(barrier.wait(kNaN)); }, "Barrier");
  EXPECT_FALSE(barrier.broken());  // rejected before it waited
  Thread thread([] {});
  thread.start();
  ExpectNaNRejected([&] { static_cast<void>(thread.join(kNaN)); }, "join");
  thread.join();
  ExpectNaNRejected([&] { concur::threading::Timer(kNaN, [] {}); }, "Timer");
}

TEST(BadInput, NaNTimePointsRaiseValueError) {
  using FloatPoint = std::chrono::time_point<Steady, Seconds>;
  Lock lock;
  ExpectNaNRejected(
      [&] { static_cast<void>(lock.try_lock_until(FloatPoint(kNaN))); },
      "Lock::try_lock_until");
  Semaphore sem(0);
  ExpectNaNRejected(
      [&] { static_cast<void>(sem.try_lock_until(FloatPoint(kNaN))); },
      "Semaphore::try_lock_until");
}

TEST(BadInput, NegativeInfinityIsANegativeTimeout) {
  Lock lock;
  EXPECT_THROW(static_cast<void>(lock.acquire(-kInf)), ValueError);
  Event event;
  EXPECT_THROW(static_cast<void>(event.wait(-kInf)), ValueError);
}

// Huge timeouts on something available return at once; on something held
// they wait (here: until another thread lets go).
TEST(BadInput, HugeTimeoutsAreForEverNotOverflows) {
  Lock lock;
  EXPECT_TRUE(lock.acquire(std::chrono::hours::max()));
  lock.release();
  EXPECT_TRUE(lock.acquire(kInf));
  lock.release();
  EXPECT_TRUE(lock.acquire(std::chrono::nanoseconds::max()));
  // Held: the next acquire sleeps (an overflowed deadline would return at
  // once) until another thread releases the lock (a Lock has no owner).
  const long self = concur_test::CurrentTid();
  auto release_when_asleep = [&] {
    concur_test::AwaitSleeping(self);
    lock.release();
  };
  std::thread releaser(release_when_asleep);
  EXPECT_TRUE(lock.acquire(std::chrono::years::max()));
  releaser.join();
  std::thread again(release_when_asleep);
  EXPECT_TRUE(lock.try_lock_until(Steady::time_point::max()));
  again.join();
  lock.release();
  Event event;
  event.set();
  EXPECT_TRUE(event.wait(kInf));
  Semaphore sem(1);
  EXPECT_TRUE(sem.acquire(std::chrono::hours::max()));
}

// A time point in the far past (or min()) means "now": a held lock is not
// taken and the call returns at once, instead of overflowing into a wait of
// centuries.
TEST(BadInput, PastTimePointsOfEveryClockDoNotWait) {
  Lock lock;
  lock.acquire();
  const auto start = Steady::now();
  EXPECT_FALSE(lock.try_lock_until(Steady::time_point::min()));
  EXPECT_FALSE(
      lock.try_lock_until(std::chrono::system_clock::time_point::min()));
  EXPECT_FALSE(lock.try_lock_until(
      std::chrono::time_point<Steady, std::chrono::hours>::min()));
  EXPECT_FALSE(lock.try_lock_until(Steady::now() - 1h));
  RLock rlock;
  rlock.acquire();
  std::thread other(
      [&] { EXPECT_FALSE(rlock.try_lock_until(Steady::time_point::min())); });
  other.join();
  rlock.release();
  Semaphore sem(0);
  EXPECT_FALSE(
      sem.try_lock_until(std::chrono::system_clock::time_point::min()));
  EXPECT_LT(Steady::now() - start, 5s);
  lock.release();
  EXPECT_TRUE(lock.try_lock_until(Steady::time_point::min()));  // free: taken
  lock.release();
}

TEST(BadInput, ExtremeNegativeDurationsAreValueErrors) {
  Lock lock;
  EXPECT_THROW(static_cast<void>(lock.acquire(std::chrono::nanoseconds::min())),
               ValueError);
  EXPECT_THROW(static_cast<void>(lock.acquire(std::chrono::hours::min())),
               ValueError);
  // The Lockable forms clamp negatives to zero, as the standard's do.
  EXPECT_TRUE(lock.try_lock_for(std::chrono::hours::min()));
  lock.release();
}

TEST(BadInput, BarrierPartiesMustBePositive) {
  try {
    Barrier barrier(-1);
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "parties must be >= 1");
  }
  EXPECT_THROW(Barrier(0), ValueError);
  EXPECT_THROW(Barrier{std::numeric_limits<std::ptrdiff_t>::min()}, ValueError);
  EXPECT_THROW(Barrier(1, {}, -1ms), ValueError);
  Barrier one(1);
  EXPECT_EQ(one.parties(), 1u);
  EXPECT_EQ(one.wait(), 0u);
}

TEST(BadInput, NotifyWithANegativeCountWakesNobody) {
  Lock lock;
  Condition cond(lock);
  bool notified = false;
  std::atomic<long> tid{0};
  std::thread waiter([&] {
    std::scoped_lock hold(cond);
    tid = concur_test::CurrentTid();
    notified = cond.wait(1h);
  });
  // Once the waiter sleeps in wait(), it holds nothing.
  while (tid == 0) std::this_thread::yield();
  concur_test::AwaitSleeping(tid);
  {
    std::scoped_lock hold(cond);
    cond.notify(-1);  // Python: `while waiters and n > 0` wakes none
    cond.notify(0);
    cond.notify(std::numeric_limits<std::ptrdiff_t>::min());
  }
  // Still waiting: nobody took it off the list. Then a real notify.
  EXPECT_TRUE(concur_test::IsSleeping(tid));
  {
    std::scoped_lock hold(cond);
    cond.notify(1);
  }
  waiter.join();
  EXPECT_TRUE(notified);
}

TEST(BadInput, SemaphoreCountsAreChecked) {
  EXPECT_THROW(Semaphore(-1), ValueError);
  EXPECT_THROW(BoundedSemaphore(-1), ValueError);
  Semaphore sem(0);
  EXPECT_THROW(sem.release(0), ValueError);
  EXPECT_THROW(sem.release(-5), ValueError);
}

}  // namespace
