// multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Event,
// Condition and Barrier, after CPython's _test_multiprocessing.py (_TestLock,
// _TestSemaphore, _TestCondition, _TestEvent, _TestBarrier): real child
// processes made with fork, real SIGKILLs, Gates and Reports instead of
// sleeps.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/bad_input.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;
using concur_test::ExpectInChild;
using concur_test::Gate;
using concur_test::HasUnreapedChildren;
using concur_test::Report;

// Runs body(process, thread) in `threads` threads of each of `processes`
// children, and expects every child to exit 0 (a body returns false to
// fail its child).
void InProcessesAndThreads(int processes, int threads,
                           const std::function<bool(int, int)>& body) {
  std::vector<mp::Process> children;
  for (int p = 0; p < processes; ++p) {
    children.emplace_back([p, threads, &body] {
      std::atomic<bool> ok{true};
      std::vector<concur::threading::Thread> workers;
      for (int t = 0; t < threads; ++t) {
        workers.emplace_back([p, t, &body, &ok] {
          if (!body(p, t)) ok = false;
        });
      }
      for (auto& w : workers) w.start();
      for (auto& w : workers) w.join();
      concur::sys::exit(ok ? 0 : 1);
    });
  }
  for (auto& c : children) c.start();
  for (auto& c : children) {
    c.join();
    EXPECT_EQ(c.exitcode(), 0);
  }
}

// Expects call() to throw E whose what() is `message`.
template <class E, class Call>
void ExpectThrowWithMessage(Call call, const char* message) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const E& e) {
    EXPECT_STREQ(e.what(), message);
  }
}

// Expects call() to throw OwnerDiedError naming `pid`; returns the error's
// what(), empty if none was thrown.
template <class Call>
std::string ExpectOwnerDied(Call call, pid_t pid) {
  try {
    call();
    ADD_FAILURE() << "no OwnerDiedError";
  } catch (const mp::OwnerDiedError& e) {
    EXPECT_EQ(e.pid(), pid);
    EXPECT_STREQ(e.type_name(), "OwnerDiedError");
    return e.what();
  }
  return {};
}

// Whether release() throws RuntimeError, as it does in a thread or process
// that does not hold the lock.
template <class AnyLock>
bool ReleaseIsRefused(AnyLock& lock) {
  try {
    lock.release();
  } catch (const concur::RuntimeError&) {
    return true;
  }
  return false;
}

// Starts a child that takes `lock` `depth` times, waits for `gate`, and
// releases it as often; returns the child once it holds the lock, which
// this process then cannot take.
template <class AnyLock>
mp::Process StartHolder(AnyLock& lock, const Gate& gate, int depth = 1) {
  Report report;
  mp::Process p([&lock, &gate, &report, depth] {
    for (int i = 0; i < depth; ++i) lock.acquire();
    report.send("held");
    gate.wait();
    for (int i = 0; i < depth; ++i) lock.release();
  });
  p.start();
  EXPECT_EQ(report.receive(), "held");
  EXPECT_FALSE(lock.acquire(false));
  return p;
}

// ---------------------------------------------------------------------------
// Lock

TEST(Lock, AcquireReleaseAndLocked) {
  mp::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  // Not re-entrant: the holder's own non-blocking and timed tries fail.
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(10ms));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
  EXPECT_TRUE(lock.acquire(0s));
  lock.release();
}

TEST(Lock, CopiesAreTheSameLock) {
  mp::Lock a;
  mp::Lock b = a;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == mp::Lock());
  a.acquire();
  EXPECT_TRUE(b.locked());
  b.release();
  EXPECT_FALSE(a.locked());
}

