// The forkserver start method and the contexts: children started from a
// fresh image of this program, their arguments (encoded values and
// multiprocessing's shared objects, sent as descriptors), their ends, and
// pools whose workers cannot inherit a lock another thread holds.
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;
namespace futures = concur::futures;
using concur_test::ExpectInChild;
using concur_test::HasUnreapedChildren;
using concur_test::StderrCapture;

mp::Context forkserver() { return mp::get_context("forkserver"); }

// Targets: plain functions of this program.
void greet(mp::Queue<std::string> out, int n, std::string text) {
  const auto parent = mp::parent_process();
  out.put(text + std::to_string(n) + " " + mp::current_process().name() + " " +
          std::to_string(parent ? parent->pid().value_or(0) : 0) + " " +
          std::to_string(::getpid()));
}

void exit_with(int code) { concur::sys::exit(code); }

// A worker's sudden end (no exit sequence, as a crash).
int die_at_once(int code) { ::_exit(code); }

void throw_value_error() { throw concur::ValueError("bad value in child"); }

void wait_for(mp::Event event) { static_cast<void>(event.wait()); }

// One of each shared type, each used from the child.
void use_everything(mp::Lock lock, mp::RLock rlock, mp::Semaphore semaphore,
                    mp::BoundedSemaphore bounded, mp::Event event,
                    mp::Condition condition, mp::Value<int> value,
                    mp::Array<double> array, mp::RawValue<long> raw,
                    mp::RawArray<int> raw_array, mp::JoinableQueue<int> jobs,
                    mp::SimpleQueue<std::string> notes,
                    mp::Connection& connection) {
  {
    concur::ScopedLock a(lock);
    concur::ScopedLock b(rlock);
    concur::ScopedLock c(rlock);
  }
  semaphore.release();
  bounded.release();
  {
    concur::ScopedLock guard(value.get_lock());
    value.get_obj().get() += 41;
  }
  for (double& d : array) d *= 2;
  raw.set_value(raw.value() + 1);
  raw_array[2] = 7;
  const int job = jobs.get();
  jobs.task_done();
  notes.put("job " + std::to_string(job));
  connection.send(std::string("over the pipe"));
  {
    concur::ScopedLock guard(condition);
    event.set();
    condition.notify_all();
  }
}

int take_global_lock();

void count_with_barrier(mp::Barrier barrier, mp::Value<int> arrived) {
  static_cast<void>(barrier.wait());
  arrived.fetch_add(1);
}

TEST(Forkserver, ContextsNameTheirMethods) {
  EXPECT_EQ(mp::get_context("fork").get_start_method(), "fork");
  EXPECT_EQ(forkserver().get_start_method(), "forkserver");
  EXPECT_TRUE(forkserver().uses_forkserver());
  EXPECT_EQ(forkserver(), mp::get_context("forkserver"));
  EXPECT_NE(forkserver(), mp::get_context("fork"));
  EXPECT_EQ(mp::get_all_start_methods(),
            (std::vector<std::string>{"fork", "forkserver"}));
  EXPECT_THROW(static_cast<void>(mp::get_context("spawn")), concur::ValueError);
  EXPECT_THROW(static_cast<void>(mp::get_context("threads")),
               concur::ValueError);
  EXPECT_THROW(mp::set_start_method("spawn"), concur::ValueError);
}

// In a fresh process (a forkserver child) nothing has chosen the default.
void check_default_start_method() {
  bool ok = !mp::get_start_method(true).has_value() &&
            mp::get_start_method() == "fork";
  try {
    mp::set_start_method("forkserver");
    ok = false;
  } catch (const concur::RuntimeError&) {
  }
  concur::sys::exit(ok ? 0 : 1);
}

TEST(Forkserver, SetStartMethodOnceAsPython) {
  mp::Process fresh = forkserver().Process(&check_default_start_method);
  fresh.start();
  fresh.join();
  EXPECT_EQ(fresh.exitcode(), 0);
  // In a child: the choice is process-wide.
  ExpectInChild([] {
    mp::set_start_method("forkserver", true);
    bool refused = false;
    try {
      mp::set_start_method("fork");
    } catch (const concur::RuntimeError&) {
      refused = true;
    }
    if (!refused || mp::get_start_method() != "forkserver" ||
        !mp::get_context().uses_forkserver()) {
      return false;
    }
    mp::set_start_method("fork", true);
    return mp::get_start_method() == "fork";
  });
}

