// ThreadPoolExecutor: Python's concurrent.futures.ThreadPoolExecutor, after
// CPython's Lib/test/test_concurrent_futures/ (executor.py,
// test_thread_pool.py, test_shutdown.py, test_init.py).
//
// Tasks that must stay running while the test looks at the pool wait on an
// Event, so every state is reached without guessing at sleep lengths.

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/futures.hpp"
#include "concur/os.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::RuntimeError;
using concur::ValueError;
using concur::futures::BrokenExecutor;
using concur::futures::BrokenThreadPool;
using concur::futures::CancelledError;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;
using concur::futures::ThreadPoolOptions;
using concur::threading::active_count;
using concur::threading::Barrier;
using concur::threading::current_thread;
using concur::threading::Event;
using concur::threading::get_ident;
using concur::threading::get_native_id;
using concur::threading::Timer;
using concur_test::AwaitSleeping;
using testing::HasSubstr;
using testing::MatchesRegex;
using Clock = std::chrono::steady_clock;

// Alive threads whose name starts with `prefix`.
std::size_t CountThreadsNamed(const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& t : concur::threading::enumerate()) {
    if (t.name().starts_with(prefix)) ++n;
  }
  return n;
}

// Holds `n` tasks running at once: each calls Arrive(), and the test waits
// for all of them with AwaitAll() before it looks at the pool.
class Gate {
 public:
  explicit Gate(int n) : n_(n) {}
  void Arrive() {
    if (++arrived_ == n_) all_.set();
    release_.wait();
  }
  void AwaitAll() { all_.wait(); }
  void Release() { release_.set(); }

 private:
  const int n_;
  std::atomic<int> arrived_{0};
  Event all_;
  Event release_;
};

int Multiply(int a, int b) { return a * b; }

struct Accumulator {
  int base;
  int Add(int x) const { return base + x; }
};

// --- submit ------------------------------------------------------------------

TEST(ThreadPool, SubmitWithArguments) {
  ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(Multiply, 6, 7).result(), 42);
  EXPECT_EQ(pool.submit([](int a, int b) { return a - b; }, 10, 3).result(), 7);
  std::string hello = "hello";
  EXPECT_EQ(pool.submit([](const std::string& s, char c) { return s + c; },
                        hello, '!')
                .result(),
            "hello!");
  EXPECT_EQ(hello, "hello");  // copied into the task, not moved from
  Accumulator acc{100};
  EXPECT_EQ(pool.submit(&Accumulator::Add, &acc, 5).result(), 105);
  pool.submit([] {}).result();  // Future<void>
}

TEST(ThreadPool, SubmitMoveOnlyArgumentsCallableAndResult) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([](const std::unique_ptr<int>& p) { return *p + 1; },
                       std::make_unique<int>(41));
  EXPECT_EQ(f.result(), 42);
  auto g = pool.submit([p = std::make_unique<int>(5)] { return *p; });
  EXPECT_EQ(g.result(), 5);
  auto h = pool.submit([] { return std::make_unique<std::string>("owned"); });
  EXPECT_EQ(*h.result(), "owned");
}

TEST(ThreadPool, ArgumentsAreMovedNotCopied) {
  struct Counted {
    Counted() = default;
    Counted(const Counted& other) : copies(other.copies + 1) {}
    Counted(Counted&& other) noexcept : copies(other.copies) {}
    int copies = 0;
  };
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([](const Counted& c) { return c.copies; }, Counted{});
  EXPECT_EQ(f.result(), 0);
}

TEST(ThreadPool, TaskDataIsFreedAfterItRuns) {
  // Python's test_no_stale_references: once a task has run and its future
  // is dropped, the pool keeps nothing of it alive.
  auto object = std::make_shared<int>(1);
  std::weak_ptr<int> watch = object;
  ThreadPoolExecutor pool(1);
  pool.submit([](const std::shared_ptr<int>& p) { return *p; },
              std::move(object));
  pool.shutdown(true);
  EXPECT_TRUE(watch.expired());
}