TEST(Lock, HeldInTheParentIsHeldInTheChild) {
  mp::Lock lock;
  lock.acquire();
  ExpectInChild([lock]() mutable {
    return lock.locked() && !lock.acquire(false) && !lock.acquire(20ms);
  });
  lock.release();
  ExpectInChild([lock]() mutable {
    if (!lock.acquire(false)) return false;
    lock.release();
    return true;
  });
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ReleaseInTheChildWakesTheParent) {
  mp::Lock lock;
  Gate gate;
  mp::Process p = StartHolder(lock, gate);
  gate.open();
  EXPECT_TRUE(lock.acquire(10s));
  lock.release();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Lock, ReleaseMisuse) {
  mp::Lock lock;
  ExpectThrowWithMessage<concur::ValueError>(
      [&] { lock.release(); }, "semaphore or lock released too many times");
  lock.acquire();
  concur::threading::Thread other(
      [&] { EXPECT_THROW(lock.release(), concur::RuntimeError); });
  other.start();
  other.join();
  ExpectInChild([lock]() mutable { return ReleaseIsRefused(lock); });
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST(Lock, BadTimeouts) {
  mp::Lock lock;
  EXPECT_THROW(static_cast<void>(lock.acquire(-1ms)), concur::ValueError);
  concur_test::ExpectNaNRejected(
      [&] { static_cast<void>(lock.acquire(concur_test::kNaN)); },
      "Lock.acquire(NaN)");
  EXPECT_TRUE(lock.try_lock_for(-1ms));  // Lockable: negative means "now"
  lock.unlock();
}

TEST(Lock, Lockable) {
  mp::Lock a;
  mp::Lock b;
  {
    std::scoped_lock both(a, b);
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  EXPECT_FALSE(a.locked());
  {
    std::unique_lock guard(a, std::defer_lock);
    EXPECT_TRUE(guard.try_lock_until(std::chrono::steady_clock::now() + 1s));
  }
  EXPECT_FALSE(a.locked());
}

TEST(Lock, KilledHolderGivesOwnerDiedErrorThenTheLock) {
  mp::Lock lock;
  Gate never;
  mp::Process p = StartHolder(lock, never);
  p.kill();
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGKILL);
  const std::string text =
      ExpectOwnerDied([&] { static_cast<void>(lock.acquire(10s)); }, *p.pid());
  EXPECT_NE(text.find("pid " + std::to_string(*p.pid())), std::string::npos)
      << text;
  EXPECT_NE(text.find("died while holding it"), std::string::npos) << text;
  // Free now: a retry takes it, and it works as before.
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(10s));
  lock.release();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
  EXPECT_FALSE(HasUnreapedChildren());
}

TEST(Lock, OwnerDiedErrorIsAProcessError) {
  mp::Lock lock;
  mp::Process p([&] {
    lock.acquire();
    std::_Exit(0);  // exits holding it
  });
  p.start();
  p.join();
  EXPECT_THROW(lock.acquire(), mp::ProcessError);
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, ThreadThatEndsHoldingItGivesOwnerDiedError) {
  mp::Lock lock;
  concur::threading::Thread t([&] { lock.acquire(); });
  t.start();
  t.join();
  ExpectOwnerDied([&] { lock.acquire(); }, ::getpid());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, ProcessesAndThreadsCountExactly) {
  mp::Lock lock;
  mp::RawValue<std::int64_t> counter(0);
  constexpr int kEach = 10000;
  InProcessesAndThreads(4, 2, [&](int, int) {
    for (int i = 0; i < kEach; ++i) {
      std::scoped_lock guard(lock);
      counter.get() = counter.get() + 1;  // plain access, under the lock
    }
    return true;
  });
  EXPECT_EQ(counter.value(), 4 * 2 * kEach);
}

// ---------------------------------------------------------------------------
// RLock

TEST(RLock, ReentersAndCounts) {
  mp::RLock lock;
  EXPECT_FALSE(lock.is_owned());
  lock.acquire();
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(10ms));
  EXPECT_EQ(lock.recursion_count(), 3u);
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.recursion_count(), 0u);
}

