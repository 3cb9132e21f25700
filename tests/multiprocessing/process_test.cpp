// multiprocessing.Process, current_process, parent_process and
// active_children, after CPython's _test_multiprocessing.py (_TestProcess,
// _TestSubclassingProcess): real children, real signals, no sleeps.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/bad_input.hpp"
#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;
using concur_test::ExpectInChild;
using concur_test::Gate;
using concur_test::Report;
using concur_test::StderrCapture;

TEST(Process, TargetRunsInAChildWithItsArguments) {
  Report report;
  mp::Process p(
      [&report](int a, const std::string& b) {
        report.send(std::to_string(a) + b + " " + std::to_string(::getpid()));
      },
      42, std::string("x"));
  EXPECT_FALSE(p.pid().has_value());
  EXPECT_FALSE(p.exitcode().has_value());
  EXPECT_FALSE(p.is_alive());
  p.start();
  ASSERT_TRUE(p.pid().has_value());
  EXPECT_NE(*p.pid(), ::getpid());
  EXPECT_EQ(p.ident(), p.pid());
  EXPECT_EQ(report.receive(), "42x " + std::to_string(*p.pid()));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_FALSE(p.is_alive());
}

TEST(Process, ChildHasItsOwnMemory) {
  int counter = 0;
  mp::Process p([&counter] {
    for (int i = 0; i < 1000; ++i) ++counter;
    concur::sys::exit(counter == 1000 ? 0 : 1);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(counter, 0);
}

TEST(Process, SysExitGivesItsCode) {
  mp::Process p([] { concur::sys::exit(7); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 7);
}

TEST(Process, CExitGivesItsCode) {
  mp::Process p([] { std::_Exit(5); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 5);
}

TEST(Process, ThrowingTargetGivesOneAndPythonsReport) {
  StderrCapture capture;
  mp::Process p({.name = "failing"}, [] { throw concur::ValueError("boom"); });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 1);
  EXPECT_EQ(capture.text(), "Process failing:\nconcur::ValueError: boom\n");
}

TEST(Process, KillAndTerminateGiveMinusTheSignal) {
  for (int signum : {SIGKILL, SIGTERM}) {
    Gate never;
    mp::Process p([&never] { never.wait(); });
    p.start();
    EXPECT_TRUE(p.is_alive());
    if (signum == SIGKILL) {
      p.kill();
    } else {
      p.terminate();
    }
    p.join();
    EXPECT_EQ(p.exitcode(), -signum);
    EXPECT_FALSE(p.is_alive());
    // Reaped: signalling again is harmless and reaches nobody.
    p.kill();
    p.terminate();
  }
}

TEST(Process, JoinWithTimeout) {
  Gate gate;
  mp::Process p([&gate] { gate.wait(); });
  p.start();
  EXPECT_FALSE(p.join(0s));
  EXPECT_FALSE(p.join(10ms));
  EXPECT_TRUE(p.is_alive());
  EXPECT_FALSE(p.exitcode().has_value());
  gate.open();
  EXPECT_TRUE(p.join(10s));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(p.join(0s));
}

TEST(Process, SentinelBecomesReadableWhenTheChildEnds) {
  Gate gate;
  mp::Process p([&gate] { gate.wait(); });
  EXPECT_THROW(static_cast<void>(p.sentinel()), concur::ValueError);
  p.start();
  pollfd fd{p.sentinel(), POLLIN, 0};
  EXPECT_EQ(::poll(&fd, 1, 0), 0);
  gate.open();
  EXPECT_EQ(::poll(&fd, 1, 10000), 1);
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, ManyThreadsJoinOneChild) {
  Gate gate;
  mp::Process p([&gate] { gate.wait(); });
  p.start();
  std::atomic<int> joined{0};
  std::vector<concur::threading::Thread> joiners;
  for (int i = 0; i < 8; ++i) {
    joiners.emplace_back([&p, &joined] {
      p.join();
      if (p.exitcode() == 0) joined.fetch_add(1);
    });
  }
  for (auto& t : joiners) t.start();
  gate.open();
  for (auto& t : joiners) t.join();
  EXPECT_EQ(joined.load(), 8);
}

TEST(Process, Misuse) {
  Gate gate;
  mp::Process p([&gate] { gate.wait(); });
  try {
    p.join();
    ADD_FAILURE() << "join before start";
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "can only join a started process");
  }
  EXPECT_THROW(p.terminate(), concur::RuntimeError);
  p.start();
  try {
    p.start();
    ADD_FAILURE() << "second start";
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot start a process twice");
  }
  EXPECT_THROW(p.set_daemon(true), concur::RuntimeError);
  EXPECT_THROW(static_cast<void>(p.join(-1s)), concur::ValueError);
  concur_test::ExpectNaNRejected(
      [&] { static_cast<void>(p.join(concur_test::kNaN)); }, "join(NaN)");
  try {
    p.close();
    ADD_FAILURE() << "close while running";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "Cannot close a process while it is still running. You "
                 "should first call join() or terminate().");
  }
  gate.open();
  p.join();
  p.close();
  p.close();  // again: harmless, as in Python
  try {
    static_cast<void>(p.pid());
    ADD_FAILURE() << "pid after close";
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "process object is closed");
  }
  EXPECT_THROW(p.start(), concur::ValueError);
  EXPECT_THROW(p.join(), concur::ValueError);
  EXPECT_THROW(static_cast<void>(p.is_alive()), concur::ValueError);
  EXPECT_THROW(static_cast<void>(p.exitcode()), concur::ValueError);
  EXPECT_THROW(static_cast<void>(p.sentinel()), concur::ValueError);
  EXPECT_THROW(p.kill(), concur::ValueError);
}