TEST(ThreadPool, SubmitPublishesTheCallersWrites) {
  // Plain data written before submit is visible to the task, and the
  // task's writes are visible after result() (ThreadSanitizer checks).
  ThreadPoolExecutor pool(2);
  std::vector<int> input(100, 2);
  std::vector<int> output;
  pool.submit([&] {
        for (int x : input) output.push_back(x * 2);
      })
      .result();
  EXPECT_EQ(output, std::vector<int>(100, 4));
}

TEST(ThreadPool, TasksRunInParallel) {
  // Two tasks that can only finish together: a pool of two runs them at
  // the same time.
  ThreadPoolExecutor pool(2);
  Barrier both(2, {}, 30s);
  auto a = pool.submit([&] { return both.wait(); });
  auto b = pool.submit([&] { return both.wait(); });
  EXPECT_EQ(a.result() + b.result(), 1u);  // indices 0 and 1
}

// --- max_workers
// ---------------------------------------------------------------

TEST(ThreadPool, MaxWorkersMustBePositive) {
  EXPECT_THROW(ThreadPoolExecutor(0), ValueError);
  EXPECT_THROW(ThreadPoolExecutor(-1), ValueError);
  ThreadPoolExecutor one(1);
  EXPECT_EQ(one.max_workers(), 1u);
}

TEST(ThreadPool, DefaultMaxWorkersIsPythons) {
  // Python 3.13's default: the CPUs this process may use, plus four.
  const std::size_t cores = concur::os::process_cpu_count();
  ThreadPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), std::min<std::size_t>(32, cores + 4));
  ThreadPoolExecutor from_options(ThreadPoolOptions{});
  EXPECT_EQ(from_options.max_workers(), pool.max_workers());
}

TEST(ThreadPool, NeverMoreThreadsThanMaxWorkers) {
  // Python's test_saturation: many blocked tasks, max_workers threads.
  const std::size_t before = active_count();
  constexpr int kWorkers = 3;
  Gate gate(kWorkers);
  std::mutex mu;
  std::set<std::uint64_t> idents;
  {
    ThreadPoolExecutor pool(ThreadPoolOptions{kWorkers, "saturation", nullptr});
    std::vector<Future<void>> futures;
    for (int i = 0; i < 10 * kWorkers; ++i) {
      futures.push_back(pool.submit([&] {
        {
          std::scoped_lock lock(mu);
          idents.insert(get_ident());
        }
        gate.Arrive();
      }));
    }
    gate.AwaitAll();
    EXPECT_EQ(active_count(), before + kWorkers);
    EXPECT_EQ(CountThreadsNamed("saturation_"), std::size_t{kWorkers});
    gate.Release();
    for (auto& f : futures) f.result();
    EXPECT_EQ(CountThreadsNamed("saturation_"), std::size_t{kWorkers});
  }
  EXPECT_EQ(idents.size(), std::size_t{kWorkers});
  // The destructor joined every worker.
  EXPECT_EQ(CountThreadsNamed("saturation_"), 0u);
  EXPECT_EQ(active_count(), before);
}

TEST(ThreadPool, ThreadsStartOnDemand) {
  ThreadPoolExecutor pool(ThreadPoolOptions{8, "ondemand", nullptr});
  EXPECT_EQ(CountThreadsNamed("ondemand_"), 0u);  // none before a submit
  pool.submit([] {}).result();
  EXPECT_GE(CountThreadsNamed("ondemand_"), 1u);
  EXPECT_LE(CountThreadsNamed("ondemand_"), 8u);
}

