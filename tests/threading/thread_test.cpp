// Thread: Python's threading.Thread, after CPython's
// Lib/test/test_threading.py.

#include <sched.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Event;
using concur::threading::get_ident;
using concur::threading::get_native_id;
using concur::threading::main_thread;
using concur::threading::Thread;
using concur::threading::ThreadOptions;
using testing::MatchesRegex;
using Clock = std::chrono::steady_clock;

// A Thread subclass in the Python style: the work is in run().
class Counter : public Thread {
 public:
  Counter() = default;
  explicit Counter(ThreadOptions options) : Thread(std::move(options)) {}
  int count = 0;
  std::optional<Thread> seen_as;

 protected:
  void run() override {
    seen_as = current_thread();
    for (int i = 0; i < 10; ++i) ++count;
  }
};

// A subclass whose run() waits until released, for tests that need a thread
// to stay alive.
class Blocker : public Thread {
 public:
  Event running;
  Event release;

 protected:
  void run() override {
    running.set();
    release.wait();
  }
};

void Add(int* total, int amount) { *total += amount; }

// The N of a "Thread-N" name.
long NameNumber(const std::string& name) {
  return std::stol(name.substr(name.find('-') + 1));
}

TEST(Thread, RunsTargetWithArguments) {
  int sum = 0;
  std::string text;
  Thread t(
      [&](int a, int b, const std::string& s) {
        sum = a + b;
        text = s;
      },
      2, 40, std::string("hello"));
  t.start();
  t.join();
  EXPECT_EQ(sum, 42);
  EXPECT_EQ(text, "hello");
}

TEST(Thread, RunsPlainFunctionTarget) {
  int total = 0;
  Thread t(&Add, &total, 3);
  t.start();
  t.join();
  EXPECT_EQ(total, 3);
}

TEST(Thread, ArgumentsAreCopiedAtConstruction) {
  int value = 1;
  int seen = 0;
  Thread t([&seen](int v) { seen = v; }, value);
  value = 2;
  t.start();
  t.join();
  EXPECT_EQ(seen, 1);
}

TEST(Thread, ReferenceWrapperArgumentsAreReferences) {
  int value = 1;
  Thread t([](int& v) { v = 7; }, std::ref(value));
  t.start();
  t.join();
  EXPECT_EQ(value, 7);
}

TEST(Thread, MoveOnlyArgumentsAndTargets) {
  int seen = 0;
  Thread with_argument([&seen](std::unique_ptr<int>& p) { seen = *p; },
                       std::make_unique<int>(5));
  auto owned = std::make_unique<int>(9);
  int seen_by_target = 0;
  Thread with_target(
      [p = std::move(owned), &seen_by_target] { seen_by_target = *p; });
  with_argument.start();
  with_target.start();
  with_argument.join();
  with_target.join();
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(seen_by_target, 9);
}

TEST(Thread, SubclassOverridingRun) {
  Counter counter;
  counter.start();
  counter.join();
  EXPECT_EQ(counter.count, 10);
  ASSERT_TRUE(counter.seen_as.has_value());
  EXPECT_TRUE(*counter.seen_as == counter);
}

TEST(Thread, SubclassWithOptions) {
  Counter counter(ThreadOptions{.name = "counter", .daemon = true});
  EXPECT_EQ(counter.name(), "counter");
  EXPECT_TRUE(counter.daemon());
  counter.start();
  counter.join();
  EXPECT_EQ(counter.count, 10);
}

TEST(Thread, WithoutTargetDoesNothing) {
  Thread t;
  t.start();
  t.join();
  EXPECT_FALSE(t.is_alive());
  Thread named(ThreadOptions{.name = "idle", .daemon = std::nullopt});
  named.start();
  named.join();
  EXPECT_EQ(named.name(), "idle");
}

TEST(Thread, DefaultNameIsThreadN) {
  Thread a([] {});
  Thread b([] {});
  EXPECT_THAT(a.name(), MatchesRegex("Thread-[0-9]+"));
  EXPECT_THAT(b.name(), MatchesRegex("Thread-[0-9]+"));
  EXPECT_LT(NameNumber(a.name()), NameNumber(b.name()));
  Thread subclass;
  EXPECT_THAT(subclass.name(), MatchesRegex("Thread-[0-9]+"));
}

