// multiprocessing::Pool, with the TestPool cases of Python's
// _test_multiprocessing.py as the checklist: apply and its async form with
// callbacks, map/starmap (sync and async), imap and imap_unordered, close,
// terminate and join with Python's messages, and a worker killed by a real
// signal while it runs a task.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/count.hpp"
#include "common/sanitized.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

using namespace std::chrono_literals;
namespace futures = concur::futures;
namespace mp = concur::multiprocessing;
using concur_test::HasUnreapedChildren;
using mp::PoolOptions;

// The tasks: functions of this program, as the pool requires.
int sqr(int x) { return x * x; }
int mul(int a, int b) { return a * b; }
int my_pid(int) { return static_cast<int>(::getpid()); }
std::string repeat(std::string s, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += s;
  return out;
}
std::size_t length(std::string s) { return s.size(); }
int fails_on_5(int x) {
  if (x == 5) throw concur::ValueError("five is not allowed");
  return x;
}
int dies_by(int signum) {
  ::raise(signum);
  return 0;
}
// Blocks until a byte can be read from fd (or its writer closes it).
int read_byte(int fd) {
  char byte = 0;
  return static_cast<int>(::read(fd, &byte, 1));
}
// Fails for -2; otherwise read_byte(fd).
int fails_or_reads(int fd) {
  if (fd == -2) throw concur::ValueError("no descriptor");
  return read_byte(fd);
}
int initialized = 0;
void initialize() { initialized = 7; }
int read_initialized(int) { return initialized; }

// A pipe the workers inherit: a task blocks on its read end until the
// test writes to it.
struct Gate {
  Gate() { EXPECT_EQ(::pipe(fds), 0); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;
  ~Gate() {
    for (int fd : fds) ::close(fd);
  }
  void open(int n) const {
    for (int i = 0; i < n; ++i) EXPECT_EQ(::write(fds[1], "x", 1), 1);
  }
  int fds[2] = {-1, -1};
};

template <class E, class Call>
void ExpectThrowWithMessage(Call call, const std::string& message) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected: " << message;
  } catch (const E& e) {
    EXPECT_EQ(e.what(), message);
  }
}

class Pool : public ::testing::Test {
 protected:
  void SetUp() override { mp::set_fork_warning(false); }
  void TearDown() override {
    mp::set_fork_warning(true);
    EXPECT_FALSE(HasUnreapedChildren());
  }
};

std::vector<int> Range(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}
std::vector<int> Squares(int n) {
  std::vector<int> v;
  for (int i = 0; i < n; ++i) v.push_back(i * i);
  return v;
}

// ---------------------------------------------------------------------------
// apply

TEST_F(Pool, ApplyRunsInAWorkerAndReturnsTheResult) {
  mp::Pool pool(2);
  EXPECT_EQ(pool.apply(sqr, 5), 25);
  EXPECT_EQ(pool.apply(mul, 6, 7), 42);
  EXPECT_EQ(pool.apply(repeat, std::string("ab"), 3), "ababab");
  EXPECT_NE(pool.apply(my_pid, 0), static_cast<int>(::getpid()));
  EXPECT_EQ(pool.processes(), 2u);
}

TEST_F(Pool, ApplyThrowsTheTasksError) {
  mp::Pool pool(1);
  ExpectThrowWithMessage<concur::ValueError>([&] { pool.apply(fails_on_5, 5); },
                                             "five is not allowed");
  EXPECT_EQ(pool.apply(fails_on_5, 4), 4);  // the pool goes on
}

TEST_F(Pool, ApplyAsyncGetWaitReadySuccessful) {
  mp::Pool pool(2);
  auto r = pool.apply_async(sqr, 9);
  EXPECT_EQ(r.get(), 81);
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.successful());
  r.wait();
  EXPECT_TRUE(r.wait(0s));
  auto bad = pool.apply_async(fails_on_5, 5);
  bad.wait();
  EXPECT_TRUE(bad.ready());
  EXPECT_FALSE(bad.successful());
  EXPECT_THROW(bad.get(), concur::ValueError);
}

