// Stress: the scheduler's classic failures are tasks lost or run twice
// (work-stealing deques, the inbox, shutdown), wake-ups lost (a hang), and
// futures left pending. Each test runs many small tasks through one of
// these paths and checks every one of them ended exactly once.
//
// Sizes shrink under the sanitizers, which slow each task 5-20x, so that
// the suite stays in seconds there too; run with --gtest_repeat to shake
// out rare interleavings.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace cf = concur::futures;
using cf::CancelledError;
using cf::Future;
using cf::InvalidStateError;
using cf::ThreadPoolExecutor;
using concur::RuntimeError;
using concur::threading::Event;

using concur_test::kSanitized;

// `full` normally, a quarter of it under a sanitizer.
constexpr int Scaled(int full) { return kSanitized ? full / 4 : full; }

// A per-task run counter: every task bumps its own slot, and at the end
// every slot must hold exactly 1.
class ExactlyOnce {
 public:
  explicit ExactlyOnce(std::size_t n) : runs_(n) {}
  void Run(std::size_t id) {
    runs_[id].fetch_add(1, std::memory_order_relaxed);
  }
  std::size_t size() const { return runs_.size(); }
  // The first slot that did not run exactly once, if any.
  std::optional<std::pair<std::size_t, int>> FirstBad() const {
    for (std::size_t i = 0; i < runs_.size(); ++i) {
      int n = runs_[i].load(std::memory_order_relaxed);
      if (n != 1) return std::make_pair(i, n);
    }
    return std::nullopt;
  }

 private:
  std::vector<std::atomic<int>> runs_;
};

#define EXPECT_EXACTLY_ONCE(counter)                                    \
  do {                                                                  \
    auto bad = (counter).FirstBad();                                    \
    EXPECT_FALSE(bad.has_value())                                       \
        << "task " << bad->first << " ran " << bad->second << " times"; \
  } while (0)

TEST(Stress, ExactlyOnceWithStealing) {
  // External parents (the inbox) each spawn children from inside the pool
  // (the worker's own deque, which idle workers steal from). A quarter of
  // the parents wait for their children (helping while they wait); the
  // others leave them to whoever gets them. Shutdown comes only after the
  // last task ran, since a submit after shutdown is refused, from a task
  // too; a task run twice shows in its counter, not in `left`.
  // A million tasks (a quarter under the sanitizers).
  constexpr int kParents = Scaled(10000);
  constexpr std::size_t kChildren = 99;
  constexpr std::size_t kTasks = std::size_t{kParents} * (kChildren + 1);
  ExactlyOnce runs(kTasks);
  std::atomic<std::size_t> left{kTasks};
  std::atomic<std::size_t> stolen{0};
  Event all_ran;
  auto run = [&](std::size_t id) {
    runs.Run(id);
    if (left.fetch_sub(1) == 1) all_ran.set();
  };
  ThreadPoolExecutor pool(4);
  for (int p = 0; p < kParents; ++p) {
    pool.submit([&pool, &run, &stolen, p] {
      const std::size_t base = static_cast<std::size_t>(p) * (kChildren + 1);
      const auto parent_thread = concur::threading::get_ident();
      std::vector<Future<void>> children;
      children.reserve(kChildren);
      for (std::size_t c = 1; c <= kChildren; ++c) {
        children.push_back(pool.submit([&run, &stolen, base, c, parent_thread] {
          if (concur::threading::get_ident() != parent_thread) ++stolen;
          run(base + c);
        }));
      }
      if (p % 4 == 0) {
        for (auto& child : children) child.result();
      }
      run(base);
    });
  }
  ASSERT_TRUE(all_ran.wait(60s)) << left.load() << " tasks never ran";
  pool.shutdown(true);
  EXPECT_EXACTLY_ONCE(runs);
  RecordProperty("stolen", static_cast<int>(stolen.load()));
}

TEST(Stress, ExactlyOnceWithFutures) {
  // The same through futures: every one ends finished with its own value.
  constexpr int kTasks = Scaled(100000);
  ExactlyOnce runs(kTasks);
  ThreadPoolExecutor pool(4);
  std::vector<Future<int>> futures;
  futures.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) {
    futures.push_back(pool.submit([&runs, i] {
      runs.Run(static_cast<std::size_t>(i));
      return i;
    }));
  }
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_EQ(futures[static_cast<std::size_t>(i)].result(), i);
  }
  EXPECT_EXACTLY_ONCE(runs);
}

