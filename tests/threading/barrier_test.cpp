// Barrier: Python's threading.Barrier, after CPython's Lib/test/lock_tests.py.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <numeric>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Barrier;
using concur::threading::BrokenBarrierError;
using Clock = std::chrono::steady_clock;

// Runs body(i) for i in [0, n) on n threads and joins them.
template <class Body>
void RunThreads(std::size_t n, Body body) {
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back(body, i);
  for (auto& t : threads) t.join();
}

void AwaitWaiting(Barrier& barrier, std::size_t n) {
  while (barrier.n_waiting() < n) std::this_thread::yield();
}

// Threads that each wait once on a barrier and count the waits that threw
// BrokenBarrierError.
class BrokenWaiters {
 public:
  BrokenWaiters(Barrier& barrier, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, &barrier] {
        try {
          barrier.wait();
        } catch (const BrokenBarrierError&) {
          ++broken_;
        }
      });
    }
    AwaitWaiting(barrier, n);
  }
  // Joins the threads and returns how many saw the barrier broken.
  std::size_t Join() {
    for (auto& t : threads_) t.join();
    return broken_;
  }

 private:
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> broken_{0};
};

TEST(Barrier, BrokenBarrierErrorIsARuntimeError) {
  static_assert(std::is_base_of_v<concur::RuntimeError, BrokenBarrierError>);
  EXPECT_STREQ(BrokenBarrierError("x").type_name(), "BrokenBarrierError");
}

TEST(Barrier, ZeroPartiesThrowsValueError) {
  EXPECT_THROW(Barrier(0), concur::ValueError);
}

TEST(Barrier, InitialState) {
  Barrier barrier(3);
  EXPECT_EQ(barrier.parties(), 3u);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, SinglePartyPassesAtOnce) {
  int actions = 0;
  Barrier barrier(1, [&] { ++actions; });
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(actions, 2);
}

TEST(Barrier, IndicesAreDistinctInEveryCycle) {
  constexpr std::size_t kParties = 4;
  constexpr std::size_t kCycles = 10;
  Barrier barrier(kParties);
  std::vector<std::vector<std::size_t>> indices(
      kCycles, std::vector<std::size_t>(kParties));
  RunThreads(kParties, [&](std::size_t thread) {
    for (std::size_t cycle = 0; cycle < kCycles; ++cycle) {
      indices[cycle][thread] = barrier.wait();
    }
  });
  std::vector<std::size_t> expected(kParties);
  std::iota(expected.begin(), expected.end(), 0);
  for (auto& cycle : indices) {
    std::sort(cycle.begin(), cycle.end());
    EXPECT_EQ(cycle, expected);
  }
}

TEST(Barrier, ThreadsPassInLockstep) {
  // Python's multipass: nobody leaves a cycle before everyone arrived.
  constexpr std::size_t kParties = 4;
  constexpr int kCycles = 10;
  Barrier barrier(kParties);
  std::atomic<int> arrivals{0};
  std::atomic<int> early_leavers{0};
  RunThreads(kParties, [&](std::size_t) {
    for (int cycle = 0; cycle < kCycles; ++cycle) {
      ++arrivals;
      barrier.wait();
      if (arrivals < (cycle + 1) * static_cast<int>(kParties)) ++early_leavers;
      // A second wait, so that no thread counts its next arrival before all
      // have checked this one.
      barrier.wait();
    }
  });
  EXPECT_EQ(early_leavers, 0);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, ActionRunsOncePerCycleInTheLastArrivingThread) {
  constexpr std::size_t kParties = 3;
  constexpr std::size_t kCycles = 20;
  std::vector<std::thread::id> action_thread;  // written by the action only
  Barrier barrier(kParties,
                  [&] { action_thread.push_back(std::this_thread::get_id()); });
  std::vector<std::thread::id> last_thread(kCycles);
  std::atomic<int> released_before_action{0};
  RunThreads(kParties, [&](std::size_t) {
    for (std::size_t cycle = 0; cycle < kCycles; ++cycle) {
      std::size_t index = barrier.wait();
      // The action of this cycle ran before anyone was released.
      if (action_thread.size() < cycle + 1) ++released_before_action;
      if (index == kParties - 1)
        last_thread[cycle] = std::this_thread::get_id();
      barrier.wait();
    }
  });
  EXPECT_EQ(released_before_action, 0);
  // Two waits per cycle, one action each.
  ASSERT_EQ(action_thread.size(), 2 * kCycles);
  for (std::size_t cycle = 0; cycle < kCycles; ++cycle) {
    EXPECT_EQ(action_thread[2 * cycle], last_thread[cycle]);
  }
}