TEST_F(Pool, GetAndWaitTimeOutOnATaskThatHasNotFinished) {
  Gate gate;
  mp::Pool pool(1);
  auto r = pool.apply_async(read_byte, gate.fds[0]);
  EXPECT_THROW(r.get(10ms), concur::TimeoutError);
  EXPECT_FALSE(r.wait(10ms));
  EXPECT_FALSE(r.ready());
  ExpectThrowWithMessage<concur::ValueError>([&] { r.successful(); },
                                             "the AsyncResult is not ready");
  EXPECT_THROW(r.wait(-1s), concur::ValueError);
  gate.open(1);
  EXPECT_EQ(r.get(30s), 1);
  EXPECT_TRUE(r.successful());
}

TEST_F(Pool, CallbacksRunBeforeTheResultIsReady) {
  mp::Pool pool(2);
  std::atomic<int> seen{0};
  auto r = pool.apply_async(sqr, std::tuple{4},
                            {.callback = [&](const int& v) { seen = v; }});
  EXPECT_EQ(r.get(), 16);
  EXPECT_EQ(seen.load(), 16);  // get() returned after the callback ran

  std::atomic<bool> failed{false};
  auto bad = pool.apply_async(
      fails_on_5, std::tuple{5},
      {.callback = [&](const int&) { ADD_FAILURE() << "no callback"; },
       .error_callback =
           [&](std::exception_ptr e) {
             try {
               std::rethrow_exception(e);
             } catch (const concur::ValueError& error) {
               failed = std::string(error.what()) == "five is not allowed";
             }
           }});
  bad.wait();
  EXPECT_TRUE(failed.load());
  EXPECT_THROW(bad.get(), concur::ValueError);
}

TEST_F(Pool, CallbacksRunOnThePoolsThreadNotTheCallers) {
  mp::Pool pool(2);
  const auto caller = std::this_thread::get_id();
  for (int round = 0; round < 20; ++round) {
    std::atomic<bool> elsewhere{false};
    auto r =
        pool.apply_async(sqr, std::tuple{round}, {.callback = [&](const int&) {
                           elsewhere = std::this_thread::get_id() != caller;
                         }});
    r.wait();
    EXPECT_TRUE(elsewhere.load());
    std::atomic<bool> map_elsewhere{false};
    auto m = pool.map_async(
        sqr, Range(3), 1, {.callback = [&](const std::vector<int>&) {
          map_elsewhere = std::this_thread::get_id() != caller;
        }});
    m.wait();
    EXPECT_TRUE(map_elsewhere.load());
  }
}

TEST_F(Pool, ACallbackThatThrowsStillLetsTheResultBecomeReady) {
  testing::internal::CaptureStderr();
  {
    mp::Pool pool(1);
    auto r = pool.apply_async(sqr, std::tuple{3}, {.callback = [](const int&) {
                                throw concur::RuntimeError("oops");
                              }});
    EXPECT_EQ(r.get(30s), 9);
  }  // the pool's result thread, which reports the error, has ended
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("oops"), std::string::npos) << err;
}

// ---------------------------------------------------------------------------
// map, starmap

TEST_F(Pool, MapReturnsEveryResultInOrder) {
  mp::Pool pool(2);
  EXPECT_EQ(pool.map(sqr, Range(10)), Squares(10));
  EXPECT_EQ(pool.map(sqr, Range(1000)), Squares(1000));
  for (std::ptrdiff_t chunksize : {1, 3, 77, 2000}) {
    EXPECT_EQ(pool.map(sqr, Range(100), chunksize), Squares(100)) << chunksize;
  }
  EXPECT_TRUE(pool.map(sqr, std::vector<int>{}).empty());
}

TEST_F(Pool, MapTakesAnyInputRange) {
  mp::Pool pool(2);
  const std::list<int> list{1, 2, 3};
  EXPECT_EQ(pool.map(sqr, list), (std::vector<int>{1, 4, 9}));
  // Not sized: read into a list first, as Python does.
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(i * i);
  EXPECT_EQ(pool.map(sqr, concur_test::Count(20)), expected);
  std::vector<std::string> words{"a", "bb", "ccc"};
  EXPECT_EQ(pool.map(length, words), (std::vector<std::size_t>{1, 2, 3}));
}

