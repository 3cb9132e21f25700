// Stress: many threads hammering each primitive, checking invariants that a
// lost wake-up, a broken handoff or a missing memory fence would violate.
// Sized to take well under a second each in a release build; sanitizer
// builds, several times slower, run a quarter of the iterations.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <latch>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::active_count;
using concur::threading::Barrier;
using concur::threading::BoundedSemaphore;
using concur::threading::Condition;
using concur::threading::enumerate;
using concur::threading::Event;
using concur::threading::Lock;
using concur::threading::RLock;
using concur::threading::Thread;

constexpr int kScale = concur_test::kSanitized ? 4 : 1;

constexpr int kThreads = 8;

// Runs body(i) for i in [0, n) on n Threads released together, and joins
// them.
template <class Body>
void RunTogether(int n, Body body) {
  std::latch go(n);
  std::vector<Thread> threads;
  threads.reserve(n);
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&go, &body, i] {
      go.arrive_and_wait();
      body(i);
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
}

void RaiseTo(std::atomic<int>& maximum, int value) {
  int seen = maximum.load();
  while (seen < value && !maximum.compare_exchange_weak(seen, value)) {
  }
}

TEST(ThreadingStress, LockProtectsANonAtomicCounter) {
  constexpr int kIterations = 100'000 / kScale;
  Lock lock;
  long counter = 0;
  RunTogether(kThreads, [&](int) {
    for (int i = 0; i < kIterations; ++i) {
      lock.acquire();
      ++counter;
      lock.release();
    }
  });
  EXPECT_EQ(counter, long{kThreads} * kIterations);
  EXPECT_FALSE(lock.locked());
}

TEST(ThreadingStress, LockTimedAndNonBlockingAcquiresUnderContention) {
  // Waiters that give up must leave the lock in a state where the others
  // still get woken.
  constexpr int kIterations = 20'000 / kScale;
  Lock lock;
  long counter = 0;
  std::atomic<long> successes{0};
  RunTogether(kThreads, [&](int thread) {
    for (int i = 0; i < kIterations; ++i) {
      bool taken = false;
      switch ((thread + i) % 3) {
        case 0:
          taken = lock.acquire();
          break;
        case 1:
          taken = lock.acquire(50us);
          break;
        default:
          taken = lock.acquire(false);
          break;
      }
      if (taken) {
        ++counter;
        ++successes;
        lock.release();
      }
    }
  });
  EXPECT_EQ(counter, successes.load());
  EXPECT_GE(successes.load(), long{kThreads} * kIterations / 3);
  EXPECT_FALSE(lock.locked());
}

TEST(ThreadingStress, RLockWithRecursionProtectsANonAtomicCounter) {
  constexpr int kIterations = 50'000 / kScale;
  RLock lock;
  long counter = 0;
  RunTogether(kThreads, [&](int) {
    for (int i = 0; i < kIterations; ++i) {
      std::scoped_lock outer(lock);
      lock.acquire();
      ++counter;
      if (lock.recursion_count() == 2 && lock.acquire(false)) {
        ++counter;
        lock.release();
      }
      lock.release();
    }
  });
  EXPECT_EQ(counter, 2L * kThreads * kIterations);
  EXPECT_FALSE(lock.locked());
}

TEST(ThreadingStress, SemaphoreLimitsConcurrency) {
  constexpr int kLimit = 3;
  constexpr int kIterations = 20'000 / kScale;
  BoundedSemaphore sem(kLimit);
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<long> entries{0};
  RunTogether(kThreads, [&](int thread) {
    for (int i = 0; i < kIterations; ++i) {
      bool taken = (thread + i) % 4 == 0 ? sem.acquire(1ms) : sem.acquire();
      if (!taken) continue;
      RaiseTo(most_inside, ++inside);
      ++entries;
      --inside;
      sem.release();
    }
  });
  EXPECT_LE(most_inside, kLimit);
  EXPECT_GE(most_inside, 1);
  EXPECT_GE(entries.load(), long{kThreads} * kIterations * 3 / 4);
  EXPECT_EQ(sem.value(), static_cast<std::uint32_t>(kLimit));
}

