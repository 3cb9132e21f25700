// What happens to running threads at a normal exit: as in Python, exit
// waits for non-daemon threads and abandons daemon threads. Each test runs
// its scenario in a child process (a gtest death test) that calls
// std::exit(0), and reads what the threads managed to print.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::Event;
using concur::threading::Thread;
using concur::threading::ThreadOptions;
using testing::AllOf;
using testing::ExitedWithCode;
using testing::HasSubstr;
using testing::Not;

// Long enough that exit() is reached while the thread still runs.
constexpr auto kWorkTime = 100ms;
// Long enough that, were exit() to wait for a daemon, the test would see it
// print; short enough not to hang the suite if it does.
constexpr auto kDaemonTime = 3s;

void Print(const char* message) {
  std::fputs(message, stderr);
  std::fflush(stderr);
}

class ThreadExitDeathTest : public testing::Test {
 protected:
  // The child re-runs the test binary instead of forking a process that
  // may already have threads.
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(ThreadExitDeathTest, NonDaemonThreadIsJoinedAtExit) {
  EXPECT_EXIT(
      {
        Thread worker([] {
          std::this_thread::sleep_for(kWorkTime);
          Print("non-daemon finished\n");
        });
        worker.start();
        std::exit(0);
      },
      ExitedWithCode(0), HasSubstr("non-daemon finished"));
}

TEST_F(ThreadExitDeathTest, EveryNonDaemonThreadIsJoinedAtExit) {
  EXPECT_EXIT(
      {
        Thread first([] {
          std::this_thread::sleep_for(kWorkTime);
          Print("first finished\n");
        });
        Thread second([] {
          std::this_thread::sleep_for(2 * kWorkTime);
          Print("second finished\n");
        });
        first.start();
        second.start();
        std::exit(0);
      },
      ExitedWithCode(0),
      AllOf(HasSubstr("first finished"), HasSubstr("second finished")));
}

TEST_F(ThreadExitDeathTest, NonDaemonThreadWhoseHandleIsGoneIsJoinedAtExit) {
  EXPECT_EXIT(
      {
        Thread([] {
          std::this_thread::sleep_for(kWorkTime);
          Print("orphan finished\n");
        }).start();
        std::exit(0);
      },
      ExitedWithCode(0), HasSubstr("orphan finished"));
}

TEST_F(ThreadExitDeathTest, NonDaemonThreadStartedByAForeignThreadIsJoined) {
  EXPECT_EXIT(
      {
        std::thread([] {
          Thread(ThreadOptions{.name = "", .daemon = false}, [] {
            std::this_thread::sleep_for(kWorkTime);
            Print("started from a foreign thread finished\n");
          }).start();
        }).join();
        std::exit(0);
      },
      ExitedWithCode(0), HasSubstr("started from a foreign thread finished"));
}

TEST_F(ThreadExitDeathTest, DaemonThreadIsNotJoinedAtExit) {
  EXPECT_EXIT(
      {
        Event started;
        Thread daemon(ThreadOptions{.name = "", .daemon = true}, [&started] {
          Print("daemon started\n");
          started.set();
          std::this_thread::sleep_for(kDaemonTime);
          Print("daemon finished\n");
        });
        daemon.start();
        started.wait();
        std::exit(0);
      },
      ExitedWithCode(0),
      AllOf(HasSubstr("daemon started"), Not(HasSubstr("daemon finished"))));
}

TEST_F(ThreadExitDeathTest, ExitJoinsNonDaemonButNotDaemonThreads) {
  EXPECT_EXIT(
      {
        Thread daemon(ThreadOptions{.name = "", .daemon = true}, [] {
          std::this_thread::sleep_for(kDaemonTime);
          Print("background done\n");
        });
        Thread worker([] {
          std::this_thread::sleep_for(kWorkTime);
          Print("worker done\n");
        });
        daemon.start();
        worker.start();
        std::exit(0);
      },
      ExitedWithCode(0),
      AllOf(HasSubstr("worker done"), Not(HasSubstr("background done"))));
}

TEST_F(ThreadExitDeathTest, ChildOfADaemonIsADaemonAndNotJoined) {
  EXPECT_EXIT(
      {
        Event started;
        Thread parent(ThreadOptions{.name = "", .daemon = true}, [&started] {
          Thread child([] {
            std::this_thread::sleep_for(kDaemonTime);
            Print("child finished\n");
          });
          child.start();
          started.set();
        });
        parent.start();
        started.wait();
        std::exit(0);
      },
      ExitedWithCode(0), Not(HasSubstr("child finished")));
}

}  // namespace
