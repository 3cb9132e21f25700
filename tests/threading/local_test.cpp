// local<T>: Python's threading.local, after CPython's
// Lib/test/test_threading_local.py.

#include <atomic>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using concur::threading::Event;
using concur::threading::local;
using concur::threading::Thread;

struct Counters {
  std::atomic<int> made{0};
  std::atomic<int> destroyed{0};
};

// A value that counts its constructions and destructions.
class Tracked {
 public:
  explicit Tracked(Counters* counters, int initial = 0)
      : value(initial), counters_(counters) {
    ++counters_->made;
  }
  ~Tracked() { ++counters_->destroyed; }
  Tracked(const Tracked&) = delete;
  Tracked& operator=(const Tracked&) = delete;

  int value;

 private:
  Counters* counters_;
};

TEST(Local, EachThreadSeesItsOwnValue) {
  constexpr int kThreads = 4;
  local<int> value(-1);
  *value = 100;
  std::latch all_written(kThreads);
  std::vector<int> initial(kThreads);
  std::vector<int> final_values(kThreads);
  std::vector<Thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      initial[i] = *value;
      *value = i;
      // Every thread writes before any reads back.
      all_written.arrive_and_wait();
      final_values[i] = value.get();
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(initial[i], -1);
    EXPECT_EQ(final_values[i], i);
  }
  EXPECT_EQ(*value, 100);
}

TEST(Local, ConstructorArgumentsAreCopiedForEachThread) {
  local<std::vector<int>> numbers(3u, 7);
  numbers->push_back(1);
  std::vector<int> seen;
  std::thread([&] {
    seen = *numbers;
    numbers->clear();
  }).join();
  EXPECT_EQ(seen, (std::vector<int>{7, 7, 7}));
  EXPECT_EQ(*numbers, (std::vector<int>{7, 7, 7, 1}));

  std::string seed = "seed";
  local<std::string> text(seed);
  seed = "changed";
  text->append("-main");
  std::string in_thread;
  std::thread([&] { in_thread = *text; }).join();
  EXPECT_EQ(in_thread, "seed");
  EXPECT_EQ(*text, "seed-main");
}

TEST(Local, DefaultConstructsWithoutArguments) {
  local<std::string> text;
  EXPECT_EQ(*text, "");
  local<int> number;
  EXPECT_EQ(*number, 0);
}

TEST(Local, ValueIsMadeOnFirstUseOnly) {
  Counters counters;
  local<Tracked> tracked(&counters, 5);
  EXPECT_EQ(counters.made, 0);
  std::thread([] {}).join();
  EXPECT_EQ(counters.made, 0);
  EXPECT_EQ(tracked->value, 5);
  tracked->value = 6;
  EXPECT_EQ(tracked.get().value, 6);
  EXPECT_EQ(counters.made, 1);
}

TEST(Local, EveryAccessReachesTheSameObject) {
  local<int> value(0);
  int* address = &value.get();
  EXPECT_EQ(&*value, address);
  EXPECT_EQ(value.operator->(), address);
  int* other_address = nullptr;
  std::thread([&] { other_address = &value.get(); }).join();
  EXPECT_NE(other_address, address);
}

TEST(Local, ValueDestroyedWhenItsThreadEndsBeforeJoinReturns) {
  Counters counters;
  local<Tracked> tracked(&counters);
  Thread t([&] { tracked->value = 1; });
  t.start();
  t.join();
  EXPECT_EQ(counters.made, 1);
  EXPECT_EQ(counters.destroyed, 1);
}

TEST(Local, ValueDestroyedWhenAForeignThreadEnds) {
  Counters counters;
  local<Tracked> tracked(&counters);
  std::thread([&] { tracked->value = 1; }).join();
  EXPECT_EQ(counters.made, 1);
  EXPECT_EQ(counters.destroyed, 1);
}

TEST(Local, ValueSurvivesUntilItsThreadEnds) {
  Counters counters;
  local<Tracked> tracked(&counters);
  Event touched;
  Event finish;
  Thread t([&] {
    tracked->value = 3;
    touched.set();
    finish.wait();
  });
  t.start();
  touched.wait();
  EXPECT_EQ(counters.destroyed, 0);
  finish.set();
  t.join();
  EXPECT_EQ(counters.destroyed, 1);
}

TEST(Local, ValuesDestroyedWhenTheLocalIsDestroyed) {
  Counters counters;
  {
    local<Tracked> tracked(&counters);
    tracked->value = 1;
    EXPECT_EQ(counters.made, 1);
  }
  EXPECT_EQ(counters.destroyed, 1);
}

TEST(Local, LocalDestroyedWhileThreadsStillHoldValues) {
  constexpr int kThreads = 3;
  Counters counters;
  auto tracked = std::make_unique<local<Tracked>>(&counters);
  std::latch touched(kThreads);
  Event finish;
  std::vector<Thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      (*tracked)->value = 1;
      touched.count_down();
      finish.wait();
    });
  }
  for (auto& t : threads) t.start();
  touched.wait();
  (*tracked)->value = 1;
  EXPECT_EQ(counters.made, kThreads + 1);
  tracked.reset();
  // Whichever comes first: the local's end destroys every thread's value.
  EXPECT_EQ(counters.destroyed, kThreads + 1);
  finish.set();
  for (auto& t : threads) t.join();
  // And the threads' ends do not destroy them again.
  EXPECT_EQ(counters.destroyed, kThreads + 1);
}

TEST(Local, NewLocalNeverSeesAnEarlierLocalsValue) {
  // A later local may reuse the earlier one's address; it must still start
  // from its own constructor arguments.
  for (int i = 0; i < 20; ++i) {
    auto value = std::make_unique<local<int>>(i);
    EXPECT_EQ(**value, i);
    **value = -1;
  }
}

TEST(Local, DistinctLocalsOfOneTypeAreIndependent) {
  local<int> a(1);
  local<int> b(2);
  *a = 10;
  EXPECT_EQ(*b, 2);
  *b = 20;
  EXPECT_EQ(*a, 10);
}

TEST(Local, ManyLocalsAndManyThreads) {
  constexpr int kLocals = 16;
  constexpr int kThreads = 8;
  Counters counters;
  std::vector<std::unique_ptr<local<Tracked>>> locals;
  for (int i = 0; i < kLocals; ++i) {
    locals.push_back(std::make_unique<local<Tracked>>(&counters, -1));
  }
  std::latch all_written(kThreads);
  std::atomic<int> wrong{0};
  std::vector<Thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kLocals; ++i) {
        if ((*locals[i])->value != -1) ++wrong;
        (*locals[i])->value = t * kLocals + i;
      }
      all_written.arrive_and_wait();
      for (int i = 0; i < kLocals; ++i) {
        if ((*locals[i])->value != t * kLocals + i) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(counters.made, kLocals * kThreads);
  EXPECT_EQ(counters.destroyed, kLocals * kThreads);
  locals.clear();
  EXPECT_EQ(counters.destroyed, kLocals * kThreads);
}

TEST(Local, LocalsCreatedAndDestroyedConcurrently) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 200;
  Counters counters;
  local<Tracked> shared(&counters);
  std::vector<Thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        local<Tracked> own(&counters, round);
        if (own->value != round) ++wrong;
        shared->value = t;
      }
      if (shared->value != t) ++wrong;
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(counters.made, kThreads * (kRounds + 1));
  EXPECT_EQ(counters.destroyed, kThreads * (kRounds + 1));
}

}  // namespace