TEST(ThreadPool, IdleThreadIsReused) {
  // Python's test_idle_thread_reuse: one task at a time, each submitted
  // once the previous worker sleeps idle, runs on that same thread.
  ThreadPoolExecutor pool(ThreadPoolOptions{4, "reuse", nullptr});
  auto who = [] { return std::make_pair(get_ident(), get_native_id()); };
  auto [ident, tid] = pool.submit(who).result();
  for (int i = 0; i < 5; ++i) {
    AwaitSleeping(tid);
    EXPECT_EQ(pool.submit(who).result().first, ident);
  }
  EXPECT_EQ(CountThreadsNamed("reuse_"), 1u);
}

TEST(ThreadPool, SequentialTasksReuseTheIdleThread) {
  // Python's test_idle_thread_reuse, literally: three tasks, one at a time,
  // each submitted as soon as the previous result is in. The worker that
  // ran the previous task is idle then (it may still be looking for work
  // rather than asleep), so no second thread may start.
  ThreadPoolExecutor pool(ThreadPoolOptions{32, "sequential", nullptr});
  EXPECT_EQ(pool.submit(Multiply, 21, 2).result(), 42);
  EXPECT_EQ(pool.submit(Multiply, 6, 7).result(), 42);
  EXPECT_EQ(pool.submit(Multiply, 3, 14).result(), 42);
  EXPECT_EQ(CountThreadsNamed("sequential_"), 1u);
}

// --- thread names and initializer -------------------------------------------

TEST(ThreadPool, ThreadNamesUseThePrefix) {
  ThreadPoolExecutor pool(ThreadPoolOptions{2, "named", nullptr});
  Gate gate(2);
  auto name = [&] {
    std::string n = current_thread().name();
    gate.Arrive();
    return n;
  };
  auto a = pool.submit(name);
  auto b = pool.submit(name);
  gate.AwaitAll();
  gate.Release();
  std::set<std::string> names{a.result(), b.result()};
  EXPECT_EQ(names, (std::set<std::string>{"named_0", "named_1"}));
}

TEST(ThreadPool, DefaultThreadNames) {
  // Python's test_thread_names_default: "ThreadPoolExecutor-<pool>_<i>",
  // with a pool number of its own for each pool.
  auto name_in = [](ThreadPoolExecutor& pool) {
    return pool.submit([] { return current_thread().name(); }).result();
  };
  ThreadPoolExecutor a(1);
  ThreadPoolExecutor b(1);
  std::string name_a = name_in(a);
  std::string name_b = name_in(b);
  EXPECT_THAT(name_a, MatchesRegex("ThreadPoolExecutor-[0-9]+_0"));
  EXPECT_THAT(name_b, MatchesRegex("ThreadPoolExecutor-[0-9]+_0"));
  EXPECT_NE(name_a, name_b);
}

TEST(ThreadPool, WorkersAreDaemonThreads) {
  // So that threading's exit join does not wait on the idle workers of a
  // pool nobody shut down (the pool registry does that instead).
  ThreadPoolExecutor pool(1);
  EXPECT_TRUE(pool.submit([] { return current_thread().daemon(); }).result());
}

thread_local int initialized_here = 0;

TEST(ThreadPool, InitializerRunsOncePerWorkerBeforeItsTasks) {
  constexpr int kWorkers = 3;
  std::atomic<int> inits{0};
  std::mutex mu;
  std::set<std::uint64_t> init_threads;
  std::set<std::uint64_t> task_threads;
  bool every_task_saw_init = true;
  {
    ThreadPoolExecutor pool(ThreadPoolOptions{kWorkers, "init", [&] {
                                                ++inits;
                                                ++initialized_here;
                                                std::scoped_lock lock(mu);
                                                init_threads.insert(
                                                    get_ident());
                                              }});
    Gate gate(kWorkers);
    std::vector<Future<void>> futures;
    for (int i = 0; i < 30; ++i) {
      futures.push_back(pool.submit([&] {
        {
          std::scoped_lock lock(mu);
          task_threads.insert(get_ident());
          if (initialized_here != 1) every_task_saw_init = false;
        }
        gate.Arrive();
      }));
    }
    gate.AwaitAll();  // every worker has started
    gate.Release();
    for (auto& f : futures) f.result();
  }
  EXPECT_EQ(inits.load(), kWorkers);
  EXPECT_EQ(init_threads, task_threads);
  EXPECT_TRUE(every_task_saw_init);
  EXPECT_EQ(initialized_here, 0);  // not run in the submitting thread
}