TEST(Forkserver, ChildRunsTheTargetWithItsArguments) {
  mp::Queue<std::string> out;
  mp::Process p = forkserver().Process(&greet, out, 42, std::string("hi"));
  p.start();
  ASSERT_TRUE(p.pid().has_value());
  const std::string got = out.get(30s);
  EXPECT_EQ(got, "hi42 " + p.name() + " " + std::to_string(::getpid()) + " " +
                     std::to_string(*p.pid()));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(p.is_alive());
}

TEST(Forkserver, ProcessOptionsChooseTheContext) {
  mp::Queue<std::string> out;
  mp::Process p(mp::ProcessOptions{.name = "worker-7", .context = forkserver()},
                &greet, out, 1, std::string("x"));
  p.start();
  EXPECT_EQ(out.get(30s).substr(0, 12), "x1 worker-7 ");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Forkserver, ACapturelessLambdaTravelsToo) {
  mp::Value<int> value;
  mp::Process p = forkserver().Process(
      [](mp::Value<int> v, int add) { v.fetch_add(add); }, value, 5);
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(value.value(), 5);
}

TEST(Forkserver, ExitCodesAsForAForkedChild) {
  mp::Process exits = forkserver().Process(&exit_with, 7);
  exits.start();
  exits.join();
  EXPECT_EQ(exits.exitcode(), 7);

  StderrCapture capture;
  mp::Process throws = forkserver().Process(&throw_value_error);
  throws.start();
  throws.join();
  EXPECT_EQ(throws.exitcode(), 1);
  const std::string text = capture.text();
  EXPECT_NE(text.find("Process " + throws.name() + ":"), std::string::npos)
      << text;
  EXPECT_NE(text.find("bad value in child"), std::string::npos) << text;
}

TEST(Forkserver, TerminateKillJoinTimeoutAndSentinel) {
  mp::Event never;
  mp::Process p = forkserver().Process(&wait_for, never);
  p.start();
  EXPECT_TRUE(p.is_alive());
  EXPECT_FALSE(p.join(10ms));
  EXPECT_FALSE(p.exitcode().has_value());
  const int sentinel = p.sentinel();
  EXPECT_TRUE(mp::connection::wait(std::span(&sentinel, 1), 0s).empty());
  p.terminate();
  EXPECT_EQ(mp::connection::wait(std::span(&sentinel, 1), 30s).size(), 1u);
  p.join();
  EXPECT_EQ(p.exitcode(), -SIGTERM);
  p.terminate();  // ended: nothing

  mp::Process q = forkserver().Process(&wait_for, never);
  q.start();
  q.kill();
  q.join();
  EXPECT_EQ(q.exitcode(), -SIGKILL);
  q.close();
  EXPECT_THROW(static_cast<void>(q.exitcode()), concur::ValueError);
}

TEST(Forkserver, EverySharedTypeArrivesAsTheSameObject) {
  mp::Lock lock;
  mp::RLock rlock;
  mp::Semaphore semaphore(0);
  mp::BoundedSemaphore bounded(1);
  ASSERT_TRUE(bounded.acquire(false));
  mp::Event event;
  mp::Condition condition;
  mp::Value<int> value(1);
  mp::Array<double> array{1.5, 2.5, 3.5};
  mp::RawValue<long> raw(10);
  mp::RawArray<int> raw_array(4);
  mp::JoinableQueue<int> jobs;
  mp::SimpleQueue<std::string> notes;
  auto [mine, theirs] = mp::Pipe();
  jobs.put(99);
  mp::Process p = forkserver().Process(
      &use_everything, lock, rlock, semaphore, bounded, event, condition, value,
      array, raw, raw_array, jobs, notes, std::move(theirs));
  p.start();
  EXPECT_TRUE(semaphore.acquire(30s));
  EXPECT_TRUE(bounded.acquire(30s));
  EXPECT_TRUE(event.wait(30s));
  EXPECT_TRUE(jobs.join(30s));
  EXPECT_EQ(notes.get(), "job 99");
  EXPECT_EQ(mine.recv<std::string>(), "over the pipe");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(value.value(), 42);
  EXPECT_EQ(array[0], 3.0);
  EXPECT_EQ(array[2], 7.0);
  EXPECT_EQ(raw.value(), 11);
  EXPECT_EQ(raw_array[2], 7);
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(rlock.locked());
}