TEST_F(Pool, MapThrowsTheFirstError) {
  mp::Pool pool(2);
  ExpectThrowWithMessage<concur::ValueError>(
      [&] { pool.map(fails_on_5, Range(10)); }, "five is not allowed");
  ExpectThrowWithMessage<concur::ValueError>(
      [&] { pool.map(fails_on_5, Range(10), 1); }, "five is not allowed");
  EXPECT_EQ(pool.map(sqr, Range(3)), Squares(3));
}

TEST_F(Pool, MapRejectsABadChunksize) {
  mp::Pool pool(1);
  ExpectThrowWithMessage<concur::ValueError>(
      [&] { pool.map(sqr, Range(3), 0); }, "Chunksize must be 1+, not 0");
  EXPECT_THROW(pool.map_async(sqr, Range(3), -1), concur::ValueError);
  EXPECT_THROW(pool.imap(sqr, Range(3), 0), concur::ValueError);
  EXPECT_THROW(pool.imap_unordered(sqr, Range(3), 0), concur::ValueError);
}

TEST_F(Pool, MapAsyncCompletesWithTheWholeList) {
  mp::Pool pool(2);
  std::atomic<std::size_t> called{0};
  auto r = pool.map_async(
      sqr, Range(100), 7,
      {.callback = [&](const std::vector<int>& all) { called = all.size(); }});
  EXPECT_EQ(r.get(30s), Squares(100));
  EXPECT_EQ(called.load(), 100u);
  std::atomic<bool> failed{false};
  auto bad = pool.map_async(
      fails_on_5, Range(10), 1,
      {.error_callback = [&](std::exception_ptr) { failed = true; }});
  bad.wait();
  EXPECT_TRUE(failed.load());
  EXPECT_FALSE(bad.successful());
  auto empty = pool.map_async(sqr, std::vector<int>{});
  EXPECT_TRUE(empty.get(30s).empty());
}

TEST_F(Pool, MapAsyncFailsOnlyOnceEveryChunkIsDone) {
  Gate gate;
  mp::Pool pool(2);
  std::atomic<int> errors{0};
  auto r =
      pool.map_async(fails_or_reads, std::vector<int>{-2, gate.fds[0]}, 1,
                     {.error_callback = [&](std::exception_ptr) { ++errors; }});
  // The first chunk has failed (or will); the second waits at the gate.
  EXPECT_FALSE(r.wait(50ms));
  EXPECT_EQ(errors.load(), 0);
  gate.open(1);
  EXPECT_TRUE(r.wait(30s));
  EXPECT_EQ(errors.load(), 1);
  ExpectThrowWithMessage<concur::ValueError>([&] { r.get(); }, "no descriptor");
}

TEST_F(Pool, AnEmptyMapAsyncIsReadyWithoutCallingBack) {
  mp::Pool pool(1);
  bool called = false;
  auto r = pool.map_async(
      sqr, std::vector<int>{}, std::nullopt,
      {.callback = [&](const std::vector<int>&) { called = true; }});
  EXPECT_TRUE(r.ready());
  EXPECT_TRUE(r.get().empty());
  EXPECT_FALSE(called);
}

TEST_F(Pool, GetOnATemporaryReturnsACopyAndMovedHandlesStillWork) {
  mp::Pool pool(2);
  int sum = 0;
  for (int v : pool.map_async(sqr, Range(5)).get()) sum += v;
  EXPECT_EQ(sum, 0 + 1 + 4 + 9 + 16);
  const int nine = pool.apply_async(sqr, 3).get(30s);
  EXPECT_EQ(nine, 9);
  auto a = pool.apply_async(sqr, 4);
  auto b = std::move(a);
  EXPECT_EQ(b.get(), 16);
  EXPECT_EQ(a.get(), 16);  // NOLINT(bugprone-use-after-move): moving copies
}

