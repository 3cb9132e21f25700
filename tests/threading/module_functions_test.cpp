// The threading module's functions: current_thread, main_thread, enumerate,
// active_count, get_ident, get_native_id and stack_size, after CPython's
// Lib/test/test_threading.py.

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using concur::threading::active_count;
using concur::threading::current_thread;
using concur::threading::enumerate;
using concur::threading::Event;
using concur::threading::get_ident;
using concur::threading::get_native_id;
using concur::threading::main_thread;
using concur::threading::stack_size;
using concur::threading::Thread;
using testing::MatchesRegex;

bool Listed(const Thread& thread) {
  auto all = enumerate();
  return std::find(all.begin(), all.end(), thread) != all.end();
}

// Sets the stack size for a test and puts the previous one back.
class ScopedStackSize {
 public:
  explicit ScopedStackSize(std::size_t size) : previous_(stack_size(size)) {}
  ~ScopedStackSize() { stack_size(previous_); }
  ScopedStackSize(const ScopedStackSize&) = delete;
  ScopedStackSize& operator=(const ScopedStackSize&) = delete;

 private:
  std::size_t previous_;
};

// Threads that stay alive until the object is destroyed.
class AliveThreads {
 public:
  explicit AliveThreads(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { end_.wait(); });
    for (auto& t : threads_) t.start();
  }
  ~AliveThreads() {
    end_.set();
    for (auto& t : threads_) t.join();
  }
  const std::vector<Thread>& threads() const { return threads_; }

 private:
  Event end_;
  std::vector<Thread> threads_;
};

TEST(CurrentThread, InTheMainThreadIsMainThread) {
  Thread current = current_thread();
  EXPECT_EQ(current.name(), "MainThread");
  EXPECT_TRUE(current == main_thread());
  EXPECT_FALSE(current.daemon());
  EXPECT_TRUE(current.is_alive());
  EXPECT_EQ(current.ident(), get_ident());
  EXPECT_EQ(current.native_id(), get_native_id());
}

TEST(CurrentThread, MainThreadIsTheSameFromEveryThread) {
  std::optional<Thread> seen;
  Thread t([&] { seen = main_thread(); });
  t.start();
  t.join();
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(*seen == main_thread());
  EXPECT_EQ(seen->name(), "MainThread");
}

TEST(CurrentThread, InAStartedThreadIsThatThread) {
  std::optional<Thread> seen;
  Thread t([&] { seen = current_thread(); });
  t.start();
  t.join();
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(*seen == t);
  EXPECT_FALSE(*seen == main_thread());
}

TEST(CurrentThread, InAForeignThreadIsADaemonDummy) {
  std::optional<Thread> dummy;
  bool same_twice = false;
  bool alive_inside = false;
  bool listed_inside = false;
  bool join_threw = false;
  bool timed_join_threw = false;
  std::optional<std::uint64_t> ident;
  std::uint64_t ident_inside = 0;
  std::thread foreign([&] {
    dummy = current_thread();
    same_twice = current_thread() == *dummy;
    alive_inside = dummy->is_alive();
    listed_inside = Listed(*dummy);
    ident = dummy->ident();
    ident_inside = get_ident();
    try {
      dummy->join();
    } catch (const concur::RuntimeError&) {
      join_threw = true;
    }
    try {
      static_cast<void>(dummy->join(std::chrono::milliseconds(1)));
    } catch (const concur::RuntimeError&) {
      timed_join_threw = true;
    }
  });
  foreign.join();
  ASSERT_TRUE(dummy.has_value());
  EXPECT_THAT(dummy->name(), MatchesRegex("Dummy-[0-9]+"));
  EXPECT_TRUE(dummy->daemon());
  EXPECT_TRUE(same_twice);
  EXPECT_FALSE(*dummy == main_thread());
  EXPECT_TRUE(alive_inside);
  EXPECT_TRUE(listed_inside);
  EXPECT_EQ(ident, ident_inside);
  EXPECT_TRUE(join_threw);
  EXPECT_TRUE(timed_join_threw);
}

TEST(CurrentThread, DummyCannotBeJoinedFromAnotherThread) {
  std::latch made(1);
  Event finish;
  std::optional<Thread> dummy;
  std::thread foreign([&] {
    dummy = current_thread();
    made.count_down();
    finish.wait();
  });
  made.wait();
  EXPECT_THROW(dummy->join(), concur::RuntimeError);
  finish.set();
  foreign.join();
}