TEST(Stress, DequeGrowsWhileThievesSteal) {
  // One task pushes far more children than the deque's first ring holds,
  // without waiting, while the other workers steal from its top.
  constexpr int kRounds = Scaled(8);
  constexpr std::size_t kChildren = 10000;
  for (int round = 0; round < kRounds; ++round) {
    ExactlyOnce runs(kChildren);
    ThreadPoolExecutor pool(4);
    pool.submit([&pool, &runs] {
          for (std::size_t c = 0; c < kChildren; ++c) {
            pool.submit([&runs, c] { runs.Run(c); });
          }
        })
        .result();
    pool.shutdown(true);
    EXPECT_EXACTLY_ONCE(runs);
  }
}

// A fork-join tree: every node counts itself, spawns `fanout` children and
// waits for them, so workers both steal and help.
void Tree(ThreadPoolExecutor* pool, ExactlyOnce* runs, std::size_t id,
          int depth, std::size_t fanout) {
  runs->Run(id);
  if (depth == 0) return;
  std::vector<Future<void>> children;
  for (std::size_t c = 1; c <= fanout; ++c) {
    children.push_back(
        pool->submit(Tree, pool, runs, id * fanout + c, depth - 1, fanout));
  }
  for (auto& child : children) child.result();
}

TEST(Stress, ExactlyOnceInAForkJoinTree) {
  // Fan-out 10, depth 4 (3 under sanitizers): ids are the nodes of a
  // complete 10-ary tree numbered level by level.
  constexpr std::size_t kFanout = 10;
  constexpr int kDepth = kSanitized ? 3 : 4;
  std::size_t nodes = 0;
  for (std::size_t level = 1, d = 0; d <= kDepth; ++d, level *= kFanout) {
    nodes += level;
  }
  ExactlyOnce runs(nodes);
  ThreadPoolExecutor pool(2);
  pool.submit(Tree, &pool, &runs, std::size_t{0}, kDepth, kFanout).result();
  EXPECT_EXACTLY_ONCE(runs);
}

TEST(Stress, ConcurrentSubmitters) {
  constexpr int kSubmitters = 4;
  constexpr int kEach = Scaled(20000);
  ExactlyOnce runs(std::size_t{kSubmitters} * kEach);
  ThreadPoolExecutor pool(3);
  std::vector<std::thread> submitters;
  std::atomic<int> bad_results{0};
  for (int s = 0; s < kSubmitters; ++s) {
    submitters.emplace_back([&, s] {
      std::vector<Future<std::size_t>> mine;
      mine.reserve(kEach);
      for (int i = 0; i < kEach; ++i) {
        std::size_t id = std::size_t{static_cast<std::size_t>(s)} * kEach +
                         static_cast<std::size_t>(i);
        mine.push_back(pool.submit([&runs, id] {
          runs.Run(id);
          return id;
        }));
      }
      for (int i = 0; i < kEach; ++i) {
        std::size_t id = std::size_t{static_cast<std::size_t>(s)} * kEach +
                         static_cast<std::size_t>(i);
        if (mine[static_cast<std::size_t>(i)].result() != id) ++bad_results;
      }
    });
  }
  for (auto& t : submitters) t.join();
  EXPECT_EQ(bad_results.load(), 0);
  EXPECT_EXACTLY_ONCE(runs);
}

TEST(Stress, ConcurrentSubmittersKeepTheirOwnOrder) {
  // With one worker, the inbox is the only queue: each submitter's tasks
  // start in the order it submitted them, whatever the interleaving.
  constexpr int kSubmitters = 3;
  constexpr int kEach = Scaled(10000);
  std::vector<std::pair<int, int>> log;  // written by the one worker only
  log.reserve(std::size_t{kSubmitters} * kEach);
  {
    ThreadPoolExecutor pool(1);
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&pool, &log, s] {
        for (int i = 0; i < kEach; ++i) {
          pool.submit([&log, s, i] { log.emplace_back(s, i); });
        }
      });
    }
    for (auto& t : submitters) t.join();
  }
  ASSERT_EQ(log.size(), std::size_t{kSubmitters} * kEach);
  std::vector<int> next(kSubmitters, 0);
  for (auto [s, i] : log) {
    ASSERT_EQ(i, next[static_cast<std::size_t>(s)]) << "submitter " << s;
    ++next[static_cast<std::size_t>(s)];
  }
}

