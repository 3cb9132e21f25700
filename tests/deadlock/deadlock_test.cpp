// The deadlock detector: lock-order cycles reported whether or not the run
// hung, no report for one consistent order, and raise mode turning a real
// deadlock into DeadlockError in exactly one thread.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sanitized.hpp"
#include "concur/deadlock.hpp"
#include "concur/errors.hpp"
#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

namespace deadlock = concur::deadlock;
using concur::threading::Lock;
using concur::threading::RLock;
using concur::threading::Thread;
using concur::threading::ThreadOptions;
using namespace std::chrono_literals;

// Collects the reports and restores the previous mode and handler.
class Reports {
 public:
  explicit Reports(deadlock::Mode mode) : old_mode_(deadlock::mode()) {
    old_handler_ = deadlock::set_handler([this](const deadlock::Report& r) {
      std::lock_guard guard(mu_);
      reports_.push_back(r);
    });
    deadlock::set_mode(mode);
  }
  ~Reports() {
    deadlock::set_mode(old_mode_);
    deadlock::set_handler(old_handler_);
  }
  Reports(const Reports&) = delete;
  Reports& operator=(const Reports&) = delete;

  std::vector<deadlock::Report> take() {
    std::lock_guard guard(mu_);
    return reports_;
  }
  // The reports of one kind.
  std::vector<deadlock::Report> of(deadlock::Finding finding) {
    std::vector<deadlock::Report> found;
    for (deadlock::Report& r : take()) {
      if (r.finding == finding) found.push_back(std::move(r));
    }
    return found;
  }

 private:
  deadlock::Mode old_mode_;
  deadlock::Handler old_handler_;
  std::mutex mu_;
  std::vector<deadlock::Report> reports_;
};

void in_order(Lock& first, Lock& second) {
  first.acquire();
  second.acquire();
  second.release();
  first.release();
}

TEST(Detector, ABBAIsReportedWithoutHanging) {
  Reports reports(deadlock::Mode::kReport);
  Lock a("a");
  Lock b("b");
  Thread t1([&] { in_order(a, b); });
  t1.start();
  t1.join();
  Thread t2([&] { in_order(b, a); });
  t2.start();
  t2.join();
  const auto got = reports.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].finding, deadlock::Finding::kLockOrderCycle);
  ASSERT_EQ(got[0].cycle.size(), 2u);
  EXPECT_EQ(got[0].cycle[0].held, "b");
  EXPECT_EQ(got[0].cycle[0].wanted, "a");
  EXPECT_EQ(got[0].cycle[1].held, "a");
  EXPECT_EQ(got[0].cycle[1].wanted, "b");
  EXPECT_NE(got[0].message.find("deadlock_test.cpp:"), std::string::npos)
      << got[0].message;
}

TEST(Detector, OneOrderEverywhereIsNoReport) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  Lock b;
  Lock c;
  std::vector<Thread> threads;
  threads.reserve(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 1000; ++n) {
        in_order(a, b);
        in_order(b, c);
        in_order(a, c);
      }
    });
  }
  for (Thread& t : threads) t.start();
  for (Thread& t : threads) t.join();
  EXPECT_TRUE(reports.take().empty());
}

TEST(Detector, ReentryAndNonBlockingAcquisitionsOrderNothing) {
  Reports reports(deadlock::Mode::kReport);
  RLock r;
  Lock a;
  r.acquire();
  r.acquire();
  a.acquire();
  r.release();
  r.release();
  ASSERT_TRUE(r.acquire(false));  // while holding a: no edge a -> r
  r.release();
  a.release();
  EXPECT_TRUE(reports.take().empty());
}

