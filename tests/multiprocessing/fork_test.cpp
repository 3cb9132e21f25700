// fork() with threads: concur's own state stays usable in the child (its
// locks, its thread registry, an inherited ThreadPoolExecutor), and
// Process::start warns as Python 3.12 does when other threads run.
#include <unistd.h>

#include <atomic>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"
#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace mp = concur::multiprocessing;
namespace threading = concur::threading;
using concur_test::ExpectInChild;
using concur_test::Gate;
using concur_test::StderrCapture;

constexpr const char* kWarning =
    "is multi-threaded, use of fork() may lead to deadlocks in the child.";

TEST(Fork, WarnsWhenOtherThreadsRun) {
  // In a child, so that this test's threads and the once-per-process
  // warning do not depend on the tests before it.
  ExpectInChild([] {
    Gate gate;
    threading::Thread t([&gate] { gate.wait(); });
    t.start();
    StderrCapture capture;
    mp::Process p([] {});
    p.start();
    p.join();
    const std::string text = capture.text();
    gate.open();
    t.join();
    return text.find(kWarning) != std::string::npos &&
           text.find("(pid=" + std::to_string(::getpid()) + ")") !=
               std::string::npos;
  });
}

TEST(Fork, NoWarningWhenTurnedOffOrSingleThreaded) {
  ExpectInChild([] {
    StderrCapture capture;
    mp::Process alone([] {});
    alone.start();
    alone.join();
    Gate gate;
    threading::Thread t([&gate] { gate.wait(); });
    t.start();
    const bool was = mp::set_fork_warning(false);
    mp::Process p([] {});
    p.start();
    p.join();
    gate.open();
    t.join();
    return was && capture.text().empty();
  });
}

TEST(Fork, OtherThreadsCountAsEndedInTheChild) {
  mp::set_fork_warning(false);
  Gate gate;
  threading::Event parked;
  threading::Thread t({.name = "blocked"}, [&gate, &parked] {
    parked.set();
    gate.wait();
  });
  t.start();
  // Fork only once the thread is past its start-up, whose allocations
  // could hold a sanitizer allocator's lock (not protected across fork).
  parked.wait();
  ExpectInChild([&t] {
    // Only the forking thread exists; the other's handle joins at once,
    // and a thread started here runs and joins.
    std::atomic<bool> ran{false};
    threading::Thread fresh([&ran] { ran = true; });
    fresh.start();
    fresh.join();
    return !t.is_alive() && t.join(0s) && ran.load() &&
           threading::active_count() == 1 &&
           threading::main_thread() == threading::current_thread();
  });
  gate.open();
  t.join();
  mp::set_fork_warning(true);
}

TEST(Fork, ForkFromAnotherThreadMakesItTheChildsMainThread) {
  mp::set_fork_warning(false);
  std::atomic<int> code{-1};
  threading::Thread forker({.name = "forker"}, [&code] {
    mp::Process p([] {
      const bool ok = threading::current_thread().name() == "forker" &&
                      threading::main_thread() == threading::current_thread() &&
                      threading::active_count() == 1;
      concur::sys::exit(ok ? 0 : 1);
    });
    p.start();
    p.join();
    code = *p.exitcode();
  });
  forker.start();
  forker.join();
  EXPECT_EQ(code.load(), 0);
  mp::set_fork_warning(true);
}

TEST(Fork, InheritedThreadPoolIsBrokenAndDoesNotHang) {
  mp::set_fork_warning(false);
  concur::futures::ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.submit([] { return 1; }).result(), 1);
  // Fork while both workers are parked (one in a task, one idle), not
  // freeing a finished task: a sanitizer allocator's lock is not
  // protected across fork.
  Gate gate;
  threading::Event parked;
  auto blocked = pool.submit([&gate, &parked] {
    parked.set();
    gate.wait();
    return 0;
  });
  parked.wait();
  ExpectInChild([&pool] {
    bool broken = false;
    try {
      pool.submit([] { return 2; });
    } catch (const concur::futures::BrokenThreadPool& e) {
      broken = std::string(e.what()).find("inherited through fork") !=
               std::string::npos;
    }
    // Shutting it down returns; the child's own pool works.
    pool.shutdown(true);
    concur::futures::ThreadPoolExecutor own(2);
    return broken && own.submit([] { return 3; }).result() == 3;
  });
  gate.open();
  EXPECT_EQ(blocked.result(), 0);
  // The parent's pool is untouched.
  EXPECT_EQ(pool.submit([] { return 4; }).result(), 4);
  mp::set_fork_warning(true);
}

TEST(Fork, ChildOfABusyProcessNeverDeadlocksOnConcursLocks) {
  // Threads start and end threads and pools all the time (taking the
  // thread registry's, the exit sequence's and the pools' locks) while
  // processes are forked; each child starts a thread and a pool of its
  // own, which would hang if it had inherited one of those locks held.
  if (concur_test::kSanitized) {
    // The sanitizers' own allocators keep locks that fork() does not
    // protect: a child forked while another thread allocates can hang in
    // them, which is this test's subject for concur's locks alone.
    GTEST_SKIP() << "the sanitizer runtimes' locks are not fork-safe";
  }
  mp::set_fork_warning(false);
  std::atomic<bool> stop{false};
  std::vector<threading::Thread> churners;
  for (int i = 0; i < 3; ++i) {
    churners.emplace_back([&stop, i] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (i == 0) {
          concur::futures::ThreadPoolExecutor p(1);
          p.submit([] {}).result();
        } else {
          threading::Thread t([] {});
          t.start();
          t.join();
        }
      }
    });
  }
  for (auto& t : churners) t.start();
  int good = 0;
  for (int round = 0; round < 30; ++round) {
    mp::Process p([] {
      threading::Thread t([] {});
      t.start();
      t.join();
      concur::futures::ThreadPoolExecutor own(1);
      concur::sys::exit(own.submit([] { return 9; }).result() == 9 ? 0 : 1);
    });
    p.start();
    if (p.join(60s) && p.exitcode() == 0) ++good;
  }
  stop = true;
  for (auto& t : churners) t.join();
  EXPECT_EQ(good, 30);
  mp::set_fork_warning(true);
}

}  // namespace