TEST(Stress, CancelRacingWithRun) {
  // A canceller and the workers race for every future; the main thread
  // waits on each meanwhile. Each ends cancelled or finished, never both,
  // never neither; a cancelled one never ran, a finished one ran once.
  constexpr int kRounds = Scaled(20);
  constexpr int kTasks = 2000;
  ThreadPoolExecutor pool(2);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::atomic<int>> ran(kTasks);
    std::vector<Future<int>> futures;
    futures.reserve(kTasks);
    for (int i = 0; i < kTasks; ++i) {
      futures.push_back(pool.submit([&ran, i] {
        ran[static_cast<std::size_t>(i)].fetch_add(1);
        return i;
      }));
    }
    // Odd rounds cancel from the back (mostly queued tasks), even rounds
    // from the front (right behind the workers).
    std::vector<int> order(kTasks);
    for (int i = 0; i < kTasks; ++i) order[static_cast<std::size_t>(i)] = i;
    if (round % 2 == 1) std::reverse(order.begin(), order.end());
    std::vector<char> cancel_said(kTasks, 0);
    std::thread canceller([&] {
      for (int i : order) {
        cancel_said[static_cast<std::size_t>(i)] =
            futures[static_cast<std::size_t>(i)].cancel() ? 1 : 0;
      }
    });
    int finished = 0;
    for (int i = 0; i < kTasks; ++i) {
      try {
        EXPECT_EQ(futures[static_cast<std::size_t>(i)].result(10s), i);
        ++finished;
      } catch (const CancelledError&) {
      }
    }
    canceller.join();
    for (int i = 0; i < kTasks; ++i) {
      auto u = static_cast<std::size_t>(i);
      const Future<int>& f = futures[u];
      ASSERT_TRUE(f.done()) << "task " << i;
      EXPECT_NE(f.cancelled(), ran[u].load() == 1) << "task " << i;
      EXPECT_LE(ran[u].load(), 1) << "task " << i;
      EXPECT_EQ(cancel_said[u] == 1, f.cancelled()) << "task " << i;
    }
    // Tasks that were cancelled never ran, so the finished count is the
    // run count.
    int total_ran = 0;
    for (auto& r : ran) total_ran += r.load();
    EXPECT_EQ(total_ran, finished);
  }
}

TEST(Stress, CancelRacingWithSetResult) {
  constexpr int kFutures = Scaled(20000);
  std::vector<Future<int>> futures(kFutures);
  std::vector<char> cancel_won(kFutures, 0);
  std::vector<char> set_won(kFutures, 0);
  std::thread canceller([&] {
    for (std::size_t i = 0; i < futures.size(); ++i) {
      cancel_won[i] = futures[i].cancel() ? 1 : 0;
    }
  });
  for (std::size_t i = 0; i < futures.size(); ++i) {
    try {
      futures[i].set_result(static_cast<int>(i));
      set_won[i] = 1;
    } catch (const InvalidStateError&) {
    }
  }
  canceller.join();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    ASSERT_TRUE(futures[i].done()) << "future " << i;
    ASSERT_NE(cancel_won[i], set_won[i]) << "future " << i;
    if (set_won[i] != 0) {
      ASSERT_EQ(futures[i].result(), static_cast<int>(i));
    } else {
      ASSERT_TRUE(futures[i].cancelled());
    }
  }
}

TEST(Stress, TwoSettersOneWins) {
  constexpr int kFutures = Scaled(20000);
  std::vector<Future<int>> futures(kFutures);
  std::vector<char> first_won(kFutures, 0);
  std::vector<char> second_won(kFutures, 0);
  auto setter = [&](int value, std::vector<char>& won) {
    for (std::size_t i = 0; i < futures.size(); ++i) {
      try {
        futures[i].set_result(value);
        won[i] = 1;
      } catch (const InvalidStateError&) {
      }
    }
  };
  std::thread other(setter, 2, std::ref(second_won));
  setter(1, first_won);
  other.join();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    ASSERT_NE(first_won[i], second_won[i]) << "future " << i;
    ASSERT_EQ(futures[i].result(), first_won[i] != 0 ? 1 : 2) << "future " << i;
  }
}