TEST(ThreadPool, FailingInitializerBreaksThePool) {
  // Python's test_init: pending tasks fail with BrokenThreadPool, and so do
  // later submits. The initializer waits until the tasks are queued, so
  // they are pending when it fails.
  Event queued;
  ThreadPoolExecutor pool(ThreadPoolOptions{1, "broken", [&] {
                                              queued.wait();
                                              throw std::runtime_error(
                                                  "no database");
                                            }});
  std::atomic<int> ran{0};
  std::vector<Future<void>> futures;
  for (int i = 0; i < 5; ++i) futures.push_back(pool.submit([&] { ++ran; }));
  testing::internal::CaptureStderr();
  queued.set();
  for (auto& f : futures) {
    EXPECT_THROW(f.result(), BrokenThreadPool);
    EXPECT_FALSE(f.cancelled());
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("Exception in initializer"));
  EXPECT_THAT(err, HasSubstr("no database"));
  EXPECT_THROW(pool.submit([] {}), BrokenThreadPool);
  EXPECT_EQ(ran.load(), 0);
  // The error hierarchy is Python's.
  try {
    pool.submit([] {});
    FAIL() << "submit to a broken pool should throw";
  } catch (const BrokenExecutor& e) {
    EXPECT_STREQ(e.type_name(), "BrokenThreadPool");
    EXPECT_NE(dynamic_cast<const RuntimeError*>(&e), nullptr);
  }
}

TEST(ThreadPool, InitializerFailingInALaterWorker) {
  // The first worker starts fine and is busy; the second one, started for
  // the next task, fails its initializer. The pool breaks: the queued task
  // fails, later submits fail, but the task already running finishes.
  std::atomic<int> inits{0};
  ThreadPoolExecutor pool(ThreadPoolOptions{2, "halfbroken", [&] {
                                              if (++inits == 2) {
                                                throw std::runtime_error(
                                                    "second init failed");
                                              }
                                            }});
  Event started;
  Event release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  started.wait();  // the first worker is busy: the next submit starts another
  testing::internal::CaptureStderr();
  auto queued = pool.submit([] { return 2; });
  try {
    queued.result();
    ADD_FAILURE() << "the queued task should fail";
  } catch (const BrokenThreadPool& e) {
    EXPECT_THAT(e.what(), HasSubstr("initializer"));
  }
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("second init failed"));
  EXPECT_THROW(pool.submit([] { return 3; }), BrokenThreadPool);
  release.set();
  EXPECT_EQ(running.result(), 1);
}

TEST(ThreadPool, FailingInitializerWithSeveralWorkers) {
  // Whichever worker fails first breaks the pool; no task runs, none hangs.
  testing::internal::CaptureStderr();
  std::vector<Future<int>> futures;
  int rejected = 0;
  {
    ThreadPoolExecutor pool(ThreadPoolOptions{
        4, "broken4", [] { throw std::runtime_error("init failed"); }});
    for (int i = 0; i < 50; ++i) {
      try {
        futures.push_back(pool.submit([i] { return i; }));
      } catch (const BrokenThreadPool&) {
        ++rejected;
      }
    }
  }
  testing::internal::GetCapturedStderr();
  for (auto& f : futures) EXPECT_THROW(f.result(), BrokenThreadPool);
  EXPECT_EQ(futures.size() + static_cast<std::size_t>(rejected), 50u);
}

// --- shutdown
// -------------------------------------------------------------------