TEST(ThreadingStress, ConditionProducersAndConsumersLoseNoWakeups) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  constexpr int kItemsEach = 20'000 / kScale;
  constexpr std::size_t kCapacity = 8;
  constexpr int kDone = -1;
  Lock lock;
  // Two conditions over one lock, each woken one waiter at a time, so that
  // a single lost notification leaves someone asleep for good.
  Condition not_empty(lock);
  Condition not_full(lock);
  std::deque<int> buffer;  // guarded by lock
  std::vector<int> consumed_count(std::size_t{kProducers} * kItemsEach);
  std::vector<long> sums(kConsumers);

  auto put = [&](int item) {
    std::scoped_lock guard(lock);
    not_full.wait_for([&] { return buffer.size() < kCapacity; });
    buffer.push_back(item);
    not_empty.notify();
  };
  std::vector<Thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, c] {
      for (;;) {
        int item;
        {
          std::scoped_lock guard(lock);
          not_empty.wait_for([&] { return !buffer.empty(); });
          item = buffer.front();
          buffer.pop_front();
          not_full.notify();
        }
        if (item == kDone) return;
        ++consumed_count[item];  // each item goes to exactly one consumer
        sums[c] += item;
      }
    });
  }
  for (auto& t : consumers) t.start();
  RunTogether(kProducers, [&](int p) {
    for (int i = 0; i < kItemsEach; ++i) put(p * kItemsEach + i);
  });
  for (int c = 0; c < kConsumers; ++c) put(kDone);
  for (auto& t : consumers) t.join();

  long total = 0;
  for (long s : sums) total += s;
  long n = long{kProducers} * kItemsEach;
  EXPECT_EQ(total, n * (n - 1) / 2);
  EXPECT_TRUE(std::all_of(consumed_count.begin(), consumed_count.end(),
                          [](int c) { return c == 1; }));
  EXPECT_TRUE(buffer.empty());
}

TEST(ThreadingStress, ConditionTimedWaitsRacingNotifications) {
  // Consumers wait with timeouts so short that many expire at about the
  // moment a notification picks them, so timed-out waiters leave the queue
  // while notify() takes others off it. The producer offers the next token
  // only once the last is taken, so that every token needs a wake-up. The
  // queue must stay intact (the sanitizer builds watch it) and every token
  // be taken exactly once.
  constexpr int kTokens = 5'000 / kScale;
  constexpr int kConsumers = 4;
  Condition cond;
  int available = 0;  // guarded by cond
  int taken = 0;      // guarded by cond
  std::vector<Thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      std::scoped_lock guard(cond);
      while (taken < kTokens) {
        if (available > 0) {
          --available;
          ++taken;
        } else {
          // A timeout only makes the loop look again.
          static_cast<void>(cond.wait(50us));
        }
      }
    });
  }
  for (auto& t : consumers) t.start();
  for (int offered = 0; offered < kTokens;) {
    std::scoped_lock guard(cond);
    if (available == 0) {
      ++available;
      ++offered;
      cond.notify();
    }
  }
  for (auto& t : consumers) t.join();
  EXPECT_EQ(taken, kTokens);
  EXPECT_EQ(available, 0);
}

TEST(ThreadingStress, EventPingPong) {
  constexpr int kRounds = 20'000 / kScale;
  Event ping;
  Event pong;
  long rally = 0;  // deliberately not atomic: the events must order it
  Thread partner([&] {
    for (int i = 0; i < kRounds; ++i) {
      ping.wait();
      ping.clear();
      ++rally;
      pong.set();
    }
  });
  partner.start();
  for (int i = 0; i < kRounds; ++i) {
    ++rally;
    ping.set();
    pong.wait();
    pong.clear();
  }
  partner.join();
  EXPECT_EQ(rally, 2L * kRounds);
}

TEST(ThreadingStress, BarrierManyCycles) {
  constexpr int kParties = 4;
  constexpr int kCycles = 5'000 / kScale;
  long cycles_done = 0;  // deliberately not atomic: the barrier orders it
  Barrier barrier(kParties, [&] { ++cycles_done; });
  std::atomic<int> out_of_step{0};
  std::atomic<int> highest_index_count{0};
  RunTogether(kParties, [&](int) {
    for (int cycle = 0; cycle < kCycles; ++cycle) {
      std::size_t index = barrier.wait();
      if (index == kParties - 1) ++highest_index_count;
      if (cycles_done != cycle + 1) ++out_of_step;
    }
  });
  EXPECT_EQ(cycles_done, kCycles);
  EXPECT_EQ(out_of_step, 0);
  EXPECT_EQ(highest_index_count, kCycles);
  EXPECT_FALSE(barrier.broken());
}

TEST(ThreadingStress, ThreadChurnWithConcurrentEnumerate) {
  constexpr int kCreators = 4;
  constexpr int kThreadsEach = 200 / kScale;
  std::size_t before = active_count();
  std::atomic<int> ran{0};
  Event stop;
  std::atomic<int> listings{0};
  Thread observer([&] {
    while (!stop.is_set()) {
      for (const Thread& t : enumerate()) {
        if (!t.name().empty()) ++listings;
      }
      active_count();
    }
  });
  observer.start();
  RunTogether(kCreators, [&](int) {
    std::vector<Thread> mine;
    for (int i = 0; i < kThreadsEach; ++i) {
      mine.emplace_back([&] { ++ran; });
      mine.back().start();
    }
    for (auto& t : mine) t.join();
  });
  stop.set();
  observer.join();
  EXPECT_EQ(ran, kCreators * kThreadsEach);
  EXPECT_GT(listings, 0);
  EXPECT_EQ(active_count(), before);
}

}  // namespace