TEST(Forkserver, ABarrierJoinsParentAndChildren) {
  mp::Barrier barrier(3);
  mp::Value<int> arrived;
  mp::Process a = forkserver().Process(&count_with_barrier, barrier, arrived);
  mp::Process b = forkserver().Process(&count_with_barrier, barrier, arrived);
  a.start();
  b.start();
  static_cast<void>(barrier.wait(30s));
  a.join();
  b.join();
  EXPECT_EQ(arrived.value(), 2);
  EXPECT_EQ(a.exitcode(), 0);
  EXPECT_EQ(b.exitcode(), 0);
  mp::Barrier with_action(2, [] {});
  mp::Process c =
      forkserver().Process(&count_with_barrier, with_action, arrived);
  EXPECT_THROW(c.start(), concur::ValueError);
}

TEST(Forkserver, WhatCannotTravelIsRefusedAtStart) {
  int local = 3;
  mp::Process captures = forkserver().Process([&local] { ++local; });
  EXPECT_THROW(captures.start(), concur::ValueError);
  EXPECT_FALSE(captures.pid().has_value());

  struct Subclass : mp::Process {
    Subclass() : mp::Process(mp::ProcessOptions{.context = forkserver()}) {}
    void run() override {}
  } subclass;
  EXPECT_THROW(subclass.start(), concur::ValueError);

  // A forked child takes any callable.
  mp::Process later([&local] { concur::sys::exit(local == 3 ? 0 : 1); });
  later.start();
  later.join();
  EXPECT_EQ(later.exitcode(), 0);
}

TEST(Forkserver, ManyThreadsStartChildrenAtOnce) {
  mp::Value<int> total;
  std::vector<concur::threading::Thread> threads;
  std::vector<mp::Process> all[4];
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &total, &all] {
      for (int i = 0; i < 5; ++i) {
        mp::Process p = forkserver().Process(
            [](mp::Value<int> v) { v.fetch_add(1); }, total);
        p.start();
        all[t].push_back(p);
      }
    });
    threads.back().start();
  }
  for (auto& t : threads) t.join();
  for (auto& list : all) {
    for (auto& p : list) {
      p.join();
      EXPECT_EQ(p.exitcode(), 0);
    }
  }
  EXPECT_EQ(total.value(), 20);
  EXPECT_TRUE(mp::active_children().empty());
  EXPECT_FALSE(HasUnreapedChildren());
}

TEST(Forkserver, NoForkWarningFromAThreadedParent) {
  concur::threading::Event stop;
  concur::threading::Thread busy([&stop] { static_cast<void>(stop.wait()); });
  busy.start();
  StderrCapture capture;
  mp::Process p = forkserver().Process(&exit_with, 0);
  p.start();
  p.join();
  stop.set();
  busy.join();
  EXPECT_EQ(capture.text().find("DeprecationWarning"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Pools whose workers come from the forkserver.

concur::threading::Lock global_lock;

int take_global_lock() {
  concur::ScopedLock guard(global_lock);
  // Something that allocates, as most tasks do.
  std::vector<std::string> words(100, std::string(64, 'x'));
  return static_cast<int>(words.size());
}

int square(int x) { return x * x; }

int fail_with_type_error(int) { throw concur::TypeError("not a number"); }

void initialize() { ::setenv("CONCUR_TEST_INITIALIZED", "1", 1); }

bool initialized(int) {
  return std::getenv("CONCUR_TEST_INITIALIZED") != nullptr;
}

TEST(Forkserver, APoolStartedWhileThreadsHoldLocksCannotDeadlock) {
  // One thread holds a lock the tasks take, another keeps the C library's
  // allocator busy, while the pool starts its workers. Forked workers
  // would inherit the held lock and wait for ever; the forkserver's
  // cannot.
  concur::threading::Event holding;
  concur::threading::Event release;
  concur::threading::Thread holder([&] {
    concur::ScopedLock guard(global_lock);
    holding.set();
    static_cast<void>(release.wait());
  });
  std::atomic<bool> stop{false};
  concur::threading::Thread allocator([&stop] {
    while (!stop.load(std::memory_order_relaxed)) {
      std::vector<std::string> churn(64, std::string(200, 'y'));
    }
  });
  holder.start();
  allocator.start();
  ASSERT_TRUE(holding.wait(30s));
  {
    futures::ProcessPoolExecutor pool(futures::ProcessPoolOptions{
        .max_workers = 2, .mp_context = forkserver()});
    std::vector<futures::Future<int>> results;
    for (int i = 0; i < 8; ++i)
      results.push_back(pool.submit(&take_global_lock));
    for (auto& f : results) EXPECT_EQ(f.result(60s), 100);
  }
  stop.store(true, std::memory_order_relaxed);
  release.set();
  holder.join();
  allocator.join();
}

TEST(Forkserver, ProcessPoolExecutorWorksAsWithFork) {
  futures::ProcessPoolExecutor pool(
      futures::ProcessPoolOptions{.max_workers = 2,
                                  .initializer = &initialize,
                                  .mp_context = forkserver()});
  std::vector<int> items{1, 2, 3, 4, 5, 6};
  std::vector<int> squares;
  for (int v : pool.map(&square, items)) squares.push_back(v);
  EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16, 25, 36}));
  EXPECT_TRUE(pool.submit(&initialized, 0).result(60s));
  EXPECT_THROW(pool.submit(&fail_with_type_error, 1).result(60s),
               concur::TypeError);
  EXPECT_EQ(pool.submit([](int x) { return x + 1; }, 41).result(60s), 42);
}