// Two threads each take one lock, meet, and then take the other's lock
// through their `take` (which returns whether it got it): a real deadlock,
// unless the detector or a timeout breaks it.
struct Outcome {
  int raised = 0;    // DeadlockError
  int finished = 0;  // took the second lock
};
template <class TakeA, class TakeB>
Outcome deadlocked_transfers(Lock& a, Lock& b, TakeA take_a, TakeB take_b) {
  concur::threading::Barrier both(2);
  std::atomic<int> raised{0};
  std::atomic<int> finished{0};
  auto transfer = [&](Lock& mine, Lock& theirs, auto take) {
    std::unique_lock hold(mine);
    static_cast<void>(both.wait());
    try {
      if (take(theirs)) {
        theirs.release();
        finished.fetch_add(1);
      }
    } catch (const concur::DeadlockError&) {
      raised.fetch_add(1);
    }
  };
  Thread t1([&] { transfer(a, b, take_a); });
  Thread t2([&] { transfer(b, a, take_b); });
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  return {raised.load(), finished.load()};
}

bool take_blocking(Lock& lock) { return lock.acquire(); }

TEST(Detector, RaiseModeBreaksARealDeadlockInOneThread) {
  Reports reports(deadlock::Mode::kRaise);
  Lock a("a");
  Lock b("b");
  const Outcome got = deadlocked_transfers(a, b, take_blocking, take_blocking);
  EXPECT_EQ(got.raised, 1);
  EXPECT_EQ(got.finished, 1);
  const auto found = reports.of(deadlock::Finding::kDeadlock);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].cycle.size(), 2u);
  EXPECT_THAT(found[0].message, testing::HasSubstr("waits for lock"));
}

TEST(Detector, ATimedWaitTakesPartInALiveDeadlock) {
  Reports reports(deadlock::Mode::kRaise);
  Lock a("a");
  Lock b("b");
  // Far longer than the test: only the detector can end these waits.
  auto take_timed = [](Lock& lock) { return lock.acquire(1h); };
  const Outcome got = deadlocked_transfers(a, b, take_timed, take_timed);
  EXPECT_EQ(got.raised, 1);
  EXPECT_EQ(got.finished, 1);
}

TEST(Detector, ReportModeLetsARealDeadlockBeAndReportsIt) {
  // In report mode the wait is reported and goes on; the second thread's
  // timeout breaks the deadlock.
  Reports reports(deadlock::Mode::kReport);
  Lock a("a");
  Lock b("b");
  const Outcome got = deadlocked_transfers(
      a, b, [](Lock& lock) { return lock.acquire(1h); },
      [](Lock& lock) { return lock.acquire(200ms); });
  EXPECT_EQ(got.raised, 0);
  EXPECT_EQ(got.finished, 1);  // the other timed out
  EXPECT_EQ(reports.of(deadlock::Finding::kDeadlock).size(), 1u);
}

TEST(Detector, AThreeLockCycleAcrossThreeThreadsNamesEveryLink) {
  Reports reports(deadlock::Mode::kReport);
  Lock a("a");
  Lock b("b");
  Lock c("c");
  const std::array<std::pair<Lock*, Lock*>, 3> orders{
      {{&a, &b}, {&b, &c}, {&c, &a}}};
  for (int i = 0; i < 3; ++i) {
    Thread t(ThreadOptions{.name = "t" + std::to_string(i + 1)},
             [&, i] { in_order(*orders[i].first, *orders[i].second); });
    t.start();
    t.join();
  }
  const auto got = reports.of(deadlock::Finding::kLockOrderCycle);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].cycle.size(), 3u);
  // The closing edge first (t3: c -> a), then the path back round.
  EXPECT_EQ(got[0].cycle[0].thread, "t3");
  EXPECT_EQ(got[0].cycle[0].held, "c");
  EXPECT_EQ(got[0].cycle[0].wanted, "a");
  EXPECT_EQ(got[0].cycle[1].thread, "t1");
  EXPECT_EQ(got[0].cycle[1].wanted, "b");
  EXPECT_EQ(got[0].cycle[2].thread, "t2");
  EXPECT_EQ(got[0].cycle[2].wanted, "c");
  EXPECT_THAT(got[0].message, testing::HasSubstr("thread \"t2\" holds lock b"));
}

