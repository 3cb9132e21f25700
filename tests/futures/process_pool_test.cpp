// ProcessPoolExecutor, with Python's test_concurrent_futures/test_process_pool
// and executor tests as the checklist: calls in other processes, typed
// errors coming back, shutdown and cancellation, and workers that die
// (real signals, exit()) under both of the pool's rules.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/sanitized.hpp"
#include "common/open_fds.hpp"
#include "concur/futures.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace futures = concur::futures;
namespace mp = concur::multiprocessing;
using concur_test::HasUnreapedChildren;
using futures::ProcessPoolExecutor;
using futures::ProcessPoolOptions;

// The tasks: functions of this program, as the pool requires.
int square(int x) { return x * x; }
int my_pid() { return static_cast<int>(::getpid()); }
std::string greet(std::string name, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += "hello " + name + ";";
  return out;
}
struct Point {
  int x;
  double y;
  std::vector<std::string> tags;
};
Point moved(Point p, int dx) {
  p.x += dx;
  p.tags.push_back("moved");
  return p;
}
int add(int a, int b) { return a + b; }
void nothing() {}
int throws_value_error(int) { throw concur::ValueError("bad value 7"); }
int throws_out_of_range() { throw std::out_of_range("index 9 out of range"); }
int throws_file_not_found() {
  throw concur::FileNotFoundError(ENOENT, "/nonexistent");
}
int calls_sys_exit() { concur::sys::exit(4); }
int dies_by(int signum) {
  ::raise(signum);
  return 0;
}
int calls_exit(int code) { std::exit(code); }
std::vector<std::uint8_t> bytes_of(std::size_t n) {
  return std::vector<std::uint8_t>(n, 7);
}
std::size_t size_of(std::vector<std::uint8_t> v) { return v.size(); }

// Reports the worker's pid on `report`, then blocks until `gate` is readable
// (a byte, or the parent closing it).
int report_and_block(int report, int gate) {
  const int pid = static_cast<int>(::getpid());
  if (::write(report, &pid, sizeof pid) != sizeof pid) return -1;
  char byte = 0;
  while (::read(gate, &byte, 1) < 0 && errno == EINTR) {
  }
  return pid;
}

int initialized = 0;
void initialize() { initialized = 42; }
void initialize_fails() { throw concur::RuntimeError("no init for you"); }
int read_initialized() { return initialized; }

// A pipe both ends of which the workers inherit.
struct TestPipe {
  TestPipe() { EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0); }
  TestPipe(const TestPipe&) = delete;
  TestPipe& operator=(const TestPipe&) = delete;
  ~TestPipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  int read_pid() const {
    int pid = 0;
    EXPECT_EQ(::read(fds[0], &pid, sizeof pid),
              static_cast<ssize_t>(sizeof pid));
    return pid;
  }
  void open(int n) const {
    for (int i = 0; i < n; ++i) EXPECT_EQ(::write(fds[1], "x", 1), 1);
  }
  int fds[2] = {-1, -1};
};

std::size_t open_descriptors() { return concur::testing::open_fds().size(); }

// Whether the future completes within a generous bound: a pending one is a
// lost future.
bool Ends(const futures::Future<int>& f) {
  return futures::wait(std::vector{f}, 30s).not_done.empty();
}

class ProcessPool : public ::testing::Test {
 protected:
  void SetUp() override { mp::set_fork_warning(false); }
  void TearDown() override {
    mp::set_fork_warning(true);
    EXPECT_FALSE(HasUnreapedChildren());
  }
};

TEST_F(ProcessPool, SatisfiesTheExecutorConcept) {
  static_assert(futures::Executor<ProcessPoolExecutor>);
  static_assert(futures::Executor<futures::ThreadPoolExecutor>);
}

TEST_F(ProcessPool, RunsCallsInOtherProcesses) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.max_workers(), 2u);
  EXPECT_EQ(pool.submit(square, 12).result(), 144);
  std::set<int> pids;
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(my_pid));
  for (auto& f : fs) pids.insert(f.result());
  EXPECT_FALSE(pids.contains(static_cast<int>(::getpid())));
  EXPECT_LE(pids.size(), 2u);
}