TEST(RLock, OnlyTheOwnerReleases) {
  mp::RLock lock;
  ExpectThrowWithMessage<concur::RuntimeError>(
      [&] { lock.release(); }, "cannot release un-acquired lock");
  lock.acquire();
  concur::threading::Thread other([&] {
    EXPECT_FALSE(lock.is_owned());
    EXPECT_FALSE(lock.acquire(false));
    EXPECT_THROW(lock.release(), concur::RuntimeError);
  });
  other.start();
  other.join();
  // A child does not inherit the ownership.
  ExpectInChild([lock]() mutable {
    return !lock.is_owned() && !lock.acquire(10ms) && ReleaseIsRefused(lock);
  });
  lock.release();
  ExpectInChild([lock]() mutable {
    lock.acquire();
    lock.acquire();
    bool ok = lock.recursion_count() == 2;
    lock.release();
    lock.release();
    return ok && !lock.locked();
  });
}

TEST(RLock, KilledHolderGivesOwnerDiedErrorThenTheLock) {
  mp::RLock lock;
  Gate never;
  mp::Process p = StartHolder(lock, never, 2);
  p.kill();
  p.join();
  ExpectOwnerDied([&] { static_cast<void>(lock.acquire(false)); }, *p.pid());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_EQ(lock.recursion_count(), 1u);
  lock.release();
  EXPECT_FALSE(lock.locked());
}

// ---------------------------------------------------------------------------
// Semaphore, BoundedSemaphore

TEST(Semaphore, CountsDownAndUp) {
  mp::Semaphore sem(2);
  EXPECT_EQ(sem.get_value(), 2u);
  EXPECT_TRUE(sem.acquire());
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_EQ(sem.get_value(), 0u);
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(10ms));
  sem.release();
  EXPECT_EQ(sem.get_value(), 1u);
  sem.release(3);
  EXPECT_EQ(sem.get_value(), 4u);
  // Unbounded: past the initial value is fine.
  EXPECT_EQ(mp::Semaphore(0).get_value(), 0u);
}

TEST(Semaphore, BadValues) {
  EXPECT_THROW(mp::Semaphore(-1), concur::ValueError);
  EXPECT_THROW(mp::BoundedSemaphore(-1), concur::ValueError);
  mp::Semaphore sem(0);
  EXPECT_THROW(sem.release(0), concur::ValueError);
  EXPECT_THROW(static_cast<void>(sem.acquire(-1s)), concur::ValueError);
  mp::BoundedSemaphore bounded(2);
  EXPECT_TRUE(bounded.acquire());
  bounded.release();
  ExpectThrowWithMessage<concur::ValueError>(
      [&] { bounded.release(); }, "semaphore or lock released too many times");
  EXPECT_EQ(bounded.get_value(), 2u);
}

TEST(Semaphore, ReleaseInAChildWakesTheParentAndBack) {
  mp::Semaphore to_parent(0);
  mp::Semaphore to_child(0);
  mp::Process p([&] {
    for (int i = 0; i < 100; ++i) {
      to_parent.release();
      to_child.acquire();
    }
  });
  p.start();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(to_parent.acquire(10s));
    to_child.release();
  }
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Semaphore, BoundsConcurrencyAcrossProcesses) {
  constexpr int kLimit = 3;
  mp::BoundedSemaphore sem(kLimit);
  mp::RawValue<int> inside(0);
  mp::RawValue<int> most(0);
  InProcessesAndThreads(4, 2, [&](int, int) {
    for (int i = 0; i < 300; ++i) {
      std::scoped_lock guard(sem);
      const int now = inside.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange(seen, now)) {
      }
      if (now > kLimit) return false;
      inside.fetch_sub(1);
    }
    return true;
  });
  EXPECT_GE(most.value(), 1);
  EXPECT_LE(most.value(), kLimit);
  EXPECT_EQ(inside.value(), 0);
  EXPECT_EQ(sem.get_value(), static_cast<std::uint32_t>(kLimit));
}

// ---------------------------------------------------------------------------
// Event