TEST(Barrier, LastToArriveGetsTheHighestIndexAndRunsTheAction) {
  std::thread::id action_thread;
  Barrier barrier(3, [&] { action_thread = std::this_thread::get_id(); });
  std::vector<std::size_t> indices(2);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] { indices[i] = barrier.wait(); });
    AwaitWaiting(barrier, i + 1);
  }
  EXPECT_EQ(barrier.n_waiting(), 2u);
  EXPECT_EQ(barrier.wait(), 2u);
  for (auto& t : threads) t.join();
  EXPECT_EQ(action_thread, std::this_thread::get_id());
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(Barrier, ActionSeesWritesOfEveryPartyAndTheyAllSeeItsResult) {
  constexpr std::size_t kParties = 4;
  // Deliberately not atomic: the barrier must order these.
  std::vector<int> contributions(kParties);
  int total = 0;
  Barrier barrier(kParties, [&] {
    total = std::accumulate(contributions.begin(), contributions.end(), 0);
  });
  std::vector<int> seen(kParties);
  RunThreads(kParties, [&](std::size_t i) {
    contributions[i] = static_cast<int>(i) + 1;
    barrier.wait();
    seen[i] = total;
  });
  EXPECT_EQ(seen, std::vector<int>(kParties, 10));
}

TEST(Barrier, AbortBreaksWaitersAndLaterWaits) {
  Barrier barrier(3);
  BrokenWaiters waiters(barrier, 2);
  barrier.abort();
  EXPECT_EQ(waiters.Join(), 2u);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  EXPECT_THROW(barrier.wait(1s), BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, AbortFromAPartyBreaksTheOthers) {
  // Python's test_abort: one party fails between two waits and aborts.
  constexpr std::size_t kParties = 5;
  Barrier barrier(kParties);
  std::atomic<int> passed{0};
  std::atomic<int> broken{0};
  RunThreads(kParties, [&](std::size_t) {
    try {
      if (barrier.wait() == kParties / 2) {
        barrier.abort();
        return;
      }
      barrier.wait();
      ++passed;
    } catch (const BrokenBarrierError&) {
      ++broken;
    }
  });
  EXPECT_EQ(passed, 0);
  EXPECT_EQ(broken, static_cast<int>(kParties) - 1);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, ResetBreaksCurrentWaitersAndRearms) {
  Barrier barrier(3);
  BrokenWaiters waiters(barrier, 2);
  barrier.reset();
  EXPECT_EQ(waiters.Join(), 2u);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  std::vector<std::size_t> indices(3);
  RunThreads(3, [&](std::size_t i) { indices[i] = barrier.wait(); });
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
}

TEST(Barrier, ResetFromAPartyWhileOthersWait) {
  // Python's test_reset: after the reset everyone passes the barrier again.
  constexpr std::size_t kParties = 4;
  Barrier barrier(kParties);
  std::atomic<int> broken{0};
  std::atomic<int> passed_again{0};
  RunThreads(kParties, [&](std::size_t) {
    if (barrier.wait() == kParties / 2) {
      AwaitWaiting(barrier, kParties - 1);
      barrier.reset();
    } else {
      try {
        barrier.wait();
      } catch (const BrokenBarrierError&) {
        ++broken;
      }
    }
    barrier.wait();
    ++passed_again;
  });
  EXPECT_EQ(broken, static_cast<int>(kParties) - 1);
  EXPECT_EQ(passed_again, static_cast<int>(kParties));
}

TEST(Barrier, ResetRepairsABrokenBarrier) {
  Barrier barrier(2);
  barrier.abort();
  EXPECT_TRUE(barrier.broken());
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  std::vector<std::size_t> indices(2);
  RunThreads(2, [&](std::size_t i) { indices[i] = barrier.wait(); });
  EXPECT_EQ(indices[0] + indices[1], 1u);
}

TEST(Barrier, WaitTimeoutBreaksTheBarrier) {
  Barrier barrier(2);
  auto start = Clock::now();
  EXPECT_THROW(barrier.wait(30ms), BrokenBarrierError);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
}

TEST(Barrier, TimeoutOfOnePartyBreaksTheOthers) {
  Barrier barrier(3);
  BrokenWaiters waiters(barrier, 1);
  EXPECT_THROW(barrier.wait(20ms), BrokenBarrierError);
  EXPECT_EQ(waiters.Join(), 1u);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, DefaultTimeoutApplies) {
  Barrier barrier(2, {}, 30ms);
  auto start = Clock::now();
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, DefaultTimeoutDoesNotBreakACycleThatCompletes) {
  Barrier barrier(2, {}, 10s);
  std::vector<std::size_t> indices(2);
  RunThreads(2, [&](std::size_t i) { indices[i] = barrier.wait(); });
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(indices[0] + indices[1], 1u);
}

TEST(Barrier, NegativeTimeoutThrowsValueError) {
  Barrier barrier(2);
  EXPECT_THROW(barrier.wait(-1ms), concur::ValueError);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, ActionThatThrowsBreaksTheBarrier) {
  Barrier barrier(3, [] { throw std::runtime_error("action failed"); });
  BrokenWaiters waiters(barrier, 2);
  // As in Python, the thread that ran the action gets its exception.
  EXPECT_THROW(barrier.wait(), std::runtime_error);
  EXPECT_EQ(waiters.Join(), 2u);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
}

}  // namespace