TEST(Detector, AThreadRenamedAfterItsFirstLocksIsReportedByItsNewName) {
  Reports reports(deadlock::Mode::kReport);
  Lock a("a");
  Lock b("b");
  Lock c("c");
  Thread t(ThreadOptions{.name = "before"}, [&] {
    in_order(a, c);  // the detector reads the name here
    concur::threading::current_thread().set_name("after");
    in_order(b, a);
  });
  t.start();
  t.join();
  in_order(a, b);
  const auto got = reports.of(deadlock::Finding::kLockOrderCycle);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].cycle.size(), 2u);
  EXPECT_EQ(got[0].cycle[0].thread, "MainThread");
  EXPECT_EQ(got[0].cycle[1].thread, "after");
}

TEST(Detector, AnUnnamedLockIsNamedByWhereItWasMade) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  const int line = __LINE__ - 1;
  Lock b("b");
  in_order(a, b);
  in_order(b, a);
  const auto got = reports.of(deadlock::Finding::kLockOrderCycle);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].message, testing::HasSubstr("made at deadlock_test.cpp:" +
                                                 std::to_string(line)));
}

TEST(Detector, EachCycleIsReportedOnce) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  Lock b;
  for (int i = 0; i < 100; ++i) {
    in_order(a, b);
    in_order(b, a);
  }
  EXPECT_EQ(reports.take().size(), 1u);
}

TEST(Detector, TimedAcquisitionsOrderLocks) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  Lock b;
  ASSERT_TRUE(a.acquire(1s));
  ASSERT_TRUE(b.acquire(1s));
  b.release();
  a.release();
  EXPECT_TRUE(reports.take().empty());
  std::unique_lock hold_b(b, std::defer_lock);
  ASSERT_TRUE(hold_b.try_lock_for(1s));
  ASSERT_TRUE(a.try_lock_until(std::chrono::steady_clock::now() + 1s));
  a.release();
  EXPECT_EQ(reports.of(deadlock::Finding::kLockOrderCycle).size(), 1u);
}

TEST(Detector, DestroyedLocksLeaveTheGraph) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  for (int i = 0; i < 1000; ++i) {
    // Each b may reuse the last one's memory; the edge a -> b must not
    // carry over to the next b, or b -> a would look like a cycle.
    std::optional<Lock> b;
    b.emplace();
    if (i % 2 == 0) {
      in_order(a, *b);
    } else {
      in_order(*b, a);
    }
  }
  EXPECT_TRUE(reports.take().empty());
}

TEST(Detector, ALockReleasedByAnotherThreadIsASignalNotAnOrder) {
  Reports reports(deadlock::Mode::kReport);
  Lock signal("signal");
  Lock other("other");
  signal.acquire();
  Thread releaser([&] { signal.release(); });  // legal for a Lock
  releaser.start();
  releaser.join();
  // Used as a signal from now on: taken in both orders, never reported.
  in_order(signal, other);
  in_order(other, signal);
  EXPECT_TRUE(reports.take().empty());
}

TEST(Detector, AConditionsLockTakesPartAndWaitGivesItUp) {
  Reports reports(deadlock::Mode::kReport);
  Lock outer("outer");
  Lock inner("inner");
  concur::threading::Condition cond(inner);
  {
    std::scoped_lock hold(outer);
    std::unique_lock cond_hold(cond);
    // Gives inner up and takes it back: still outer -> inner, no new order.
    EXPECT_FALSE(cond.wait(1ms));
  }
  EXPECT_TRUE(reports.take().empty());
  {
    std::unique_lock cond_hold(cond);
    std::scoped_lock hold(outer);  // inner -> outer: the cycle
  }
  EXPECT_EQ(reports.of(deadlock::Finding::kLockOrderCycle).size(), 1u);
}