TEST(Thread, CustomNameIsSeenInsideTheThread) {
  std::string inside;
  Thread t(ThreadOptions{.name = "worker", .daemon = std::nullopt},
           [&] { inside = current_thread().name(); });
  EXPECT_EQ(t.name(), "worker");
  t.start();
  t.join();
  EXPECT_EQ(inside, "worker");
}

TEST(Thread, SetNameBeforeAndAfterStart) {
  Event renamed;
  std::string inside;
  Thread t([&] {
    renamed.wait();
    inside = current_thread().name();
  });
  t.set_name("first");
  EXPECT_EQ(t.name(), "first");
  t.start();
  t.set_name("second");
  renamed.set();
  t.join();
  EXPECT_EQ(inside, "second");
  EXPECT_EQ(t.name(), "second");
}

TEST(Thread, NameMayBeReadWhileAnotherThreadRenames) {
  Event stop;
  Thread reader([&] {
    while (!stop.is_set()) {
      EXPECT_THAT(current_thread().name(), MatchesRegex("name-[0-9]+"));
    }
  });
  reader.set_name("name-0");
  reader.start();
  for (int i = 1; i <= 100; ++i) reader.set_name("name-" + std::to_string(i));
  stop.set();
  reader.join();
  EXPECT_EQ(reader.name(), "name-100");
}

TEST(Thread, IdentIsEmptyBeforeStartAndMatchesInsideAfter) {
  std::uint64_t ident_inside = 0;
  long native_inside = 0;
  Thread t([&] {
    ident_inside = get_ident();
    native_inside = get_native_id();
  });
  EXPECT_FALSE(t.ident().has_value());
  EXPECT_FALSE(t.native_id().has_value());
  t.start();
  EXPECT_TRUE(t.ident().has_value());
  EXPECT_TRUE(t.native_id().has_value());
  t.join();
  EXPECT_EQ(t.ident(), ident_inside);
  EXPECT_EQ(t.native_id(), native_inside);
  EXPECT_NE(t.native_id(), get_native_id());
}

TEST(Thread, NativeIdIsAvailableWhileTheThreadRuns) {
  Blocker blocker;
  blocker.start();
  auto id = blocker.native_id();
  ASSERT_TRUE(id.has_value());
  EXPECT_GT(*id, 0);
  blocker.release.set();
  blocker.join();
  EXPECT_EQ(blocker.native_id(), id);
}

TEST(Thread, DaemonDefaultsToTheCreatorsFlag) {
  Thread from_main([] {});
  EXPECT_FALSE(from_main.daemon());

  std::optional<bool> from_daemon;
  Thread daemon(ThreadOptions{.name = "", .daemon = true},
                [&] { from_daemon = Thread([] {}).daemon(); });
  daemon.start();
  daemon.join();
  EXPECT_EQ(from_daemon, true);

  std::optional<bool> from_non_daemon;
  Thread non_daemon(ThreadOptions{.name = "", .daemon = false},
                    [&] { from_non_daemon = Thread([] {}).daemon(); });
  non_daemon.start();
  non_daemon.join();
  EXPECT_EQ(from_non_daemon, false);

  // A thread concur did not start is a daemon dummy, so its children are
  // daemons too, as in Python.
  std::optional<bool> from_foreign;
  std::thread([&] { from_foreign = Thread([] {}).daemon(); }).join();
  EXPECT_EQ(from_foreign, true);
}

TEST(Thread, ExplicitDaemonFlagOverridesTheDefault) {
  Thread t(ThreadOptions{.name = "", .daemon = true}, [] {});
  EXPECT_TRUE(t.daemon());
  std::optional<bool> inside;
  Thread non_daemon_child(ThreadOptions{.name = "", .daemon = true}, [&] {
    inside = Thread(ThreadOptions{.name = "", .daemon = false}, [] {}).daemon();
  });
  non_daemon_child.start();
  non_daemon_child.join();
  EXPECT_EQ(inside, false);
}

