// Synchronized<T>: the data reached only through its lock, shared reads over
// a reader-writer lock, and two at once without deadlock.
#include <atomic>
#include <chrono>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "concur/deadlock.hpp"
#include "concur/errors.hpp"
#include "concur/synchronized.hpp"
#include "concur/threading.hpp"

namespace {

using concur::Synchronized;
using concur::threading::Barrier;
using concur::threading::Thread;
using namespace std::chrono_literals;

TEST(Synchronized, HoldsTheLockWhileTheHandleLives) {
  Synchronized<std::vector<int>> items;
  {
    auto held = items.lock();
    held->push_back(1);
    std::atomic<bool> got_it{true};
    Thread other([&] { got_it = static_cast<bool>(items.try_lock()); });
    other.start();
    other.join();
    EXPECT_FALSE(got_it.load());
  }
  EXPECT_TRUE(static_cast<bool>(items.try_lock()));
  EXPECT_EQ(items.copy(), std::vector<int>{1});
}

TEST(Synchronized, ReleaseAndMoveHandOverTheHold) {
  Synchronized<int> value{1};
  auto held = value.lock();
  auto moved = std::move(held);
  EXPECT_FALSE(static_cast<bool>(held));  // NOLINT(bugprone-use-after-move)
  ASSERT_TRUE(static_cast<bool>(moved));
  *moved = 2;
  moved.release();
  EXPECT_FALSE(static_cast<bool>(moved));
  moved.release();  // a second release does nothing
  EXPECT_EQ(value.copy(), 2);
}

TEST(Synchronized, WithLockReturnsWhatTheFunctionReturns) {
  Synchronized<std::string> text(std::in_place, 3, 'a');
  EXPECT_EQ(text.with_lock([](std::string& s) {
    s += "b";
    return s.size();
  }),
            4u);
  EXPECT_EQ(text.with_rlock([](const std::string& s) { return s; }), "aaab");
  EXPECT_EQ(text.exchange("new"), "aaab");
  EXPECT_EQ(text.copy(), "new");
}

TEST(Synchronized, ATimedLockGivesUpAndReturnsAnEmptyHandle) {
  Synchronized<int> value{0};
  auto held = value.lock();
  Thread other([&] {
    auto tried = value.try_lock_for(20ms);
    EXPECT_FALSE(static_cast<bool>(tried));
  });
  other.start();
  other.join();
}

TEST(Synchronized, ReadersShareAReaderWriterLock) {
  Synchronized<int, std::shared_mutex> value{7};
  // Both readers must be inside at once to pass the barrier; an exclusive
  // lock would break it by the timeout instead.
  Barrier both(2);
  std::atomic<int> met{0};
  auto reader = [&] {
    value.with_rlock([&](const int& v) {
      EXPECT_EQ(v, 7);
      try {
        static_cast<void>(both.wait(10s));
        met.fetch_add(1);
      } catch (const concur::threading::BrokenBarrierError&) {
      }
    });
  };
  Thread a(reader);
  Thread b(reader);
  a.start();
  b.start();
  a.join();
  b.join();
  EXPECT_EQ(met.load(), 2);
  value.with_wlock([](int& v) { v = 8; });
  EXPECT_EQ(*value.rlock(), 8);
}

TEST(Synchronized, TheBankAccountRaceCannotHappen) {
  Synchronized<long> balance{0};
  constexpr int kThreads = 8;
  constexpr int kDeposits = 10'000;
  std::vector<Thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kDeposits; ++i) {
        balance.with_lock([](long& b) { b += 1; });
      }
    });
  }
  for (Thread& t : threads) t.start();
  for (Thread& t : threads) t.join();
  EXPECT_EQ(balance.copy(), long{kThreads} * kDeposits);
}

TEST(AcquireLocked, OppositeOrdersNeitherDeadlockNorReport) {
  std::atomic<int> reports{0};
  const concur::deadlock::Mode old_mode = concur::deadlock::mode();
  auto old_handler = concur::deadlock::set_handler(
      [&](const concur::deadlock::Report&) { reports.fetch_add(1); });
  concur::deadlock::set_mode(concur::deadlock::Mode::kRaise);
  Synchronized<long> from{1'000'000};
  Synchronized<long> to{0};
  auto move = [](Synchronized<long>& x, Synchronized<long>& y, int times) {
    for (int i = 0; i < times; ++i) {
      auto [a, b] = concur::acquire_locked(x, y);
      *a -= 1;
      *b += 1;
    }
  };
  Thread forth([&] { move(from, to, 20'000); });
  Thread back([&] { move(to, from, 10'000); });
  forth.start();
  back.start();
  forth.join();
  back.join();
  concur::deadlock::set_mode(old_mode);
  concur::deadlock::set_handler(old_handler);
  EXPECT_EQ(from.copy(), 1'000'000 - 10'000);
  EXPECT_EQ(to.copy(), 10'000);
  EXPECT_EQ(reports.load(), 0);
}

TEST(AcquireLocked, TheSameObjectTwiceIsAValueError) {
  Synchronized<int> one{0};
  EXPECT_THROW(static_cast<void>(concur::acquire_locked(one, one)),
               concur::ValueError);
  EXPECT_TRUE(static_cast<bool>(one.try_lock()));  // nothing left held
}

TEST(AcquireLocked, TwoTypesAndTwoLockKinds) {
  Synchronized<int> count{1};
  Synchronized<std::string, concur::threading::RLock> name{"x"};
  auto [c, n] = concur::acquire_locked(count, name);
  *n += std::to_string(*c);
  c.release();
  n.release();
  EXPECT_EQ(name.copy(), "x1");
}

}  // namespace