TEST(ThreadPool, SubmitAfterShutdownIsRuntimeError) {
  ThreadPoolExecutor pool(2);
  pool.submit([] {}).result();
  pool.shutdown();
  EXPECT_THROW(pool.submit([] {}), RuntimeError);
  std::vector<int> items{1, 2};
  EXPECT_THROW(pool.map([](int x) { return x; }, items), RuntimeError);
  EXPECT_NO_THROW(pool.shutdown());  // idempotent
  EXPECT_NO_THROW(pool.shutdown(false, true));
}

TEST(ThreadPool, APoolThatCannotStartAThreadBreaksInsteadOfHanging) {
  // A stack no machine can map (128 TiB): the worker's thread cannot start.
  const std::size_t previous =
      concur::threading::stack_size(std::size_t{1} << 47);
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([] { return 1; });
  concur::threading::stack_size(previous);
  try {
    f.result(10s);
    FAIL() << "expected BrokenThreadPool";
  } catch (const BrokenThreadPool& e) {
    EXPECT_THAT(e.what(), testing::HasSubstr("can't start a worker thread"));
  }
  EXPECT_THROW(pool.submit([] { return 2; }), BrokenThreadPool);
}

TEST(ThreadPool, SubmitAfterShutdownBeforeAnyWorkStarted) {
  ThreadPoolExecutor pool(2);
  pool.shutdown(false);
  EXPECT_THROW(pool.submit([] {}), RuntimeError);
}

TEST(ThreadPool, ShutdownWaitsForQueuedTasks) {
  ThreadPoolExecutor pool(2);
  Event release;
  std::atomic<int> finished{0};
  std::vector<Future<void>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(pool.submit([&] {
      release.wait();
      ++finished;
    }));
  }
  auto start = Clock::now();
  Timer opener(30ms, [&] { release.set(); });
  opener.start();
  pool.shutdown(true);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_EQ(finished.load(), 20);
  for (auto& f : futures) EXPECT_TRUE(f.done());
  opener.join();
}

TEST(ThreadPool, ShutdownWithoutWaitReturnsAtOnce) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  auto queued = pool.submit([] { return 2; });
  started.wait();
  pool.shutdown(false);
  // Still running: shutdown did not wait for it, and did not cancel the
  // queued task either.
  EXPECT_TRUE(running.running());
  EXPECT_FALSE(queued.cancelled());
  EXPECT_THROW(pool.submit([] { return 3; }), RuntimeError);
  release.set();
  EXPECT_EQ(running.result(), 1);
  EXPECT_EQ(queued.result(), 2);
}

TEST(ThreadPool, ShutdownCancelFuturesCancelsQueuedTasks) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
    return -1;
  });
  started.wait();
  std::atomic<int> ran{0};
  std::vector<Future<int>> queued;
  for (int i = 0; i < 10; ++i) {
    queued.push_back(pool.submit([&ran, i] {
      ++ran;
      return i;
    }));
  }
  pool.shutdown(false, true);
  for (auto& f : queued) {
    EXPECT_TRUE(f.cancelled());
    EXPECT_THROW(f.result(), CancelledError);
  }
  EXPECT_FALSE(running.cancelled());
  release.set();
  EXPECT_EQ(running.result(), -1);  // the running task finishes
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 0);
}

TEST(ThreadPool, ShutdownWaitAndCancelFutures) {
  // Python's test_cancel_futures with wait=True: shutdown returns once the
  // running task ends, having cancelled the rest.
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto running = pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();
  std::vector<Future<void>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.submit([] {}));
  Timer opener(10ms, [&] { release.set(); });
  opener.start();
  pool.shutdown(true, true);
  EXPECT_TRUE(running.done());
  EXPECT_FALSE(running.cancelled());
  for (auto& f : queued) EXPECT_TRUE(f.cancelled());
  opener.join();
}