TEST(Detector, ManyThreadsOneOrderAMillionAcquisitionsNoFalsePositive) {
  Reports reports(deadlock::Mode::kRaise);
  constexpr int kLocks = 8;
  constexpr int kThreads = 4;
  const int rounds = concur_test::kSanitized ? 20'000 : 250'000;
  std::array<Lock, kLocks> locks;
  std::atomic<long> acquisitions{0};
  std::vector<Thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::minstd_rand random(static_cast<unsigned>(t) + 1);
      long taken = 0;
      for (int n = 0; n < rounds;) {
        // A random subset, always taken in index order, by any form.
        const unsigned subset = random() % (1u << kLocks);
        std::array<bool, kLocks> held{};
        for (int i = 0; i < kLocks && n < rounds; ++i) {
          if ((subset & (1u << i)) == 0) continue;
          switch (random() % 3) {
            case 0:
              locks[i].acquire();
              held[i] = true;
              break;
            case 1:
              held[i] = locks[i].acquire(10s);
              break;
            default:
              held[i] = locks[i].acquire(false);
              break;
          }
          if (held[i]) ++n, ++taken;
        }
        for (int i = kLocks - 1; i >= 0; --i) {
          if (held[i]) locks[i].release();
        }
      }
      acquisitions.fetch_add(taken);
    });
  }
  for (Thread& t : threads) t.start();
  for (Thread& t : threads) t.join();
  EXPECT_EQ(acquisitions.load(), long{kThreads} * rounds);
  EXPECT_TRUE(reports.take().empty());
}

TEST(Misuse, ReleasingAnUnheldLockIsReportedAndRaises) {
  Reports reports(deadlock::Mode::kReport);
  Lock lock;
  EXPECT_THROW(lock.release(), concur::RuntimeError);
  RLock rlock;
  EXPECT_THROW(rlock.release(), concur::RuntimeError);
  EXPECT_EQ(reports.of(deadlock::Finding::kReleaseUnheld).size(), 2u);
}

TEST(Misuse, DestroyingAHeldLockIsReported) {
  Reports reports(deadlock::Mode::kReport);
  {
    Lock lock("doomed");
    lock.acquire();
  }
  const auto got = reports.of(deadlock::Finding::kDestroyHeld);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].message, testing::HasSubstr("destroyed while held"));
}

TEST(Misuse, AThreadThatEndsHoldingALockIsReported) {
  Reports reports(deadlock::Mode::kReport);
  Lock lock("kept");
  Thread t(ThreadOptions{.name = "keeper"}, [&] { lock.acquire(); });
  t.start();
  t.join();
  const auto got = reports.of(deadlock::Finding::kThreadEndsHolding);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_THAT(got[0].message, testing::HasSubstr("\"keeper\""));
  EXPECT_THAT(got[0].message, testing::HasSubstr("lock kept"));
  lock.release();  // any thread may release a Lock
}

TEST(Misuse, JoiningTheCurrentThreadIsReportedAndRaises) {
  Reports reports(deadlock::Mode::kReport);
  Thread self;
  concur::threading::Event made;
  std::atomic<bool> raised{false};
  self = Thread([&] {
    made.wait();
    try {
      self.join();
    } catch (const concur::RuntimeError&) {
      raised = true;
    }
  });
  self.start();
  made.set();
  self.join();
  EXPECT_TRUE(raised.load());
  EXPECT_EQ(reports.of(deadlock::Finding::kJoinSelf).size(), 1u);
}

TEST(Misuse, ATaskWaitingForItsOwnFutureGetsDeadlockError) {
  Reports reports(deadlock::Mode::kRaise);
  concur::futures::ThreadPoolExecutor pool(1);
  std::optional<concur::futures::Future<int>> self;
  concur::threading::Event known;
  auto future = pool.submit([&] {
    known.wait();
    return self->result();  // itself: could never finish
  });
  self = future;
  known.set();
  EXPECT_THROW(static_cast<void>(future.result()), concur::DeadlockError);
  EXPECT_EQ(reports.of(deadlock::Finding::kWaitOnOwnFuture).size(), 1u);
}