TEST_F(Pool, StarmapSpreadsEachItemOverTheArguments) {
  mp::Pool pool(2);
  const std::vector<std::pair<int, int>> pairs{{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(pool.starmap(mul, pairs), (std::vector<int>{2, 12, 30}));
  const std::vector<std::tuple<std::string, int>> words{{"x", 2}, {"yz", 3}};
  EXPECT_EQ(pool.starmap(repeat, words),
            (std::vector<std::string>{"xx", "yzyzyz"}));
  auto r = pool.starmap_async(mul, pairs, 1);
  EXPECT_EQ(r.get(30s), (std::vector<int>{2, 12, 30}));
}

TEST_F(Pool, AChunkTooLargeForTheBufferIsSentInParts) {
  mp::Pool pool(2);
  // 30 strings of 100 KB in one chunk: 3 MB, more than half of the 4 MiB
  // buffer.
  const std::vector<std::string> big(30, std::string(100'000, 'q'));
  EXPECT_EQ(pool.map(length, big, 30), std::vector<std::size_t>(30, 100'000));
  EXPECT_EQ(pool.map_async(length, big, 30).get(),
            std::vector<std::size_t>(30, 100'000));
}

// ---------------------------------------------------------------------------
// imap, imap_unordered

TEST_F(Pool, ImapYieldsTheResultsInOrder) {
  mp::Pool pool(2);
  for (std::ptrdiff_t chunksize : {1, 4, 100}) {
    std::vector<int> got;
    for (int v : pool.imap(sqr, Range(50), chunksize)) got.push_back(v);
    EXPECT_EQ(got, Squares(50)) << chunksize;
  }
}

TEST_F(Pool, ImapThrowsAtTheFailingItem) {
  mp::Pool pool(2);
  std::vector<int> got;
  auto results = pool.imap(fails_on_5, Range(10));
  EXPECT_THROW(
      {
        for (int v : results) got.push_back(v);
      },
      concur::ValueError);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST_F(Pool, ImapUnorderedYieldsEveryResultOnce) {
  mp::Pool pool(2);
  for (std::ptrdiff_t chunksize : {1, 3, 1000}) {
    std::multiset<int> got;
    for (int v : pool.imap_unordered(sqr, Range(100), chunksize)) {
      got.insert(v);
    }
    const auto squares = Squares(100);
    EXPECT_EQ(got, std::multiset<int>(squares.begin(), squares.end()));
  }
  int count = 0;
  for ([[maybe_unused]] int v : pool.imap_unordered(sqr, std::vector<int>{})) {
    ++count;
  }
  EXPECT_EQ(count, 0);
}

TEST_F(Pool, ImapUnorderedComesInTheOrderTasksFinish) {
  Gate gate;
  mp::Pool pool(2);
  // The first item blocks until the test has seen the second's result.
  const std::vector<int> fds{gate.fds[0], -1};
  auto results = pool.imap_unordered(read_byte, fds);
  auto it = results.begin();
  EXPECT_EQ(*it, -1);  // read(-1) fails: the second item, done first
  gate.open(1);
  ++it;
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_TRUE(it == results.end());
}

TEST_F(Pool, ImapUnorderedThrowsTheError) {
  mp::Pool pool(2);
  auto results = pool.imap_unordered(fails_on_5, Range(10));
  EXPECT_THROW(
      {
        for ([[maybe_unused]] int v : results) {
        }
      },
      concur::ValueError);
}

// ---------------------------------------------------------------------------
// close, terminate, join, options

TEST_F(Pool, CloseLetsSentWorkFinishAndRefusesMore) {
  mp::Pool pool(2);
  auto r = pool.map_async(sqr, Range(200), 1);
  pool.close();
  ExpectThrowWithMessage<concur::ValueError>([&] { pool.apply(sqr, 1); },
                                             "Pool not running");
  EXPECT_THROW(pool.map(sqr, Range(2)), concur::ValueError);
  EXPECT_THROW(pool.imap(sqr, Range(2)), concur::ValueError);
  pool.join();
  EXPECT_TRUE(r.ready());
  EXPECT_EQ(r.get(), Squares(200));
  pool.close();  // again: nothing
  pool.join();
}

TEST_F(Pool, JoinBeforeCloseIsAnError) {
  mp::Pool pool(1);
  ExpectThrowWithMessage<concur::ValueError>([&] { pool.join(); },
                                             "Pool is still running");
  EXPECT_EQ(pool.apply(sqr, 2), 4);
}

TEST_F(Pool, TerminateEndsRunningWorkWithAnError) {
  Gate gate;
  mp::Pool pool(2);
  auto blocked = pool.apply_async(read_byte, gate.fds[0]);
  auto queued = pool.map_async(read_byte, std::vector<int>(50, gate.fds[0]));
  pool.terminate();
  pool.join();
  EXPECT_TRUE(blocked.ready());
  EXPECT_FALSE(blocked.successful());
  EXPECT_THROW(blocked.get(), concur::Error);
  EXPECT_TRUE(queued.wait(30s));
  EXPECT_FALSE(queued.successful());
  EXPECT_THROW(pool.apply(sqr, 1), concur::ValueError);
}

TEST_F(Pool, TheDestructorTerminatesWithoutWaitingForBlockedTasks) {
  Gate gate;
  mp::AsyncResult<int> r = [&] {
    mp::Pool pool(1);
    return pool.apply_async(read_byte, gate.fds[0]);
  }();
  EXPECT_TRUE(r.ready());
  EXPECT_FALSE(r.successful());
}

TEST_F(Pool, BadOptionsAreRefusedWithPythonsMessages) {
  ExpectThrowWithMessage<concur::ValueError>(
      [] { mp::Pool pool(0); }, "Number of processes must be at least 1");
  ExpectThrowWithMessage<concur::ValueError>(
      [] { mp::Pool pool(-3); }, "Number of processes must be at least 1");
  ExpectThrowWithMessage<concur::ValueError>(
      [] { mp::Pool pool(PoolOptions{.processes = 1, .maxtasksperchild = 0}); },
      "maxtasksperchild must be a positive int or None");
}

TEST_F(Pool, TheDefaultIsOneWorkerPerCpu) {
  mp::Pool pool;
  EXPECT_EQ(pool.processes(), mp::process_cpu_count());
}

TEST_F(Pool, TheInitializerRunsInEveryWorker) {
  mp::Pool pool(PoolOptions{.processes = 2, .initializer = initialize});
  for (int v : pool.map(read_initialized, Range(20), 1)) EXPECT_EQ(v, 7);
  EXPECT_EQ(initialized, 0);  // not in this process
}

TEST_F(Pool, MaxTasksPerChildReplacesWorkers) {
  if (concur_test::kSanitized) {
    GTEST_SKIP() << "forks from the pool's thread, which the sanitizers' "
                    "allocators do not survive";
  }
  mp::Pool pool(PoolOptions{.processes = 1, .maxtasksperchild = 1});
  std::set<int> pids;
  for (int i = 0; i < 4; ++i) pids.insert(pool.apply(my_pid, 0));
  EXPECT_EQ(pids.size(), 4u);
}

TEST_F(Pool, AKilledWorkerCostsOnlyItsTask) {
  if (concur_test::kSanitized) {
    GTEST_SKIP() << "forks the replacement from the pool's thread, which the "
                    "sanitizers' allocators do not survive";
  }
  mp::Pool pool(2);
  for (int round = 0; round < 3; ++round) {
    auto dead = pool.apply_async(dies_by, SIGKILL);
    try {
      dead.get(30s);
      ADD_FAILURE() << "the task returned";
    } catch (const futures::WorkerDiedError& e) {
      EXPECT_NE(std::string(e.what()).find("signal 9"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(pool.map(sqr, Range(20)), Squares(20));
  }
}

TEST_F(Pool, ManyThreadsSubmitAtOnce) {
  mp::Pool pool(2);
  constexpr int kThreads = 8;
  constexpr int kCalls = 200;
  std::atomic<long> sum{0};
  // The workers first, forked while this is the only thread.
  EXPECT_EQ(pool.apply(sqr, 0), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<mp::AsyncResult<int>> results;
      for (int i = 0; i < kCalls; ++i) {
        results.push_back(pool.apply_async(mul, t, i));
      }
      for (auto& r : results) sum += r.get();
      sum += pool.map(sqr, Range(10)).back();
    });
  }
  for (auto& thread : threads) thread.join();
  long expected = 0;
  for (int t = 0; t < kThreads; ++t) {
    expected += static_cast<long>(t) * (kCalls * (kCalls - 1) / 2) + 81;
  }
  EXPECT_EQ(sum.load(), expected);
}

}  // namespace