TEST(ThreadPool, ShutdownEndsTheWorkers) {
  // Python's test_threads_terminate.
  const std::size_t before = active_count();
  ThreadPoolExecutor pool(ThreadPoolOptions{3, "ending", nullptr});
  Gate gate(3);
  for (int i = 0; i < 3; ++i) pool.submit([&] { gate.Arrive(); });
  gate.AwaitAll();
  EXPECT_EQ(CountThreadsNamed("ending_"), 3u);
  gate.Release();
  pool.shutdown(true);
  EXPECT_EQ(CountThreadsNamed("ending_"), 0u);
  EXPECT_EQ(active_count(), before);
}

TEST(ThreadPool, DestructorWaitsForQueuedTasks) {
  std::atomic<int> finished{0};
  Event release;
  Timer opener(20ms, [&] { release.set(); });
  auto start = Clock::now();
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 10; ++i) {
      pool.submit([&] {
        release.wait();
        ++finished;
      });
    }
    opener.start();
  }
  EXPECT_GE(Clock::now() - start, 20ms);
  EXPECT_EQ(finished.load(), 10);
  opener.join();
}

TEST(ThreadPool, DestructorAfterShutdownWithoutWait) {
  std::atomic<int> finished{0};
  {
    ThreadPoolExecutor pool(2);
    for (int i = 0; i < 50; ++i) pool.submit([&] { ++finished; });
    pool.shutdown(false);
  }
  EXPECT_EQ(finished.load(), 50);
}

TEST(ThreadPool, ShutdownFromInsideATask) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([&] {
    pool.shutdown(true);  // must not wait for the calling worker itself
    try {
      pool.submit([] {});
    } catch (const RuntimeError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.result());
  EXPECT_THROW(pool.submit([] {}), RuntimeError);
}

TEST(ThreadPool, PoolLeftAliveAtExitFinishesItsWork) {
  // Python's test_interpreter_shutdown: work queued on a pool that nobody
  // shut down still runs when the program exits normally.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto* pool = new ThreadPoolExecutor(1);  // never destroyed
        pool->submit([] {
          Event never;
          // Still running when exit begins.
          static_cast<void>(never.wait(50ms));
          std::fputs("apple\n", stderr);
        });
        std::exit(0);
      },
      testing::ExitedWithCode(0), "apple");
}

TEST(ThreadPool, ManyPoolsLeaveNoThreads) {
  const std::size_t before = active_count();
  for (int i = 0; i < 20; ++i) {
    ThreadPoolExecutor pool(3);
    std::vector<Future<int>> futures;
    for (int j = 0; j < 10; ++j)
      futures.push_back(pool.submit([j] { return j; }));
    int sum = 0;
    for (auto& f : futures) sum += f.result();
    EXPECT_EQ(sum, 45);
  }
  EXPECT_EQ(active_count(), before);
}

// --- order
// --------------------------------------------------------------------