TEST_F(ProcessPool, ArgumentsAndResultsOfManyTypes) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(greet, std::string("bob"), 2).result(),
            "hello bob;hello bob;");
  const Point p = pool.submit(moved, Point{1, 2.5, {"a"}}, 10).result();
  EXPECT_EQ(p.x, 11);
  EXPECT_EQ(p.y, 2.5);
  EXPECT_EQ(p.tags, (std::vector<std::string>{"a", "moved"}));
  auto v = pool.submit(nothing);
  v.result();
  EXPECT_TRUE(v.done());
  auto lambda = pool.submit([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_EQ(lambda.result(), 42);
}

TEST_F(ProcessPool, ArgumentsAreEncodedAtSubmit) {
  ProcessPoolExecutor pool(1);
  std::string name = "ann";
  auto f = pool.submit(greet, name, 1);
  name = "changed";
  EXPECT_EQ(f.result(), "hello ann;");
}

TEST_F(ProcessPool, LargeArgumentsAndResults) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(size_of, bytes_of(1 << 20)).result(), 1u << 20);
  // Results of any size: streamed through the result ring.
  EXPECT_EQ(pool.submit(bytes_of, std::size_t{10} << 20).result().size(),
            std::size_t{10} << 20);
  try {
    pool.submit(size_of, bytes_of(std::size_t{3} << 20));
    FAIL() << "a call larger than half the buffer was accepted";
  } catch (const concur::ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("does not fit"), std::string::npos);
  }
  // A larger buffer takes it.
  ProcessPoolExecutor big(
      ProcessPoolOptions{.max_workers = 1, .buffer_bytes = 16 << 20});
  EXPECT_EQ(big.submit(size_of, bytes_of(std::size_t{3} << 20)).result(),
            std::size_t{3} << 20);
}

TEST_F(ProcessPool, MapReturnsResultsInOrder) {
  ProcessPoolExecutor pool(2);
  std::vector<int> xs(1000);
  for (int i = 0; i < 1000; ++i) xs[i] = i;
  for (int chunksize : {1, 7, 1000}) {
    int i = 0;
    for (int r :
         pool.map(square, xs, futures::MapOptions{.chunksize = chunksize})) {
      EXPECT_EQ(r, i * i);
      ++i;
    }
    EXPECT_EQ(i, 1000);
  }
  std::vector<int> ys{10, 20, 30};
  std::vector<int> sums;
  for (int r : pool.map(add, xs, ys)) sums.push_back(r);
  EXPECT_EQ(sums, (std::vector<int>{10, 21, 32}));
}

TEST_F(ProcessPool, ErrorsComeBackTyped) {
  ProcessPoolExecutor pool(1);
  try {
    pool.submit(throws_value_error, 1).result();
    FAIL();
  } catch (const concur::ValueError& e) {
    EXPECT_STREQ(e.what(), "bad value 7");
  }
  try {
    pool.submit(throws_out_of_range).result();
    FAIL();
  } catch (const futures::RemoteError& e) {
    EXPECT_EQ(e.remote_type(), "std::out_of_range");
    EXPECT_STREQ(e.what(), "index 9 out of range");
  }
  try {
    pool.submit(throws_file_not_found).result();
    FAIL();
  } catch (const concur::FileNotFoundError& e) {
    EXPECT_EQ(e.errnum(), ENOENT);
    EXPECT_EQ(e.filename(), "/nonexistent");
  }
  try {
    pool.submit(calls_sys_exit).result();
    FAIL();
  } catch (const concur::SystemExit& e) {
    EXPECT_EQ(e.code(), 4);
  }
  // The worker survived all of them.
  EXPECT_EQ(pool.submit(square, 3).result(), 9);
  EXPECT_NE(pool.submit(throws_value_error, 1).exception(), nullptr);
}

TEST_F(ProcessPool, RejectsBadOptions) {
  EXPECT_THROW(ProcessPoolExecutor(0), concur::ValueError);
  EXPECT_THROW(ProcessPoolExecutor(-1), concur::ValueError);
  EXPECT_THROW(
      ProcessPoolExecutor(ProcessPoolOptions{.max_tasks_per_child = 0}),
      concur::ValueError);
  EXPECT_THROW(ProcessPoolExecutor(ProcessPoolOptions{.buffer_bytes = 16}),
               concur::ValueError);
  ProcessPoolExecutor defaults;
  EXPECT_EQ(defaults.max_workers(), mp::process_cpu_count());
}

TEST_F(ProcessPool, SubmitAfterShutdownIsARuntimeError) {
  ProcessPoolExecutor pool(1);
  EXPECT_EQ(pool.submit(square, 2).result(), 4);
  pool.shutdown();
  pool.shutdown();  // idempotent
  try {
    pool.submit(square, 2);
    FAIL();
  } catch (const concur::RuntimeError& e) {
    EXPECT_STREQ(e.what(), "cannot schedule new futures after shutdown");
  }
}