TEST(Stress, CallbacksRacingCompletionRunOnce) {
  constexpr int kFutures = Scaled(20000);
  std::vector<Future<int>> futures(kFutures);
  std::vector<std::atomic<int>> calls(kFutures);
  std::thread completer([&] {
    for (auto& f : futures) f.set_result(1);
  });
  for (std::size_t i = 0; i < futures.size(); ++i) {
    futures[i].add_done_callback(
        [&calls, i](const Future<int>& f) { calls[i].fetch_add(f.result()); });
  }
  completer.join();
  for (std::size_t i = 0; i < futures.size(); ++i) {
    ASSERT_EQ(calls[i].load(), 1) << "future " << i;
  }
}

TEST(Stress, NoLostWakeups) {
  // Submit-and-wait, one task at a time, so each wait races the completion.
  // A lost wake-up shows as a wait that lasts until its timeout (then
  // finds the future done) instead of ending when the task does; the tasks
  // are trivial, so seconds mean the wake-up was lost.
  constexpr int kRounds = Scaled(4000);
  constexpr auto kLimit = 10s;
  ThreadPoolExecutor pool(2);
  const char* const kinds[] = {"result", "wait", "as_completed"};
  for (int i = 0; i < kRounds; ++i) {
    auto f = pool.submit([i] { return i; });
    auto start = std::chrono::steady_clock::now();
    switch (i % 3) {
      case 0:
        ASSERT_EQ(f.result(kLimit), i);
        break;
      case 1:
        ASSERT_EQ(cf::wait(std::vector<Future<int>>{f}, kLimit).done.size(),
                  1u);
        break;
      default: {
        int n = 0;
        for ([[maybe_unused]] Future<int> g :
             cf::as_completed(std::vector<Future<int>>{f}, kLimit)) {
          ++n;
        }
        ASSERT_EQ(n, 1);
      }
    }
    // Woken, not timed out: only a wait that missed its wake-up lasts until
    // its timeout.
    ASSERT_LT(std::chrono::steady_clock::now() - start, kLimit)
        << kinds[i % 3] << " in round " << i << " slept through the wake-up";
  }
}

TEST(Stress, BurstsIntoASleepingPoolAllRun) {
  // Bursts from several threads into a pool whose workers have just gone
  // to sleep: the submits race the wake-up of the first sleeper, which
  // later submits do not repeat (EventCount::wake_one coalesces), and the
  // nested tasks race it through their own deques. A wake-up lost on the
  // way leaves a task queued with every worker asleep, and its result()
  // times out.
  constexpr int kRounds = Scaled(400);
  constexpr int kSubmitters = 3;
  constexpr int kPerSubmitter = 20;
  constexpr auto kLimit = 10s;
  ThreadPoolExecutor pool(3);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::thread> submitters;
    std::atomic<int> sum{0};
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&] {
        std::vector<Future<int>> futures;
        for (int i = 0; i < kPerSubmitter; ++i) {
          futures.push_back(pool.submit([&pool, i] {
            return i % 4 == 0 ? pool.submit([i] { return i; }).result() : i;
          }));
        }
        for (auto& f : futures) sum.fetch_add(f.result(kLimit));
      });
    }
    for (auto& t : submitters) t.join();
    ASSERT_EQ(sum.load(), kSubmitters * kPerSubmitter * (kPerSubmitter - 1) / 2)
        << "round " << round;
  }
}

TEST(Stress, AsCompletedEndsRightAfterTheLastCompletion) {
  // The iteration ends as soon as it has seen the last completion, while
  // the completing worker may still be inside its notification: whatever
  // that notification touches must outlive it (ThreadSanitizer and ASan
  // check; a plain build cannot see the difference).
  constexpr int kRounds = Scaled(4000);
  ThreadPoolExecutor pool(2);
  for (int i = 0; i < kRounds; ++i) {
    std::vector<Future<int>> fs{pool.submit([i] { return i; })};
    int n = 0;
    for (Future<int> f : cf::as_completed(fs, 5s)) n += f.result() == i;
    ASSERT_EQ(n, 1);
  }
}

