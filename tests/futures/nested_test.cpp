// Tasks that wait on futures from inside the pool. In Python a task that
// submits to its own pool and waits can deadlock it once every worker
// waits; concur promises that the waiting worker runs other queued tasks
// meanwhile, so these complete even with one or two workers.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace cf = concur::futures;
using cf::Future;
using cf::ThreadPoolExecutor;
using concur::TimeoutError;
using concur::threading::Event;

// Submits itself depth times, each level waiting for the next.
int Nest(ThreadPoolExecutor* pool, int depth) {
  if (depth == 0) return 0;
  return pool->submit(Nest, pool, depth - 1).result() + 1;
}

TEST(Nested, DepthTenWithTwoWorkers) {
  ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(Nest, &pool, 10).result(), 10);
}

TEST(Nested, DepthTenWithOneWorker) {
  ThreadPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(Nest, &pool, 10).result(), 10);
}

TEST(Nested, ManyNestedChainsAtOnce) {
  ThreadPoolExecutor pool(2);
  std::vector<Future<int>> chains;
  for (int i = 0; i < 20; ++i) chains.push_back(pool.submit(Nest, &pool, 10));
  for (auto& f : chains) EXPECT_EQ(f.result(), 10);
}

long Fib(ThreadPoolExecutor* pool, int n) {
  if (n < 2) return n;
  // One half in a child task, the other here, then wait for the child:
  // the fork-join shape of the benchmarks.
  auto child = pool->submit(Fib, pool, n - 1);
  long other = Fib(pool, n - 2);
  return child.result() + other;
}

TEST(Nested, RecursiveFibonacci) {
  ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(Fib, &pool, 18).result(), 2584);
}

TEST(Nested, RecursiveFibonacciOnOneWorker) {
  ThreadPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(Fib, &pool, 15).result(), 610);
}

TEST(Nested, ChainOfTasksWaitingOnEachOther) {
  // Task i waits for link i+1 and then completes link i; the tasks are
  // queued in the order that makes each wait on one queued after it, and
  // the last link is completed from outside only at the end. Every task
  // waits only on tasks submitted after it, so running waiting tasks' work
  // in submission order always makes progress. All waits share one
  // deadline, far beyond what the chain needs, so that a deadlock fails
  // the test (with TimeoutError passed down the chain) instead of hanging.
  constexpr int kRounds = 20;
  constexpr int kTasks = 100;
  for (int round = 0; round < kRounds; ++round) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    // Declared before the pool, which joins its workers first: a task may
    // still be inside set_result on its link when the test has seen the end.
    std::vector<Future<int>> links(kTasks + 1);
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < kTasks; ++i) {
      pool.submit([&links, i, deadline] {
        auto& mine = links[static_cast<std::size_t>(i)];
        auto& next = links[static_cast<std::size_t>(i) + 1];
        try {
          auto left = deadline - std::chrono::steady_clock::now();
          mine.set_result(next.result(std::max(left, decltype(left)::zero())) +
                          1);
        } catch (...) {
          mine.set_exception(std::current_exception());
        }
      });
    }
    links[kTasks].set_result(0);
    try {
      ASSERT_EQ(links[0].result(), kTasks);
    } catch (const TimeoutError&) {
      FAIL() << "round " << round
             << ": the chain deadlocked (a worker waits, on its own stack, "
                "for a task it started later than the waiting one)";
    }
  }
}

TEST(Nested, ChainStolenByAWaitingWorkerCompletes) {
  // The chain above, arranged so that one worker (B) must run the whole
  // chain nested inside its own waits while the other (A) is held: tasks
  // 2..16 each wait for the next, task 16 for a link completed from
  // outside once they all run. B can only finish them if it starts them
  // oldest first (each waiting one below the one it waits for); a task
  // started below the one that completes its link can never resume.
  constexpr int kChain = 16;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  // Declared before the pool: a task may still be inside set_result on its
  // link when the test has seen the chain's end.
  std::vector<Future<int>> links(kChain + 2);
  ThreadPoolExecutor pool(2);
  Event release_a;
  Event release_b;
  Event release_task1;
  Event task1_started;
  Event chain_running;
  std::atomic<int> started{0};
  std::atomic<int> which{0};
  std::atomic<int> busy{0};
  Event both_busy;
  for (int i = 0; i < 2; ++i) {
    pool.submit([&] {
      Event& mine = which++ == 0 ? release_a : release_b;
      if (++busy == 2) both_busy.set();
      mine.wait();
    });
  }
  both_busy.wait();  // both workers held: the chain queues up behind them
  for (int i = 1; i <= kChain; ++i) {
    pool.submit([&, i] {
      if (i == 1) {
        task1_started.set();
        release_task1.wait();  // holds worker A in task 1
      } else if (++started == kChain - 1) {
        chain_running.set();
      }
      auto& mine = links[static_cast<std::size_t>(i)];
      auto& next = links[static_cast<std::size_t>(i) + 1];
      try {
        auto left = deadline - std::chrono::steady_clock::now();
        mine.set_result(next.result(std::max(left, decltype(left)::zero())) +
                        1);
      } catch (...) {
        mine.set_exception(std::current_exception());
      }
    });
  }
  release_a.set();
  task1_started.wait();
  release_b.set();  // B alone runs tasks 2..16
  ASSERT_TRUE(chain_running.wait(10s));
  links[kChain + 1].set_result(0);
  release_task1.set();
  try {
    EXPECT_EQ(links[1].result(), kChain);
  } catch (const TimeoutError&) {
    ADD_FAILURE() << "the chain deadlocked: worker B started a task below "
                     "the one it waits for";
  }
}