TEST_F(ProcessPool, ShutdownWaitsForEveryCall) {
  std::vector<futures::Future<int>> fs;
  {
    ProcessPoolExecutor pool(2);
    for (int i = 0; i < 200; ++i) fs.push_back(pool.submit(square, i));
    pool.shutdown(true);
    for (auto& f : fs) EXPECT_TRUE(f.done());
  }
  for (int i = 0; i < 200; ++i) EXPECT_EQ(fs[i].result(), i * i);
}

TEST_F(ProcessPool, ShutdownWithoutAPoolStartedReturns) {
  ProcessPoolExecutor pool(4);
  pool.shutdown();
}

TEST_F(ProcessPool, CancelFuturesCancelsTheCallsNotSent) {
  TestPipe report;
  TestPipe gate;
  ProcessPoolExecutor pool(2);
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 2; ++i) {
    fs.push_back(pool.submit(report_and_block, report.fds[1], gate.fds[0]));
  }
  report.read_pid();
  report.read_pid();
  std::vector<futures::Future<int>> more;
  for (int i = 0; i < 200; ++i) more.push_back(pool.submit(square, i));
  // A call not yet sent is pending, and cancel() works on it.
  EXPECT_TRUE(more.back().cancel());
  EXPECT_FALSE(fs[0].cancel());  // running
  pool.shutdown(false, true);
  gate.open(2);
  pool.shutdown(true);
  std::size_t cancelled = 0;
  for (auto& f : more) {
    ASSERT_TRUE(f.done());
    if (f.cancelled()) ++cancelled;
  }
  // Those beyond the ones sent ahead (max_workers + 32) were cancelled.
  EXPECT_GE(cancelled, 200u - 2 - 32);
  for (auto& f : fs) EXPECT_GT(f.result(), 0);
}

TEST_F(ProcessPool, SetResultOnASentCallIsAnInvalidStateError) {
  TestPipe report;
  TestPipe gate;
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(report_and_block, report.fds[1], gate.fds[0]);
  report.read_pid();
  EXPECT_THROW(f.set_result(5), futures::InvalidStateError);
  gate.open(1);
  EXPECT_GT(f.result(), 0);
}

TEST_F(ProcessPool, WorksWithAsCompletedWaitAndCallbacks) {
  ProcessPoolExecutor pool(2);
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 50; ++i) fs.push_back(pool.submit(square, i));
  std::atomic<int> callbacks{0};
  for (auto& f : fs) f.add_done_callback([&callbacks](auto&) { ++callbacks; });
  long sum = 0;
  for (auto& f : futures::as_completed(fs)) sum += f.result();
  EXPECT_EQ(sum, 40425);
  auto [done, not_done] = futures::wait(fs);
  EXPECT_EQ(done.size(), 50u);
  EXPECT_TRUE(not_done.empty());
  pool.shutdown();
  EXPECT_EQ(callbacks.load(), 50);
}

TEST_F(ProcessPool, ManyThreadsSubmitting) {
  ProcessPoolExecutor pool(2);
  pool.submit(square, 1).result();  // the workers are forked before threads
  std::atomic<int> wrong{0};
  std::vector<concur::threading::Thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, &wrong, t] {
      std::vector<futures::Future<int>> fs;
      for (int i = 0; i < 500; ++i) fs.push_back(pool.submit(add, t, i));
      for (int i = 0; i < 500; ++i) {
        if (fs[i].result() != t + i) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.start();
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ProcessPool, InitializerRunsInEachWorker) {
  ProcessPoolExecutor pool(
      ProcessPoolOptions{.max_workers = 2, .initializer = initialize});
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(pool.submit(read_initialized).result(), 42);
  }
  EXPECT_EQ(initialized, 0);  // not in this process
}

TEST_F(ProcessPool, FailingInitializerBreaksThePool) {
  concur_test::StderrCapture capture;
  {
    ProcessPoolExecutor pool(
        ProcessPoolOptions{.max_workers = 2, .initializer = initialize_fails});
    auto f = pool.submit(square, 2);
    EXPECT_THROW(f.result(), futures::BrokenProcessPool);
    try {
      // Once the pool knows (the failure was seen above), submit says so.
      pool.submit(square, 3);
      FAIL();
    } catch (const futures::BrokenProcessPool& e) {
      EXPECT_NE(std::string(e.what()).find("initializer failed"),
                std::string::npos);
    }
  }
  const std::string text = capture.text();
  EXPECT_NE(text.find("Exception in initializer:"), std::string::npos);
  EXPECT_NE(text.find("no init for you"), std::string::npos);
}