TEST(Event, SetClearWait) {
  mp::Event e;
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(0s));
  EXPECT_FALSE(e.wait(10ms));
  e.set();
  EXPECT_TRUE(e.is_set());
  EXPECT_TRUE(e.wait());
  EXPECT_TRUE(e.wait(0s));
  e.set();
  e.clear();
  EXPECT_FALSE(e.is_set());
  EXPECT_FALSE(e.wait(1ms));
  EXPECT_THROW(static_cast<void>(e.wait(-1ms)), concur::ValueError);
  concur_test::ExpectNaNRejected(
      [&] { static_cast<void>(e.wait(concur_test::kNaN)); }, "Event.wait");
}

TEST(Event, SetWakesWaitersInEveryProcess) {
  mp::Event go;
  mp::Semaphore ready(0);
  std::vector<mp::Process> children;
  for (int i = 0; i < 4; ++i) {
    children.emplace_back([&] {
      ready.release();
      concur::sys::exit(go.wait(30s) && go.is_set() ? 0 : 1);
    });
  }
  for (auto& c : children) c.start();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ready.acquire(10s));
  go.set();
  for (auto& c : children) {
    c.join();
    EXPECT_EQ(c.exitcode(), 0);
  }
  ExpectInChild([go]() mutable { return go.is_set(); });
}

TEST(Event, ChildTimesOutAndSeesAClear) {
  mp::Event e;
  ExpectInChild([e]() mutable { return !e.wait(20ms) && !e.is_set(); });
  e.set();
  ExpectInChild([e]() mutable {
    const bool was = e.wait(0s);
    e.clear();
    return was;
  });
  EXPECT_FALSE(e.is_set());
}

// ---------------------------------------------------------------------------
// Condition

TEST(Condition, NeedsTheLock) {
  mp::Condition cond;
  EXPECT_THROW(static_cast<void>(cond.wait(1ms)), concur::RuntimeError);
  EXPECT_THROW(cond.notify(), concur::RuntimeError);
  EXPECT_THROW(cond.notify_all(), concur::RuntimeError);
  mp::Lock lock;
  mp::Condition over_lock(lock);
  EXPECT_THROW(over_lock.notify(), concur::RuntimeError);
  // Held by another thread is not held by us (a multiprocessing Lock knows
  // its holder).
  lock.acquire();
  concur::threading::Thread other(
      [&] { EXPECT_THROW(over_lock.notify(), concur::RuntimeError); });
  other.start();
  other.join();
  over_lock.notify();  // nobody waits: nothing happens
  lock.release();
}

TEST(Condition, WaitTimesOutWithTheLockHeld) {
  mp::Condition cond;
  std::scoped_lock guard(cond);
  EXPECT_FALSE(cond.wait(10ms));
  EXPECT_FALSE(cond.wait_for([] { return false; }, 10ms));
  EXPECT_TRUE(cond.wait_for([] { return true; }, 0s));
  EXPECT_THROW(static_cast<void>(cond.wait(-1ms)), concur::ValueError);
  cond.notify(5);  // nobody waits
}

TEST(Condition, NotifyWakesOneThenTheRest) {
  mp::Lock lock;
  mp::Condition cond(lock);
  mp::RawValue<int> woken(0);
  Report report;
  constexpr int kWaiters = 3;
  std::vector<mp::Process> children;
  for (int i = 0; i < kWaiters; ++i) {
    children.emplace_back([&] {
      std::scoped_lock guard(cond);
      report.send("in");
      cond.wait();
      woken.get() += 1;
      report.send("woke");
    });
  }
  for (auto& c : children) c.start();
  for (int i = 0; i < kWaiters; ++i) ASSERT_EQ(report.receive(), "in");
  {
    // Taking the lock means every waiter has released it in wait().
    std::scoped_lock guard(cond);
    cond.notify();
  }
  EXPECT_EQ(report.receive(), "woke");
  {
    std::scoped_lock guard(cond);
    EXPECT_EQ(woken.get(), 1);
    cond.notify(2);
  }
  EXPECT_EQ(report.receive(), "woke");
  EXPECT_EQ(report.receive(), "woke");
  for (auto& c : children) {
    c.join();
    EXPECT_EQ(c.exitcode(), 0);
  }
  EXPECT_EQ(woken.value(), kWaiters);
}