TEST(Nested, ManyTasksWaitOnTheLastOne) {
  // Every task but the last waits for a future that only the last task,
  // queued behind all of them, completes.
  constexpr int kWaiters = 100;
  Future<int> gate;
  ThreadPoolExecutor pool(2);
  std::vector<Future<int>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.push_back(pool.submit([gate, i] { return gate.result() + i; }));
  }
  auto opener = pool.submit([gate]() mutable { gate.set_result(1000); });
  for (int i = 0; i < kWaiters; ++i) {
    EXPECT_EQ(waiters[static_cast<std::size_t>(i)].result(), 1000 + i);
  }
  opener.result();
}

TEST(Nested, WaitingWorkerRunsExternalSubmissions) {
  // The only worker waits on a future completed from outside; a task
  // submitted meanwhile still runs, on the waiting worker.
  ThreadPoolExecutor pool(1);
  Future<int> outside;
  Event waiting;
  auto waiter = pool.submit([&] {
    waiting.set();
    return outside.result();
  });
  waiting.wait();
  auto other = pool.submit([] { return 7; });
  EXPECT_EQ(other.result(), 7);
  EXPECT_FALSE(waiter.done());
  outside.set_result(5);
  EXPECT_EQ(waiter.result(), 5);
}

TEST(Nested, ResultTimeoutInsideATask) {
  // A worker that waits with a timeout gives up in time even when there is
  // nothing else to run.
  ThreadPoolExecutor pool(1);
  Future<int> never;
  auto f = pool.submit([never] {
    try {
      never.result(20ms);
    } catch (const TimeoutError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.result());
}

TEST(Nested, ExceptionInsideATaskWaitsToo) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&pool] {
    auto child = pool.submit([]() -> int { throw std::logic_error("child"); });
    return child.exception() != nullptr;
  });
  EXPECT_TRUE(f.result());
}

TEST(Nested, ChildExceptionPropagatesThroughParents) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([&pool] {
    return pool
        .submit([&pool] {
          return pool.submit([]() -> int { throw std::logic_error("deep"); })
              .result();
        })
        .result();
  });
  EXPECT_THROW(f.result(), std::logic_error);
}

TEST(Nested, WaitForAnotherPool) {
  ThreadPoolExecutor a(1);
  ThreadPoolExecutor b(1);
  auto f = a.submit([&b] { return b.submit([] { return 3; }).result() * 2; });
  EXPECT_EQ(f.result(), 6);
}

TEST(Nested, CancelledChildRaisesInTheParent) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&pool] {
    auto child = pool.submit([] { return 1; });
    child.cancel();  // still queued behind this task: the cancel wins
    try {
      child.result();
    } catch (const cf::CancelledError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.result());
}

TEST(Nested, MapInsideMap) {
  ThreadPoolExecutor pool(2);
  std::vector<int> rows{0, 1, 2, 3};
  std::vector<int> cols{1, 2, 3};
  auto sums =
      pool.map(
              [&](int r) {
                int sum = 0;
                for (int x : pool.map([r](int c) { return r * c; }, cols)) {
                  sum += x;
                }
                return sum;
              },
              rows)
          .to_vector();
  EXPECT_EQ(sums, (std::vector<int>{0, 6, 12, 18}));
}

// futures::wait() and as_completed() are waits on futures too: from inside
// a task they must not starve the pool either. The inner waits carry a
// generous timeout so that a pool that does starve fails the test instead
// of hanging it.

TEST(Nested, WaitOnChildrenInsideATask) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&pool] {
    std::vector<Future<int>> children;
    for (int i = 0; i < 3; ++i)
      children.push_back(pool.submit([i] { return i; }));
    return cf::wait(children, 10s).done.size();
  });
  EXPECT_EQ(f.result(), 3u);
}

TEST(Nested, AsCompletedOnChildrenInsideATask) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&pool] {
    std::vector<Future<int>> children;
    for (int i = 0; i < 3; ++i)
      children.push_back(pool.submit([i] { return i; }));
    int n = 0;
    try {
      for ([[maybe_unused]] Future<int> child :
           cf::as_completed(children, 10s)) {
        ++n;
      }
    } catch (const TimeoutError&) {
    }
    return n;
  });
  EXPECT_EQ(f.result(), 3);
}

}  // namespace