TEST_F(ProcessPool, MaxTasksPerChildReplacesWorkers) {
  if (concur_test::kSanitized) {
    // The replacement is forked from the pool's collector thread while
    // this thread allocates: a sanitizer allocator's lock, which fork()
    // does not protect, could be inherited held.
    GTEST_SKIP() << "forks while other threads allocate";
  }
  ProcessPoolExecutor pool(
      ProcessPoolOptions{.max_workers = 1, .max_tasks_per_child = 1});
  std::set<int> pids;
  for (int i = 0; i < 10; ++i) pids.insert(pool.submit(my_pid).result());
  EXPECT_EQ(pids.size(), 10u);
  ProcessPoolExecutor three(
      ProcessPoolOptions{.max_workers = 2, .max_tasks_per_child = 3});
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 60; ++i) fs.push_back(three.submit(square, i));
  for (int i = 0; i < 60; ++i) EXPECT_EQ(fs[i].result(), i * i);
}

TEST_F(ProcessPool, KilledWorkerBreaksThePoolByDefault) {
  for (int signum : {SIGKILL, SIGSEGV, SIGTERM}) {
    ProcessPoolExecutor pool(2);
    EXPECT_EQ(pool.submit(square, 2).result(), 4);
    auto dying = pool.submit(dies_by, signum);
    try {
      dying.result();
      FAIL() << "signal " << signum;
    } catch (const futures::BrokenProcessPool& e) {
      EXPECT_NE(std::string(e.what()).find("terminated abruptly"),
                std::string::npos);
    }
    EXPECT_THROW(pool.submit(square, 3), futures::BrokenProcessPool);
  }
}

TEST_F(ProcessPool, ExitInATaskBreaksThePool) {
  ProcessPoolExecutor pool(1);
  auto f = pool.submit(calls_exit, 3);
  EXPECT_THROW(f.result(), futures::BrokenProcessPool);
}

TEST_F(ProcessPool, BrokenPoolFailsThePendingCallsToo) {
  TestPipe report;
  TestPipe gate;
  ProcessPoolExecutor pool(2);
  auto blocked = pool.submit(report_and_block, report.fds[1], gate.fds[0]);
  report.read_pid();
  std::vector<futures::Future<int>> fs;
  for (int i = 0; i < 100; ++i) fs.push_back(pool.submit(square, i));
  auto dying = pool.submit(dies_by, SIGKILL);
  EXPECT_THROW(dying.result(), futures::BrokenProcessPool);
  EXPECT_THROW(blocked.result(), futures::BrokenProcessPool);
  for (auto& f : fs) {
    // Either it ran before the death, or it fails: never left pending.
    ASSERT_TRUE(Ends(f));
  }
}

TEST_F(ProcessPool, ReplacingDeadWorkersFailsOnlyTheirTask) {
  if (concur_test::kSanitized) {
    // The replacement is forked from the pool's collector thread while
    // this thread allocates: a sanitizer allocator's lock, which fork()
    // does not protect, could be inherited held.
    GTEST_SKIP() << "forks while other threads allocate";
  }
  ProcessPoolExecutor pool(
      ProcessPoolOptions{.max_workers = 2, .replace_dead_workers = true});
  for (int round = 0; round < 10; ++round) {
    auto dying = pool.submit(dies_by, SIGKILL);
    std::vector<futures::Future<int>> fs;
    for (int i = 0; i < 20; ++i) fs.push_back(pool.submit(square, i));
    try {
      dying.result();
      FAIL();
    } catch (const futures::WorkerDiedError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("pid "), std::string::npos) << what;
      EXPECT_NE(what.find("signal 9 (SIGKILL)"), std::string::npos) << what;
    }
    for (int i = 0; i < 20; ++i) EXPECT_EQ(fs[i].result(), i * i);
  }
  auto exiting = pool.submit(calls_exit, 5);
  try {
    exiting.result();
    FAIL();
  } catch (const futures::WorkerDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("exited with code 5"),
              std::string::npos);
  }
  EXPECT_EQ(pool.submit(square, 9).result(), 81);
}