TEST(Thread, SetDaemonBeforeStart) {
  std::optional<bool> inside;
  Thread t([&] { inside = current_thread().daemon(); });
  t.set_daemon(true);
  EXPECT_TRUE(t.daemon());
  t.start();
  t.join();
  EXPECT_EQ(inside, true);
}

TEST(Thread, SetDaemonAfterStartThrowsRuntimeError) {
  Blocker blocker;
  blocker.start();
  EXPECT_THROW(blocker.set_daemon(true), concur::RuntimeError);
  EXPECT_FALSE(blocker.daemon());
  blocker.release.set();
  blocker.join();
  EXPECT_THROW(blocker.set_daemon(true), concur::RuntimeError);
}

TEST(Thread, StartTwiceThrowsRuntimeError) {
  Blocker blocker;
  blocker.start();
  EXPECT_THROW(blocker.start(), concur::RuntimeError);
  blocker.release.set();
  blocker.join();
  EXPECT_THROW(blocker.start(), concur::RuntimeError);

  std::atomic<int> runs{0};
  Thread t([&] { ++runs; });
  t.start();
  t.join();
  EXPECT_THROW(t.start(), concur::RuntimeError);
  EXPECT_EQ(runs, 1);
}

TEST(Thread, JoinBeforeStartThrowsRuntimeError) {
  Thread t([] {});
  EXPECT_THROW(t.join(), concur::RuntimeError);
  EXPECT_THROW(static_cast<void>(t.join(1ms)), concur::RuntimeError);
}

TEST(Thread, JoinFromTheThreadItselfThrowsRuntimeError) {
  bool threw = false;
  bool threw_with_timeout = false;
  Thread t([&] {
    try {
      current_thread().join();
    } catch (const concur::RuntimeError&) {
      threw = true;
    }
    try {
      static_cast<void>(current_thread().join(1ms));
    } catch (const concur::RuntimeError&) {
      threw_with_timeout = true;
    }
  });
  t.start();
  t.join();
  EXPECT_TRUE(threw);
  EXPECT_TRUE(threw_with_timeout);
}

TEST(Thread, MainThreadCannotJoinItself) {
  EXPECT_THROW(main_thread().join(), concur::RuntimeError);
  EXPECT_THROW(static_cast<void>(current_thread().join(1ms)),
               concur::RuntimeError);
}

TEST(Thread, JoinTimeoutReturnsFalseWhileRunningAndTrueAfter) {
  Blocker blocker;
  blocker.start();
  auto start = Clock::now();
  EXPECT_FALSE(blocker.join(30ms));
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_FALSE(blocker.join(0ms));
  EXPECT_TRUE(blocker.is_alive());
  blocker.release.set();
  EXPECT_TRUE(blocker.join(30s));
  EXPECT_TRUE(blocker.join(0ms));
  EXPECT_FALSE(blocker.is_alive());
}

TEST(Thread, JoinNegativeTimeoutThrowsValueError) {
  Thread t([] {});
  t.start();
  EXPECT_THROW(static_cast<void>(t.join(-1ms)), concur::ValueError);
  t.join();
}

TEST(Thread, JoinTwiceAndFromSeveralThreads) {
  Blocker blocker;
  blocker.start();
  std::vector<std::thread> joiners;
  std::atomic<int> joined{0};
  for (int i = 0; i < 3; ++i) {
    joiners.emplace_back([&] {
      blocker.join();
      ++joined;
    });
  }
  blocker.release.set();
  for (auto& j : joiners) j.join();
  EXPECT_EQ(joined, 3);
  blocker.join();
  EXPECT_FALSE(blocker.is_alive());
}

TEST(Thread, IsAliveFromStartUntilTheEnd) {
  Event proceed;
  bool alive_inside = false;
  Thread t([&] {
    alive_inside = current_thread().is_alive();
    proceed.wait();
  });
  EXPECT_FALSE(t.is_alive());
  t.start();
  EXPECT_TRUE(t.is_alive());
  proceed.set();
  t.join();
  EXPECT_FALSE(t.is_alive());
  EXPECT_TRUE(alive_inside);
}