TEST(Stress, WaitRacingCompletion) {
  // wait() on many futures while another thread completes them, from the
  // last to the first, so that the completions sweep through wait()'s
  // set-up (which looks at the futures from the first to the last): a
  // future may be seen pending by one look and done by the next. Whichever
  // way each race goes, wait() must return as soon as its condition holds.
  constexpr int kRounds = Scaled(200);
  constexpr std::size_t kFutures = 1000;
  const cf::ReturnWhen whens[] = {cf::ALL_COMPLETED, cf::FIRST_EXCEPTION};
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Future<int>> futures(kFutures);
    std::atomic<bool> go{false};
    std::thread completer([&] {
      while (!go.load()) std::this_thread::yield();
      for (auto f = futures.rbegin(); f != futures.rend(); ++f) {
        f->set_result(1);
      }
    });
    const cf::ReturnWhen when = whens[round % 2];
    go.store(true);
    auto start = std::chrono::steady_clock::now();
    auto r = cf::wait(futures, 10s, when);
    auto took = std::chrono::steady_clock::now() - start;
    completer.join();
    ASSERT_LT(took, 10s) << "round " << round << ": wait("
                         << static_cast<int>(when)
                         << ") slept through the completions";
    ASSERT_EQ(r.done.size(), kFutures);
  }
}

TEST(Stress, AsCompletedRacingCompletion) {
  // As WaitRacingCompletion, for as_completed: two iterations over the same
  // futures (so each future's listener list holds two links, and a
  // callback besides) while another thread completes them from the last to
  // the first. Each iteration must yield every future exactly once.
  constexpr int kRounds = Scaled(100);
  constexpr std::size_t kFutures = 1000;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Future<int>> futures(kFutures);
    std::atomic<int> callbacks{0};
    for (auto& f : futures) {
      f.add_done_callback([&callbacks](const Future<int>&) { ++callbacks; });
    }
    std::atomic<int> ready{0};
    std::thread completer([&] {
      while (ready.load() < 2) std::this_thread::yield();
      for (std::size_t i = kFutures; i-- > 0;) {
        futures[i].set_result(static_cast<int>(i));
      }
    });
    auto iterate = [&](std::vector<int>& seen) {
      ++ready;
      for (Future<int>& f : cf::as_completed(futures, 10s)) {
        ++seen[static_cast<std::size_t>(f.result())];
      }
    };
    std::vector<int> first(kFutures), second(kFutures);
    std::thread other(iterate, std::ref(second));
    iterate(first);
    other.join();
    completer.join();
    for (std::size_t i = 0; i < kFutures; ++i) {
      ASSERT_EQ(first[i], 1) << "round " << round << ", future " << i;
      ASSERT_EQ(second[i], 1) << "round " << round << ", future " << i;
    }
    ASSERT_EQ(callbacks.load(), static_cast<int>(kFutures));
  }
}

TEST(Stress, AsCompletedLeftEarlyWhileFuturesComplete) {
  // An iteration abandoned after its first future unlinks from the others
  // while they complete: no completion may touch the dead iteration (ASan
  // and ThreadSanitizer check) and none is lost by the futures' other
  // listeners.
  constexpr int kRounds = Scaled(200);
  constexpr std::size_t kFutures = 200;
  ThreadPoolExecutor pool(2);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Future<int>> futures;
    for (std::size_t i = 0; i < kFutures; ++i) {
      futures.push_back(pool.submit([i] { return static_cast<int>(i); }));
    }
    for (Future<int>& f : cf::as_completed(futures, 10s)) {
      ASSERT_LT(f.result(), static_cast<int>(kFutures));
      break;
    }
    auto r = cf::wait(futures, 10s, cf::FIRST_EXCEPTION);
    ASSERT_EQ(r.done.size(), kFutures) << "round " << round;
  }
}

TEST(Stress, ShutdownRacingWithSubmits) {
  // Submitters keep submitting until the pool refuses; shutdown(wait=true)
  // comes in the middle. Every future a submit returned must be done by
  // the time shutdown returns, and ran exactly once.
  constexpr int kRounds = Scaled(20);
  constexpr int kSubmitters = 3;
  for (int round = 0; round < kRounds; ++round) {
    ThreadPoolExecutor pool(2);
    std::atomic<int> ran{0};
    std::atomic<int> submitted{0};
    Event enough;
    std::vector<std::vector<Future<int>>> got(kSubmitters);
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&, s] {
        for (;;) {
          try {
            got[static_cast<std::size_t>(s)].push_back(
                pool.submit([&ran] { return ++ran; }));
          } catch (const RuntimeError&) {
            return;
          }
          if (++submitted == 300) enough.set();
        }
      });
    }
    enough.wait();
    pool.shutdown(true);
    // The joins only let the submitters finish appending: done() is read
    // without waiting, so a future still pending after shutdown fails.
    for (auto& t : submitters) t.join();
    int done = 0;
    for (auto& mine : got) {
      for (auto& f : mine) {
        ASSERT_TRUE(f.done()) << "round " << round;
        ASSERT_FALSE(f.cancelled());
        ++done;
      }
    }
    EXPECT_EQ(done, ran.load()) << "round " << round;
  }
}