TEST(CurrentThread, DummyIsGoneWhenItsThreadEnds) {
  std::optional<Thread> dummy;
  std::thread([&] { dummy = current_thread(); }).join();
  ASSERT_TRUE(dummy.has_value());
  EXPECT_FALSE(dummy->is_alive());
  EXPECT_FALSE(Listed(*dummy));
}

TEST(CurrentThread, DummiesHaveDistinctNames) {
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) {
    std::thread([&] { names.insert(current_thread().name()); }).join();
  }
  EXPECT_EQ(names.size(), 3u);
}

TEST(Enumerate, ListsTheMainThread) {
  EXPECT_TRUE(Listed(main_thread()));
  EXPECT_GE(active_count(), 1u);
}

TEST(Enumerate, ListsStartedThreadsUntilTheyEnd) {
  Thread not_started([] {});
  std::optional<Thread> ended;
  {
    AliveThreads alive(3);
    for (const auto& t : alive.threads()) EXPECT_TRUE(Listed(t));
    EXPECT_FALSE(Listed(not_started));
    ended = alive.threads().front();
  }
  EXPECT_FALSE(Listed(*ended));
}

TEST(Enumerate, ActiveCountFollowsStartedAndEndedThreads) {
  std::size_t before = active_count();
  EXPECT_EQ(before, enumerate().size());
  {
    AliveThreads alive(4);
    EXPECT_EQ(active_count(), before + 4);
    EXPECT_EQ(enumerate().size(), before + 4);
  }
  EXPECT_EQ(active_count(), before);
  EXPECT_EQ(enumerate().size(), before);
}

TEST(Enumerate, IncludesAliveDummies) {
  std::latch made(1);
  Event finish;
  std::optional<Thread> dummy;
  std::size_t before = active_count();
  std::thread foreign([&] {
    dummy = current_thread();
    made.count_down();
    finish.wait();
  });
  made.wait();
  EXPECT_TRUE(Listed(*dummy));
  EXPECT_EQ(active_count(), before + 1);
  finish.set();
  foreign.join();
  EXPECT_EQ(active_count(), before);
}

TEST(GetIdent, IsThePthreadIdentifier) {
  EXPECT_EQ(get_ident(), static_cast<std::uint64_t>(pthread_self()));
  std::uint64_t inside = 0;
  std::uint64_t expected = 1;
  std::thread([&] {
    inside = get_ident();
    expected = static_cast<std::uint64_t>(pthread_self());
  }).join();
  EXPECT_EQ(inside, expected);
}

TEST(GetIdent, DiffersBetweenLiveThreads) {
  AliveThreads alive(3);
  std::set<std::uint64_t> idents{get_ident()};
  for (const auto& t : alive.threads()) idents.insert(t.ident().value());
  EXPECT_EQ(idents.size(), 4u);
}

TEST(GetNativeId, IsTheKernelThreadId) {
  EXPECT_EQ(get_native_id(), static_cast<long>(::syscall(SYS_gettid)));
  EXPECT_EQ(main_thread().native_id(), static_cast<long>(::getpid()));
  long inside = 0;
  long expected = 1;
  std::thread([&] {
    inside = get_native_id();
    expected = static_cast<long>(::syscall(SYS_gettid));
  }).join();
  EXPECT_EQ(inside, expected);
  EXPECT_NE(inside, get_native_id());
}

TEST(StackSize, DefaultIsZero) { EXPECT_EQ(stack_size(), 0u); }

TEST(StackSize, RejectsSizesBelow32KiB) {
  EXPECT_THROW(stack_size(1), concur::ValueError);
  EXPECT_THROW(stack_size(4096), concur::ValueError);
  EXPECT_THROW(stack_size(32767), concur::ValueError);
  EXPECT_EQ(stack_size(), 0u);
}

TEST(StackSize, SetReturnsThePreviousValue) {
  ScopedStackSize scoped(32768);
  EXPECT_EQ(stack_size(), 32768u);
  EXPECT_EQ(stack_size(1 << 20), 32768u);
  EXPECT_EQ(stack_size(0), std::size_t{1} << 20);
  EXPECT_EQ(stack_size(), 0u);
}

TEST(StackSize, ThreadStartedWithASetStackSizeRuns) {
  constexpr std::size_t kSize = 4 << 20;
  ScopedStackSize scoped(kSize);
  std::size_t actual = 0;
  Thread t([&] {
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstacksize(&attr, &actual);
      pthread_attr_destroy(&attr);
    }
  });
  t.start();
  t.join();
  EXPECT_GE(actual, kSize);
}

}  // namespace