TEST(ThreadPool, ExternalSubmissionsStartInOrder) {
  // Python's queue is FIFO: with one worker, tasks start in submit order.
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();  // the worker is busy: everything below queues up
  std::vector<int> order;
  for (int i = 0; i < 200; ++i)
    pool.submit([&order, i] { order.push_back(i); });
  release.set();
  pool.shutdown(true);
  std::vector<int> expected(200);
  for (int i = 0; i < 200; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

TEST(ThreadPool, FreeWorkerStartsTheOldestQueuedTask) {
  // With several workers too, Python's queue hands a free worker the oldest
  // submission. Two blockers occupy both workers while tasks 1..40 queue
  // up; then worker A is freed and gets stuck in task 1, and worker B is
  // freed: it must run 2, 3, ..., 40 in that order, since each was the
  // oldest task waiting when B became free again.
  constexpr int kTasks = 40;
  ThreadPoolExecutor pool(2);
  Event release_a;
  Event release_b;
  Event release_task1;
  Gate both_busy(2);
  std::atomic<int> which{0};
  for (int i = 0; i < 2; ++i) {
    pool.submit([&] {
      Event& mine = which++ == 0 ? release_a : release_b;
      both_busy.Arrive();
      mine.wait();
    });
  }
  both_busy.AwaitAll();
  both_busy.Release();
  std::mutex mu;
  std::vector<int> order;
  std::vector<Future<void>> futures;
  futures.push_back(pool.submit([&] { release_task1.wait(); }));  // task 1
  for (int i = 2; i <= kTasks; ++i) {
    futures.push_back(pool.submit([&, i] {
      std::scoped_lock lock(mu);
      order.push_back(i);
    }));
  }
  release_a.set();  // worker A starts task 1 and stays there
  while (!futures[0].running()) std::this_thread::yield();
  release_b.set();  // worker B is free: everything else is its to run
  for (std::size_t i = 1; i < futures.size(); ++i) futures[i].result();
  release_task1.set();
  futures[0].result();
  std::vector<int> expected;
  for (int i = 2; i <= kTasks; ++i) expected.push_back(i);
  EXPECT_EQ(order, expected);
}

TEST(ThreadPool, SubmissionsStartInOrderWithoutHolding) {
  // The same, with the worker racing the submitter.
  ThreadPoolExecutor pool(1);
  std::vector<int> order;
  std::vector<Future<void>> futures;
  for (int i = 0; i < 1000; ++i) {
    futures.push_back(pool.submit([&order, i] { order.push_back(i); }));
  }
  for (auto& f : futures) f.result();
  ASSERT_EQ(order.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

}  // namespace

namespace {

// As std::thread does, a task receives its arguments as rvalues (it runs
// once), so a callable may take a move-only parameter by value.
TEST(ThreadPool, MoveOnlyParameterTakenByValue) {
  concur::futures::ThreadPoolExecutor pool(1);
  auto f = pool.submit([](std::unique_ptr<int> p) { return *p + 1; },
                       std::make_unique<int>(41));
  EXPECT_EQ(f.result(), 42);
}

}  // namespace

namespace {

// A pool whose one thread was idle must still start its second thread when
// two tasks are queued at once: the second task may be needed to let the
// first finish, as here (a would wait its whole timeout if they ran in turn).
TEST(ThreadPool, SecondWorkerStartsAfterAnIdleFirst) {
  for (int round = 0; round < 20; ++round) {
    concur::futures::ThreadPoolExecutor pool(2);
    pool.submit([] {}).result();
    concur::threading::Event b_started;
    auto a =
        pool.submit([&] { return b_started.wait(std::chrono::seconds(5)); });
    auto b = pool.submit([&] { b_started.set(); });
    EXPECT_TRUE(a.result());
    b.result();
  }
}

// Task states come from a per-thread cache of small blocks; a callable
// that needs more alignment than the allocator's default still gets it.
TEST(ThreadPool, OverAlignedCallablesAreAligned) {
  struct alignas(128) Wide {
    int value;
  };
  concur::futures::ThreadPoolExecutor pool(2);
  std::vector<concur::futures::Future<bool>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(pool.submit([wide = Wide{i}, i] {
      return reinterpret_cast<std::uintptr_t>(&wide) % 128 == 0 &&
             wide.value == i;
    }));
  }
  for (auto& f : futures) EXPECT_TRUE(f.result());
}

// Small and large task states, made and freed on different threads
// (submitter, workers) in a long run: every result arrives intact.
TEST(ThreadPool, TaskStatesOfManySizesCrossThreads) {
  concur::futures::ThreadPoolExecutor pool(4);
  std::vector<concur::futures::Future<std::size_t>> futures;
  for (int round = 0; round < 20; ++round) {
    for (std::size_t n = 0; n < 300; n += 7) {
      futures.push_back(pool.submit(
          [payload = std::string(n, 'x')] { return payload.size(); }));
      futures.push_back(pool.submit(
          [n, pad = std::array<char, 200>{}] { return n + pad.size() - 200; }));
    }
    std::size_t k = 0;
    for (auto& f : futures) {
      EXPECT_EQ(f.result(), (k / 2) * 7);
      ++k;
    }
    futures.clear();
  }
}

}  // namespace