TEST(Process, NamesCountUpAndNestUnderTheirParent) {
  mp::Process a([] {});
  mp::Process b([] {});
  const std::string na = a.name();
  const std::string nb = b.name();
  ASSERT_EQ(na.rfind("Process-", 0), 0u);
  EXPECT_EQ(std::stoi(nb.substr(8)), std::stoi(na.substr(8)) + 1);
  mp::Process named({.name = "worker"}, [] {});
  EXPECT_EQ(named.name(), "worker");
  named.set_name("renamed");
  EXPECT_EQ(named.name(), "renamed");

  Report report;
  mp::Process outer([&report] {
    mp::Process inner([] {});
    report.send(mp::current_process().name() + " " + inner.name());
  });
  const std::string outer_name = outer.name();
  outer.start();
  EXPECT_EQ(report.receive(),
            outer_name + " Process-" + outer_name.substr(8) + ":1");
  outer.join();
}

TEST(Process, CurrentAndParentProcess) {
  EXPECT_EQ(mp::current_process().name(), "MainProcess");
  EXPECT_EQ(mp::current_process().pid(), ::getpid());
  EXPECT_TRUE(mp::current_process().is_alive());
  EXPECT_FALSE(mp::parent_process().has_value());
  EXPECT_THROW(mp::current_process().join(), concur::RuntimeError);

  Report report;
  mp::Process p({.name = "child"}, [&report] {
    auto parent = mp::parent_process();
    report.send(mp::current_process().name() + " " +
                std::to_string(*mp::current_process().pid() == ::getpid()) +
                " " + (parent ? parent->name() : "none") + " " +
                std::to_string(parent && parent->pid() == ::getppid()) + " " +
                std::to_string(parent && parent->is_alive()) + " " +
                std::to_string(mp::current_process().is_alive()));
  });
  p.start();
  EXPECT_EQ(report.receive(), "child 1 MainProcess 1 1 1");
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, ParentProcessSentinelSeesTheParentEnd) {
  // A child whose own child outlives it: the grandchild's parent_process()
  // ends, and its join returns.
  Report report;
  mp::Process middle([&report] {
    mp::Process grandchild({.daemon = false}, [&report] {
      auto parent = mp::parent_process();
      const bool joined = parent && parent->join(10s);
      report.send(std::string(joined ? "joined" : "timed out") + " " +
                  std::to_string(parent && !parent->is_alive()));
    });
    grandchild.start();
    // Ends without the exit sequence, so the grandchild is not joined.
    std::_Exit(0);
  });
  middle.start();
  middle.join();
  EXPECT_EQ(report.receive(), "joined 1");
}

class Counter : public mp::Process {
 public:
  Counter(Report& report, int n) : report_(report), n_(n) {}

 protected:
  void run() override {
    int sum = 0;
    for (int i = 1; i <= n_; ++i) sum += i;
    report_.send(name() + " " + std::to_string(sum));
  }