TEST(Condition, NotifyAllWakesEveryThreadOfEveryProcess) {
  mp::Condition cond;  // over its own RLock
  mp::RawValue<int> waiting(0);
  mp::RawValue<int> go(0);
  mp::Semaphore in(0);
  std::vector<mp::Process> children;
  constexpr int kProcesses = 3;
  constexpr int kThreads = 2;
  for (int i = 0; i < kProcesses; ++i) {
    children.emplace_back([&] {
      std::vector<concur::threading::Thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
          std::scoped_lock guard(cond);
          cond.acquire();  // re-entered: wait releases both levels
          waiting.get() += 1;
          in.release();
          cond.wait_for([&] { return go.get() != 0; });
          waiting.get() -= 1;
          cond.release();
        });
      }
      for (auto& t : threads) t.start();
      for (auto& t : threads) t.join();
    });
  }
  for (auto& c : children) c.start();
  for (int i = 0; i < kProcesses * kThreads; ++i) ASSERT_TRUE(in.acquire(10s));
  {
    std::scoped_lock guard(cond);
    EXPECT_EQ(waiting.get(), kProcesses * kThreads);
    go.get() = 1;
    cond.notify_all();
  }
  for (auto& c : children) {
    c.join();
    EXPECT_EQ(c.exitcode(), 0);
  }
  EXPECT_EQ(waiting.value(), 0);
}

TEST(Condition, KilledWaiterDoesNotSwallowANotify) {
  mp::Condition cond;
  Report report;
  mp::Process doomed([&] {
    std::scoped_lock guard(cond);
    report.send("in");
    cond.wait();
  });
  doomed.start();
  ASSERT_EQ(report.receive(), "in");
  { std::scoped_lock guard(cond); }  // doomed is waiting now
  doomed.kill();
  doomed.join();
  mp::Process survivor([&] {
    std::scoped_lock guard(cond);
    report.send("in");
    report.send(cond.wait(30s) ? "notified" : "timed out");
  });
  survivor.start();
  ASSERT_EQ(report.receive(), "in");
  {
    std::scoped_lock guard(cond);
    cond.notify();  // the oldest waiter is dead: the survivor gets it
  }
  EXPECT_EQ(report.receive(), "notified");
  survivor.join();
  EXPECT_EQ(survivor.exitcode(), 0);
  EXPECT_FALSE(HasUnreapedChildren());
}

TEST(Condition, ProducerConsumerAcrossProcesses) {
  mp::Condition cond;
  mp::RawValue<int> items(0);
  constexpr int kEach = 500;
  constexpr int kProducers = 2;
  std::vector<mp::Process> producers;
  for (int i = 0; i < kProducers; ++i) {
    producers.emplace_back([&] {
      for (int n = 0; n < kEach; ++n) {
        std::scoped_lock guard(cond);
        items.get() += 1;
        cond.notify();
      }
    });
  }
  for (auto& p : producers) p.start();
  int taken = 0;
  while (taken < kProducers * kEach) {
    std::scoped_lock guard(cond);
    ASSERT_TRUE(cond.wait_for([&] { return items.get() > 0; }, 10s));
    taken += items.get();
    items.get() = 0;
  }
  for (auto& p : producers) {
    p.join();
    EXPECT_EQ(p.exitcode(), 0);
  }
  EXPECT_EQ(taken, kProducers * kEach);
}

// ---------------------------------------------------------------------------
// Barrier

TEST(Barrier, BadArguments) {
  EXPECT_THROW(mp::Barrier(0), concur::ValueError);
  EXPECT_THROW(mp::Barrier(-1), concur::ValueError);
  EXPECT_THROW(mp::Barrier(2000), concur::ValueError);
  EXPECT_THROW(mp::Barrier(2, {}, std::chrono::milliseconds(-1)),
               concur::ValueError);
  mp::Barrier one(1);
  EXPECT_EQ(one.parties(), 1u);
  EXPECT_EQ(one.wait(), 0u);
  EXPECT_EQ(one.wait(), 0u);
  EXPECT_FALSE(one.broken());
}