TEST(Stress, FirstSubmitRacingWithShutdownStillRuns) {
  // The first submit to a pool races with its shutdown: if the submit got
  // in, its task must run, although its worker was not started yet when the
  // shutdown came (a stranded task once hung the exit sequence here).
  constexpr int kRounds = Scaled(400);
  for (int round = 0; round < kRounds; ++round) {
    ThreadPoolExecutor pool(1);
    std::optional<Future<int>> future;
    std::atomic<bool> go{false};
    std::thread submitter([&] {
      while (!go.load()) std::this_thread::yield();
      try {
        future.emplace(pool.submit([] { return 7; }));
      } catch (const RuntimeError&) {
      }
    });
    go.store(true);
    pool.shutdown(true);
    submitter.join();
    if (future) {
      ASSERT_TRUE(future->done()) << "round " << round;
      EXPECT_EQ(future->result(), 7);
    }
  }
}

TEST(Stress, ShutdownWithCancelRacingWithSubmits) {
  // The same with cancel_futures: each future ends cancelled or finished,
  // and only the finished ones ran.
  constexpr int kRounds = Scaled(20);
  constexpr int kSubmitters = 3;
  for (int round = 0; round < kRounds; ++round) {
    ThreadPoolExecutor pool(2);
    std::atomic<int> ran{0};
    std::atomic<int> submitted{0};
    Event enough;
    std::vector<std::vector<Future<int>>> got(kSubmitters);
    std::vector<std::thread> submitters;
    for (int s = 0; s < kSubmitters; ++s) {
      submitters.emplace_back([&, s] {
        for (;;) {
          try {
            got[static_cast<std::size_t>(s)].push_back(
                pool.submit([&ran] { return ++ran; }));
          } catch (const RuntimeError&) {
            return;
          }
          if (++submitted == 300) enough.set();
        }
      });
    }
    enough.wait();
    pool.shutdown(true, true);
    for (auto& t : submitters) t.join();
    int finished = 0;
    for (auto& mine : got) {
      for (auto& f : mine) {
        ASSERT_TRUE(f.done()) << "round " << round;
        if (!f.cancelled()) ++finished;
      }
    }
    EXPECT_EQ(finished, ran.load()) << "round " << round;
  }
}

TEST(Stress, ShutdownRacingWithNestedSubmits) {
  // Tasks submit children while the pool shuts down: a child submit either
  // fails with RuntimeError or returns a future that ends done.
  constexpr int kRounds = Scaled(20);
  constexpr int kParents = 200;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::optional<Future<void>>> children(kParents);
    std::atomic<int> refused{0};
    ThreadPoolExecutor pool(2);
    for (int p = 0; p < kParents; ++p) {
      pool.submit([&pool, &children, &refused, p] {
        try {
          children[static_cast<std::size_t>(p)] = pool.submit([] {});
        } catch (const RuntimeError&) {
          ++refused;
        }
      });
    }
    pool.shutdown(true);
    int present = 0;
    for (auto& child : children) {
      if (!child) continue;
      ++present;
      ASSERT_TRUE(child->done()) << "round " << round;
    }
    EXPECT_EQ(present + refused.load(), kParents);
  }
}

TEST(Stress, ManyShortLivedPools) {
  constexpr int kPools = Scaled(200);
  for (int p = 0; p < kPools; ++p) {
    std::atomic<int> ran{0};
    {
      ThreadPoolExecutor pool(1 + p % 4);
      for (int i = 0; i < 50; ++i) pool.submit([&ran] { ++ran; });
    }
    ASSERT_EQ(ran.load(), 50) << "pool " << p;
  }
}

}  // namespace
