// The exit sequence (<concur/atexit.hpp>), in Python's order whatever was
// made first: live pools are drained, then non-daemon threads are joined,
// then the atexit functions run, the last registered first. Each scenario
// runs in a child process (a gtest death test) that calls std::exit(0).

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/atexit.hpp"
#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using concur::futures::ThreadPoolExecutor;
using concur::threading::Event;
using concur::threading::Thread;
using testing::AllOf;
using testing::ContainsRegex;
using testing::ExitedWithCode;

void Print(const char* message) {
  std::fputs(message, stderr);
  std::fflush(stderr);
}

class ExitOrderDeathTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// A non-daemon thread that keeps submitting until the pool refuses: it can
// only end once the pool has been shut down, so if threads were joined
// before pools were drained, exit would never finish (and the test would
// fail by its time limit). The printed order shows the rest.
void SubmitUntilRefused(ThreadPoolExecutor* pool, Event* started) {
  started->set();
  for (;;) {
    try {
      pool->submit([] {}).result();
    } catch (const concur::RuntimeError&) {
      Print("thread: pool refused\n");
      return;
    }
  }
}

TEST_F(ExitOrderDeathTest, PoolsDrainBeforeThreadsJoinWhenThePoolCameFirst) {
  EXPECT_EXIT(
      {
        auto* pool = new ThreadPoolExecutor(1);  // alive at exit
        pool->submit([] { Print("pool: queued task ran\n"); });
        static Event started;
        Thread(SubmitUntilRefused, pool, &started).start();
        started.wait();
        concur::atexit::register_([] { Print("atexit: after both\n"); });
        std::exit(0);
      },
      // The thread may be refused before the drain runs the queued task
      // (its first submit can already meet the shutdown): both lines come
      // before the atexit function's, in either order.
      ExitedWithCode(0),
      AllOf(
          ContainsRegex("pool: queued task ran\n(.|\n)*atexit: after both\n"),
          ContainsRegex("thread: pool refused\n(.|\n)*atexit: after both\n")));
}

TEST_F(ExitOrderDeathTest, PoolsDrainBeforeThreadsJoinWhenTheThreadCameFirst) {
  EXPECT_EXIT(
      {
        static Event pool_made;
        static Event started;
        static ThreadPoolExecutor* pool = nullptr;
        Thread([] {
          pool_made.wait();
          SubmitUntilRefused(pool, &started);
        }).start();
        pool = new ThreadPoolExecutor(1);
        pool_made.set();
        started.wait();
        concur::atexit::register_([] { Print("atexit: after both\n"); });
        std::exit(0);
      },
      ExitedWithCode(0),
      ContainsRegex("thread: pool refused\n(.|\n)*atexit: after both\n"));
}

TEST_F(ExitOrderDeathTest, AtexitFunctionsRunLastFirst) {
  EXPECT_EXIT(
      {
        concur::atexit::register_([] { Print("first registered\n"); });
        concur::atexit::register_([] { Print("second registered\n"); });
        std::exit(0);
      },
      ExitedWithCode(0),
      ContainsRegex("second registered\nfirst registered\n"));
}

TEST_F(ExitOrderDeathTest, AtexitFunctionsSeeThreadsFinished) {
  EXPECT_EXIT(
      {
        static std::atomic<bool> finished{false};
        // Registered before the thread starts: the order is the stages',
        // not the registrations'.
        concur::atexit::register_([] {
          Print(finished ? "atexit: thread finished\n"
                         : "atexit: thread still running\n");
        });
        Thread([] {
          // Still running when exit begins, unless exit waited.
          Event never;
          static_cast<void>(never.wait(std::chrono::milliseconds(100)));
          finished = true;
        }).start();
        std::exit(0);
      },
      ExitedWithCode(0), ContainsRegex("atexit: thread finished\n"));
}

TEST_F(ExitOrderDeathTest, AFunctionThatThrowsIsReportedAndTheOthersRun) {
  EXPECT_EXIT(
      {
        concur::atexit::register_([] { Print("still ran\n"); });
        concur::atexit::register_(
            [] { throw concur::ValueError("in a hook"); });
        std::exit(0);
      },
      ExitedWithCode(0),
      ContainsRegex("Exception ignored in atexit callback: in a hook\n"
                    "(.|\n)*still ran\n"));
}

TEST_F(ExitOrderDeathTest, AFunctionMayRegisterAnother) {
  EXPECT_EXIT(
      {
        concur::atexit::register_([] {
          Print("outer\n");
          concur::atexit::register_([] { Print("inner\n"); });
        });
        std::exit(0);
      },
      ExitedWithCode(0), ContainsRegex("outer\ninner\n"));
}

}  // namespace
