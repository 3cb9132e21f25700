// The header's promise that "no call here busy-waits while blocked": a
// thread blocked in any primitive ends up asleep in the kernel, not
// spinning. Linux-only, like the futex underneath: the kernel's view of a
// thread comes from /proc.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Barrier;
using concur::threading::Condition;
using concur::threading::Event;
using concur::threading::Lock;
using concur::threading::RLock;
using concur::threading::Semaphore;
using concur::threading::Thread;
using concur_test::IsSleeping;
using Clock = std::chrono::steady_clock;

// Runs `block` on a thread, and reports whether that thread, once it said
// it was about to block, is seen asleep within a generous bound (a spinning
// thread is never seen asleep). `unblock` then lets it finish.
template <class Block, class Unblock>
bool SleepsWhileBlocked(Block block, Unblock unblock) {
  std::atomic<long> tid{0};
  std::thread blocked([&] {
    tid = concur_test::CurrentTid();
    block();
  });
  while (tid == 0) std::this_thread::yield();
  bool slept = false;
  for (auto give_up = Clock::now() + 10s; !slept && Clock::now() < give_up;) {
    slept = IsSleeping(tid);
    std::this_thread::yield();
  }
  unblock();
  blocked.join();
  return slept;
}

TEST(Parking, BlockedLockAcquireSleeps) {
  Lock lock;
  lock.acquire();
  EXPECT_TRUE(SleepsWhileBlocked(
      [&] {
        lock.acquire();
        lock.release();
      },
      [&] { lock.release(); }));
}

TEST(Parking, BlockedRLockAcquireSleeps) {
  RLock rlock;
  rlock.acquire();
  EXPECT_TRUE(SleepsWhileBlocked(
      [&] {
        rlock.acquire();
        rlock.release();
      },
      [&] { rlock.release(); }));
}

TEST(Parking, ConditionWaitSleeps) {
  Condition cond;
  bool ready = false;  // guarded by cond
  EXPECT_TRUE(SleepsWhileBlocked(
      [&] {
        std::scoped_lock guard(cond);
        cond.wait_for([&] { return ready; });
      },
      [&] {
        std::scoped_lock guard(cond);
        ready = true;
        cond.notify();
      }));
}

TEST(Parking, BlockedSemaphoreAcquireSleeps) {
  Semaphore sem(0);
  EXPECT_TRUE(
      SleepsWhileBlocked([&] { sem.acquire(); }, [&] { sem.release(); }));
}

TEST(Parking, EventWaitSleeps) {
  Event event;
  EXPECT_TRUE(SleepsWhileBlocked([&] { event.wait(); }, [&] { event.set(); }));
}

TEST(Parking, TimedEventWaitSleeps) {
  Event event;
  EXPECT_TRUE(SleepsWhileBlocked([&] { EXPECT_TRUE(event.wait(1h)); },
                                 [&] { event.set(); }));
}

TEST(Parking, BarrierWaitSleeps) {
  Barrier barrier(2);
  EXPECT_TRUE(
      SleepsWhileBlocked([&] { barrier.wait(); }, [&] { barrier.wait(); }));
}

TEST(Parking, ThreadJoinSleeps) {
  Event finish;
  Thread worker([&] { finish.wait(); });
  worker.start();
  EXPECT_TRUE(
      SleepsWhileBlocked([&] { worker.join(); }, [&] { finish.set(); }));
}

}  // namespace