TEST(Barrier, ManyRoundsAcrossProcessesAndThreads) {
  constexpr int kProcesses = 4;
  constexpr int kThreads = 2;
  constexpr int kParties = kProcesses * kThreads;
  constexpr int kRounds = 100;
  mp::RawValue<int> actions(0);
  mp::Barrier barrier(kParties, [&] { actions.fetch_add(1); });
  mp::RawValue<int> arrivals(0);
  mp::RawArray<int> index_sums(kRounds);
  InProcessesAndThreads(kProcesses, kThreads, [&](int, int) {
    for (int r = 0; r < kRounds; ++r) {
      arrivals.fetch_add(1);
      const std::size_t index = barrier.wait(30s);
      if (index >= kParties) return false;
      index_sums.atomic(r).fetch_add(static_cast<int>(index));
      const int now = arrivals.load();
      // Everyone arrived for this round; nobody passed the next one.
      if (now < (r + 1) * kParties || now > (r + 2) * kParties) return false;
      if (actions.load() < r + 1) return false;  // the action ran first
    }
    return true;
  });
  EXPECT_EQ(actions.value(), kRounds);
  for (int r = 0; r < kRounds; ++r) {
    EXPECT_EQ(index_sums[r], kParties * (kParties - 1) / 2) << "round " << r;
  }
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(Barrier, TimeoutBreaksItAndResetRepairs) {
  mp::Barrier barrier(2);
  EXPECT_THROW(barrier.wait(10ms), mp::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), mp::BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  mp::Process p([&] { concur::sys::exit(barrier.wait(10s) <= 1 ? 0 : 1); });
  p.start();
  EXPECT_LE(barrier.wait(10s), 1u);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);

  mp::Barrier with_default(2, {}, 10ms);
  EXPECT_THROW(with_default.wait(), mp::BrokenBarrierError);
  EXPECT_TRUE(with_default.broken());
}

TEST(Barrier, AbortAndResetReachAWaitingChild) {
  for (bool abort : {true, false}) {
    mp::Barrier barrier(3);
    Report report;
    mp::Process p([&] {
      try {
        static_cast<void>(barrier.wait(30s));
        report.send("passed");
      } catch (const mp::BrokenBarrierError&) {
        report.send("broken");
      }
    });
    p.start();
    // Wait until the child is in the cycle (n_waiting takes the lock).
    while (barrier.n_waiting() != 1) {
      std::this_thread::yield();
    }
    if (abort) {
      barrier.abort();
    } else {
      barrier.reset();
    }
    EXPECT_EQ(report.receive(), "broken");
    p.join();
    EXPECT_EQ(barrier.broken(), abort);
  }
}

TEST(Barrier, ThrowingActionBreaksIt) {
  mp::Barrier barrier(2, [] { throw concur::ValueError("action failed"); });
  Report report;
  mp::Process p([&] {
    try {
      static_cast<void>(barrier.wait(30s));
      report.send("passed");
    } catch (const mp::BrokenBarrierError&) {
      report.send("broken");
    } catch (const concur::ValueError&) {
      report.send("action");
    }
  });
  p.start();
  std::string mine;
  try {
    static_cast<void>(barrier.wait(30s));
    mine = "passed";
  } catch (const mp::BrokenBarrierError&) {
    mine = "broken";
  } catch (const concur::ValueError&) {
    mine = "action";
  }
  const std::string theirs = report.receive();
  p.join();
  // Whoever arrived last ran the action and saw it throw; the other broke.
  EXPECT_TRUE((mine == "action" && theirs == "broken") ||
              (mine == "broken" && theirs == "action"))
      << mine << " / " << theirs;
  EXPECT_TRUE(barrier.broken());
}

TEST(Synchronize, NoZombiesLeft) { EXPECT_FALSE(HasUnreapedChildren()); }

}  // namespace