TEST_F(ProcessPool, WorkersKilledFromOutsideInALoop) {
  if (concur_test::kSanitized) {
    // The replacement is forked from the pool's collector thread while
    // this thread allocates: a sanitizer allocator's lock, which fork()
    // does not protect, could be inherited held.
    GTEST_SKIP() << "forks while other threads allocate";
  }
  // Real kills at moments the test does not choose, while the workers take
  // and finish small calls: every future ends, with its value or with
  // WorkerDiedError, never more of those than kills, and the pool goes on.
  ProcessPoolExecutor pool(
      ProcessPoolOptions{.max_workers = 2, .replace_dead_workers = true});
  const int kills = concur_test::kSanitized ? 20 : 100;
  int died = 0;
  int ran = 0;
  for (int k = 0; k < kills; ++k) {
    std::vector<futures::Future<int>> fs;
    for (int i = 0; i < 50; ++i) fs.push_back(pool.submit(my_pid));
    const int victim = fs.front().result();
    ::kill(victim, SIGKILL);
    for (auto& f : fs) {
      ASSERT_TRUE(Ends(f)) << "a future was left pending";
      if (f.exception() == nullptr) {
        ++ran;
      } else {
        EXPECT_THROW(f.result(), futures::WorkerDiedError);
        ++died;
      }
    }
  }
  EXPECT_LE(died, kills);
  EXPECT_GT(ran, 0);
  EXPECT_EQ(pool.submit(square, 5).result(), 25);
}

TEST_F(ProcessPool, TerminateAndKillWorkers) {
  for (bool kill : {false, true}) {
    TestPipe report;
    TestPipe gate;
    ProcessPoolExecutor pool(2);
    auto a = pool.submit(report_and_block, report.fds[1], gate.fds[0]);
    auto b = pool.submit(report_and_block, report.fds[1], gate.fds[0]);
    report.read_pid();
    report.read_pid();
    std::vector<futures::Future<int>> fs;
    for (int i = 0; i < 100; ++i) fs.push_back(pool.submit(square, i));
    if (kill) {
      pool.kill_workers();
    } else {
      pool.terminate_workers();
    }
    EXPECT_THROW(a.result(), futures::BrokenProcessPool);
    EXPECT_THROW(b.result(), futures::BrokenProcessPool);
    for (auto& f : fs) ASSERT_TRUE(Ends(f));
    EXPECT_THROW(pool.submit(square, 1), futures::BrokenProcessPool);
  }
}

TEST_F(ProcessPool, InheritedPoolIsBrokenInTheChildAndLeavesTheParentsAlone) {
  ProcessPoolExecutor pool(2);
  EXPECT_EQ(pool.submit(square, 4).result(), 16);
  concur_test::ExpectInChild([&pool] {
    bool broken = false;
    try {
      pool.submit(square, 5);
    } catch (const futures::BrokenProcessPool& e) {
      broken = std::string(e.what()).find("inherited through fork") !=
               std::string::npos;
    }
    pool.shutdown();  // returns, and does not stop the parent's workers
    return broken;
  });
  EXPECT_EQ(pool.submit(square, 6).result(), 36);
}

TEST_F(ProcessPool, LeavesNoDescriptorBehind) {
  {
    // The first pool's one-time costs (the fork registry) come first.
    ProcessPoolExecutor pool(1);
    pool.submit(square, 1).result();
  }
  const std::size_t before = open_descriptors();
  {
    ProcessPoolExecutor pool(2);
    for (int i = 0; i < 10; ++i) pool.submit(square, i).result();
  }
  EXPECT_EQ(open_descriptors(), before);
}

// Written once against the concept, run on both pools (the PRIMES seed).
bool is_prime(long n) {
  if (n < 2) return false;
  for (long d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}
template <futures::Executor E>
int count_primes(E& executor, const std::vector<long>& numbers) {
  int count = 0;
  for (bool prime : executor.map(is_prime, numbers)) count += prime ? 1 : 0;
  return count;
}

TEST_F(ProcessPool, OneFunctionRunsOnEitherPool) {
  std::vector<long> numbers;
  for (long n = 0; n < 2000; ++n) numbers.push_back(n);
  // The process pool first: its workers are forked before any thread.
  ProcessPoolExecutor processes(2);
  EXPECT_EQ(count_primes(processes, numbers), 303);
  futures::ThreadPoolExecutor threads(2);
  EXPECT_EQ(count_primes(threads, numbers), 303);
}

}  // namespace