 private:
  Report& report_;
  int n_;
};

TEST(Process, SubclassOverridesRun) {
  Report report;
  Counter c(report, 100);
  c.start();
  EXPECT_EQ(report.receive(), c.name() + " 5050");
  c.join();
  EXPECT_EQ(c.exitcode(), 0);
}

TEST(Process, WithoutTargetDoesNothing) {
  mp::Process p;
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
}

TEST(Process, ActiveChildrenListsTheRunningOnesAndReapsTheRest) {
  EXPECT_TRUE(mp::active_children().empty());
  Gate gate;
  std::vector<mp::Process> procs;
  for (int i = 0; i < 8; ++i) procs.emplace_back([&gate] { gate.wait(); });
  for (auto& p : procs) p.start();
  auto active = mp::active_children();
  EXPECT_EQ(active.size(), 8u);
  for (auto& p : procs) {
    EXPECT_NE(std::find(active.begin(), active.end(), p), active.end());
  }
  gate.open(8);
  for (auto& p : procs) p.join();
  EXPECT_TRUE(mp::active_children().empty());
  EXPECT_FALSE(concur_test::HasUnreapedChildren());
}

TEST(Process, AChildWhoseHandleIsGoneIsStillReaped) {
  Report report;
  {
    mp::Process p([&report] { report.send("ran"); });
    p.start();
  }
  EXPECT_EQ(report.receive(), "ran");
  // The child has written; wait for it to end through its own listing.
  for (int i = 0; i < 10000 && !mp::active_children().empty(); ++i) {
    auto left = mp::active_children();
    if (!left.empty()) static_cast<void>(left.front().join(10ms));
  }
  EXPECT_TRUE(mp::active_children().empty());
  EXPECT_FALSE(concur_test::HasUnreapedChildren());
}

TEST(Process, DaemonProcessesMayNotHaveChildren) {
  mp::Process p({.daemon = true}, [] {
    try {
      mp::Process([] {}).start();
    } catch (const concur::RuntimeError& e) {
      concur::sys::exit(std::string(e.what()) ==
                                "daemonic processes are not allowed to have "
                                "children"
                            ? 3
                            : 4);
    }
    concur::sys::exit(5);
  });
  EXPECT_TRUE(p.daemon());
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 3);
}

TEST(Process, ChildsExitTerminatesDaemonsAndJoinsTheOthers) {
  // Python's atexit rule, seen from a child that returns from run(): its
  // non-daemon child is joined (it finishes its work), its daemon child is
  // terminated.
  Report report;
  Gate never;
  mp::Process p([&report, &never] {
    mp::Process daemon({.daemon = true}, [&never] { never.wait(); });
    Gate go;
    mp::Process worker([&report, &go] {
      go.wait();
      report.send("worker done");
    });
    daemon.start();
    worker.start();
    report.send("daemon " + std::to_string(*daemon.pid()));
    go.open();
  });
  p.start();
  const std::string daemon_line = report.receive();
  ASSERT_EQ(daemon_line.rfind("daemon ", 0), 0u);
  const pid_t daemon_pid = std::stoi(daemon_line.substr(7));
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(report.receive(), "worker done");
  // Terminated and reaped by its parent: no such process any more.
  EXPECT_NE(::kill(daemon_pid, 0), 0);
}

TEST(Process, ManyThreadsStartAndJoinChildren) {
  std::atomic<int> good{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&good, t] {
      for (int i = 0; i < 10; ++i) {
        mp::Process p([code = (t + i) % 100] { concur::sys::exit(code); });
        p.start();
        p.join();
        if (p.exitcode() == (t + i) % 100) good.fetch_add(1);
      }
    });
  }
  mp::set_fork_warning(false);
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  mp::set_fork_warning(true);
  EXPECT_EQ(good.load(), 80);
  EXPECT_TRUE(mp::active_children().empty());
  EXPECT_FALSE(concur_test::HasUnreapedChildren());
}

TEST(Process, CpuCount) {
  EXPECT_GE(mp::cpu_count(), 1u);
  EXPECT_GE(mp::process_cpu_count(), 1u);
  EXPECT_LE(mp::process_cpu_count(), mp::cpu_count());
}

}  // namespace