TEST(Forkserver, AKilledForkserverWorkerBreaksThePool) {
  futures::ProcessPoolExecutor pool(futures::ProcessPoolOptions{
      .max_workers = 1, .mp_context = forkserver()});
  EXPECT_EQ(pool.submit(&square, 3).result(60s), 9);
  auto dies = pool.submit(&die_at_once, 3);
  EXPECT_THROW(dies.result(60s), futures::BrokenProcessPool);
  EXPECT_THROW(static_cast<void>(pool.submit(&square, 1)),
               futures::BrokenProcessPool);
}

TEST(Forkserver, ReplacedWorkersComeFromTheServerToo) {
  futures::ProcessPoolExecutor pool(futures::ProcessPoolOptions{
      .max_workers = 2, .max_tasks_per_child = 2, .mp_context = forkserver()});
  int sum = 0;
  for (int i = 0; i < 10; ++i) sum += pool.submit(&square, i).result(60s);
  EXPECT_EQ(sum, 285);
}

TEST(Forkserver, AnInitializerThatIsNotAFunctionIsRefused) {
  EXPECT_THROW(futures::ProcessPoolExecutor(futures::ProcessPoolOptions{
                   .initializer = [] {}, .mp_context = forkserver()}),
               concur::ValueError);
  EXPECT_THROW(
      mp::Pool(mp::PoolOptions{.initializer = [] {}, .context = forkserver()}),
      concur::ValueError);
}

TEST(Forkserver, PoolMapsWithForkserverWorkers) {
  mp::Pool pool(mp::PoolOptions{.processes = 2, .context = forkserver()});
  std::vector<int> items(100);
  for (int i = 0; i < 100; ++i) items[i] = i;
  const std::vector<int> got = pool.map(&square, items);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got[99], 99 * 99);
  pool.close();
  pool.join();
}

void put_square(mp::Queue<int> out, int x) { out.put(square(x)); }

// In a forkserver child: a pool of forked workers, and a child of its own
// from its own forkserver.
void start_from_a_forkserver_child(mp::Queue<int> out) {
  {
    futures::ProcessPoolExecutor pool(futures::ProcessPoolOptions{
        .max_workers = 1, .mp_context = mp::get_context("fork")});
    out.put(pool.submit(&square, 5).result());
  }
  mp::Process nested = forkserver().Process(&put_square, out, 6);
  nested.start();
  nested.join();
  concur::sys::exit(nested.exitcode().value_or(-1));
}

TEST(Forkserver, AForkserverChildStartsChildrenBothWays) {
  mp::Queue<int> out;
  mp::Process p = forkserver().Process(&start_from_a_forkserver_child, out);
  p.start();
  EXPECT_EQ(out.get(60s), 25);
  EXPECT_EQ(out.get(60s), 36);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

// The server starts with only its connection: a pipe this process left
// inheritable ends when this process closes its end, server or not.
TEST(Forkserver, TheServerKeepsNoDescriptorOfTheCaller) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);  // not close-on-exec, on purpose
  mp::Process p = forkserver().Process(&exit_with, 0);
  p.start();
  p.join();
  ASSERT_EQ(p.exitcode(), 0);
  ::close(pipe_fds[1]);
  pollfd hangup = {pipe_fds[0], POLLIN, 0};
  ASSERT_EQ(::poll(&hangup, 1, 30000), 1);
  EXPECT_NE(hangup.revents & POLLHUP, 0);
  ::close(pipe_fds[0]);
}

TEST(Forkserver, NoZombiesLeft) {
  mp::Process p = forkserver().Process(&exit_with, 0);
  p.start();
  p.join();
  EXPECT_FALSE(HasUnreapedChildren());
}

}  // namespace