TEST(Misuse, ATaskWaitingForATaskBeneathItOnItsWorkerGetsDeadlockError) {
  Reports reports(deadlock::Mode::kRaise);
  concur::futures::ThreadPoolExecutor pool(1);
  std::optional<concur::futures::Future<int>> outer;
  concur::threading::Event known;
  auto future = pool.submit([&] {
    known.wait();
    // The inner task runs on this worker, nested in this wait, and waits
    // for the outer one, which cannot go on until the inner one returns.
    auto inner = pool.submit([&] { return outer->result(); });
    return inner.result();
  });
  outer = future;
  known.set();
  EXPECT_THROW(static_cast<void>(future.result()), concur::DeadlockError);
  EXPECT_EQ(reports.of(deadlock::Finding::kWaitOnOwnFuture).size(), 1u);
}

TEST(Misuse, WaitingForAnotherTasksFutureIsNoFinding) {
  Reports reports(deadlock::Mode::kRaise);
  concur::futures::ThreadPoolExecutor pool(2);
  auto future = pool.submit([&] {
    auto inner = pool.submit([] { return 41; });
    return inner.result() + 1;
  });
  EXPECT_EQ(future.result(), 42);
  EXPECT_TRUE(reports.take().empty());
}

TEST(Modes, OffWatchesNothing) {
  Reports reports(deadlock::Mode::kOff);
  Lock a;
  Lock b;
  in_order(a, b);
  in_order(b, a);
  Lock unheld;
  EXPECT_THROW(unheld.release(), concur::RuntimeError);
  EXPECT_TRUE(reports.take().empty());
}

TEST(Modes, AForkedChildKeepsDetecting) {
  Reports reports(deadlock::Mode::kReport);
  Lock a;
  Lock b;
  in_order(a, b);
  const pid_t pid = fork();
  ASSERT_NE(pid, -1);
  if (pid == 0) {
    in_order(b, a);  // the edge a -> b came with the fork
    _exit(static_cast<int>(reports.take().size()));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_TRUE(reports.take().empty());
}

// The environment variable, read once at the first lock operation of a
// fresh process (each death test re-runs this program).
class EnvironmentDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
  void TearDown() override { unsetenv("CONCUR_DEADLOCK"); }
};

TEST_F(EnvironmentDeathTest, AbortModeAbortsAtTheFirstFinding) {
  setenv("CONCUR_DEADLOCK", "abort", 1);
  EXPECT_DEATH(
      {
        Lock a("first");
        Lock b("second");
        in_order(a, b);
        in_order(b, a);
      },
      "potential deadlock(.|\n)*lock second");
}

TEST_F(EnvironmentDeathTest, RaiseAndReportAreRead) {
  setenv("CONCUR_DEADLOCK", "raise", 1);
  EXPECT_EXIT(
      {
        Lock a;
        a.acquire();
        a.release();
        std::exit(deadlock::mode() == deadlock::Mode::kRaise ? 0 : 1);
      },
      testing::ExitedWithCode(0), "");
  setenv("CONCUR_DEADLOCK", "report", 1);
  EXPECT_EXIT(
      {
        Lock a;
        Lock b;
        in_order(a, b);
        in_order(b, a);
        std::exit(deadlock::mode() == deadlock::Mode::kReport ? 0 : 1);
      },
      testing::ExitedWithCode(0), "potential deadlock");
  setenv("CONCUR_DEADLOCK", "bogus", 1);
  EXPECT_EXIT(std::exit(deadlock::mode() == deadlock::Mode::kOff ? 0 : 1),
              testing::ExitedWithCode(0), "");
}

}  // namespace