TEST(Thread, CopiesAreHandlesToTheSameThread) {
  Event proceed;
  Thread original([&] { proceed.wait(); });
  Thread copy = original;
  EXPECT_TRUE(copy == original);
  Thread other([] {});
  EXPECT_FALSE(other == original);
  Thread assigned = other;
  assigned = original;
  EXPECT_TRUE(assigned == original);

  copy.start();
  EXPECT_TRUE(original.is_alive());
  EXPECT_TRUE(assigned.is_alive());
  EXPECT_EQ(original.ident(), copy.ident());
  EXPECT_THROW(original.start(), concur::RuntimeError);
  original.set_name("renamed");
  EXPECT_EQ(copy.name(), "renamed");
  proceed.set();
  assigned.join();
  EXPECT_FALSE(copy.is_alive());
}

TEST(Thread, SubclassCopyIsAHandleToTheSameThread) {
  Blocker blocker;
  Thread handle = blocker;
  EXPECT_TRUE(handle == blocker);
  blocker.start();
  EXPECT_TRUE(handle.is_alive());
  blocker.release.set();
  handle.join();
  EXPECT_FALSE(blocker.is_alive());
}

TEST(Thread, CurrentThreadInsideIsTheSameThread) {
  std::optional<Thread> inside;
  Thread t([&] { inside = current_thread(); });
  t.start();
  t.join();
  ASSERT_TRUE(inside.has_value());
  EXPECT_TRUE(*inside == t);
  EXPECT_FALSE(*inside == main_thread());
}

TEST(Thread, TargetedHandleMayBeDestroyedWhileTheThreadRuns) {
  std::promise<Thread> self;
  auto self_future = self.get_future();
  Event proceed;
  std::atomic<bool> finished{false};
  auto owned = std::make_shared<int>(11);
  std::weak_ptr<int> watch = owned;
  {
    Thread t([&, owned = std::move(owned)] {
      self.set_value(current_thread());
      proceed.wait();
      finished = *owned == 11;
    });
    t.start();
  }
  Thread handle = self_future.get();
  EXPECT_TRUE(handle.is_alive());
  // The thread keeps its target, with what it captured, while it runs.
  EXPECT_FALSE(watch.expired());
  proceed.set();
  handle.join();
  EXPECT_TRUE(finished);
}

TEST(Thread, StartHappensBeforeTargetAndTargetHappensBeforeJoin) {
  int shared = 0;  // deliberately not atomic: start and join must order it
  Thread t([&] { shared += 1; });
  shared = 41;
  t.start();
  t.join();
  EXPECT_EQ(shared, 42);
}

TEST(Thread, ManyThreadsStartAndJoin) {
  constexpr int kThreads = 50;
  std::vector<Thread> threads;
  std::atomic<int> ran{0};
  std::set<std::string> names;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] { ++ran; });
    names.insert(threads.back().name());
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran, kThreads);
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kThreads));
}

TEST(ThreadDeathTest, DestroyingARunningSubclassAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto blocker = std::make_unique<Blocker>();
        blocker->start();
        blocker->running.wait();
        blocker.reset();
      },
      // The header promises a message, not its wording.
      testing::Not(testing::IsEmpty()));
}

TEST(ThreadDeathTest, DestroyingAStartedSubclassAbortsEvenBeforeRunBegins) {
  // The header promises an abort for any destruction before run() returns.
  // Destroyed right after start(), the object goes before its thread
  // reaches run(): pinned to the starter's one CPU, the new thread does not
  // get to run first. Passing quietly here would mean a run() that never
  // ran.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        cpu_set_t one_cpu;
        CPU_ZERO(&one_cpu);
        CPU_SET(sched_getcpu(), &one_cpu);
        sched_setaffinity(0, sizeof(one_cpu), &one_cpu);
        auto blocker = std::make_unique<Blocker>();
        blocker->start();
        blocker.reset();
      },
      testing::Not(testing::IsEmpty()));
}

}  // namespace
