// ThreadPoolExecutor::map, after CPython's test_concurrent_futures
// (executor.py: test_map, test_map_exception, test_map_timeout,
// test_free_reference; test_thread_pool.py: test_map_submits_without_
// iteration, test_executor_map_current_future_cancel).
//
// Whether a call was cancelled is seen from outside through its side
// effect: a cancelled call never runs. One worker held on an Event keeps
// the calls behind it queued for as long as the test needs.

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <memory>
#include <mutex>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/count.hpp"
#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::TimeoutError;
using concur::ValueError;
using concur::futures::MapOptions;
using concur::futures::ThreadPoolExecutor;
using concur::threading::Event;
using concur::threading::get_ident;
using concur_test::Count;
using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

struct Boom : std::runtime_error {
  explicit Boom(int i) : std::runtime_error("boom"), item(i) {}
  int item;
};

std::vector<int> Iota(int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

// Records which items a mapped function ran for.
class RunLog {
 public:
  explicit RunLog(int n) : ran_(static_cast<std::size_t>(n)) {}
  void Mark(int i) { ++ran_[static_cast<std::size_t>(i)]; }
  int Count(int i) const { return ran_[static_cast<std::size_t>(i)].load(); }
  int Total() const {
    int total = 0;
    for (const auto& r : ran_) total += r.load();
    return total;
  }

 private:
  std::vector<std::atomic<int>> ran_;
};

TEST(Map, ResultsInInputOrder) {
  ThreadPoolExecutor pool(4);
  std::vector<int> items = Iota(100);
  std::vector<int> got;
  for (int r : pool.map([](int x) { return x * x; }, items)) got.push_back(r);
  ASSERT_EQ(got.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(got[static_cast<std::size_t>(i)], i * i);
}

TEST(Map, OrderHoldsWhenLaterItemsFinishFirst) {
  // Item 0 finishes last; it is still yielded first.
  ThreadPoolExecutor pool(2);
  Event release;
  std::atomic<int> others{0};
  std::vector<int> items = Iota(20);
  auto results = pool.map(
      [&](int x) {
        if (x == 0) {
          release.wait();
        } else if (++others == 19) {
          release.set();
        }
        return x;
      },
      items);
  EXPECT_EQ(results.to_vector(), items);
}

TEST(Map, ToVector) {
  ThreadPoolExecutor pool(2);
  std::vector<std::string> words{"a", "bb", "ccc"};
  auto sizes = pool.map([](const std::string& s) { return s.size(); }, words)
                   .to_vector();
  EXPECT_EQ(sizes, (std::vector<std::size_t>{1, 2, 3}));
}

TEST(Map, SeveralRangesZipToTheShortest) {
  ThreadPoolExecutor pool(2);
  std::vector<int> a{1, 2, 3, 4, 5};
  std::vector<std::string> b{"x", "y", "z"};
  std::list<char> c{'!', '?', '.', ';'};
  auto got = pool.map([](int n, const std::string& s,
                         char ch) { return std::to_string(n) + s + ch; },
                      a, b, c)
                 .to_vector();
  EXPECT_EQ(got, (std::vector<std::string>{"1x!", "2y?", "3z."}));
}

TEST(Map, DivmodAsInPython) {
  // Python's test_map: map(divmod, [1..], [2..]).
  ThreadPoolExecutor pool(2);
  std::vector<int> a{11, 20, 7};
  std::vector<int> b{2, 3, 7};
  auto got =
      pool.map([](int x, int y) { return std::make_pair(x / y, x % y); }, a, b)
          .to_vector();
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{5, 1}, {6, 2}, {1, 0}}));
}

TEST(Map, EmptyInput) {
  ThreadPoolExecutor pool(1);
  std::vector<int> none;
  int n = 0;
  for ([[maybe_unused]] int r : pool.map([](int x) { return x; }, none)) ++n;
  EXPECT_EQ(n, 0);
  std::vector<int> some{1, 2};
  // One empty range among several: nothing is called.
  bool called = false;
  auto results = pool.map(
      [&](int x, int y) {
        called = true;
        return x + y;
      },
      some, none);
  EXPECT_TRUE(results.to_vector().empty());
  pool.shutdown(true);
  EXPECT_FALSE(called);
}

TEST(Map, ViewsAsInput) {
  // A span, not views::iota: clang 14 cannot compile libstdc++ 12's iota.
  ThreadPoolExecutor pool(2);
  const std::vector<int> numbers{0, 1, 2, 3, 4};
  auto got =
      pool.map([](int x) { return 2 * x; }, std::span(numbers)).to_vector();
  EXPECT_EQ(got, (std::vector<int>{0, 2, 4, 6, 8}));
}

TEST(Map, VoidFunction) {
  ThreadPoolExecutor pool(3);
  RunLog log(50);
  std::vector<int> items = Iota(50);
  auto results = pool.map([&](int x) { log.Mark(x); }, items).to_vector();
  EXPECT_EQ(results.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(log.Count(i), 1) << "item " << i;
}

TEST(Map, MoveOnlyResults) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items{1, 2, 3};
  std::vector<int> got;
  for (auto& p :
       pool.map([](int x) { return std::make_unique<int>(x * 10); }, items)) {
    std::unique_ptr<int> taken = std::move(p);
    got.push_back(*taken);
  }
  EXPECT_EQ(got, (std::vector<int>{10, 20, 30}));
}

// Whether `watched` dies within a generous bound. A worker that has just
// published a result may still hold its task for a few instructions, so
// "let go" is "gone soon", as Python's test_free_reference also waits.
bool EventuallyExpired(const std::weak_ptr<int>& watched) {
  for (auto give_up = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < give_up;) {
    if (watched.expired()) return true;
    std::this_thread::yield();
  }
  return watched.expired();
}

TEST(Map, ResultsAreLetGoOnceIterationMovesOn) {
  // Python's test_free_reference: the iteration keeps no reference to a
  // result it has moved past.
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(10);
  std::weak_ptr<int> previous;
  int seen = 0;
  for (auto& obj :
       pool.map([](int x) { return std::make_shared<int>(x); }, items)) {
    EXPECT_TRUE(EventuallyExpired(previous)) << "item " << seen;
    previous = obj;
    ++seen;
  }
  EXPECT_TRUE(EventuallyExpired(previous));
  EXPECT_EQ(seen, 10);
}

TEST(Map, ResultsOfAChunkAreLetGoAfterIt) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(10);
  std::vector<std::weak_ptr<int>> watched;
  auto results = pool.map([](int x) { return std::make_shared<int>(x); }, items,
                          MapOptions{.chunksize = 5});
  for (auto it = results.begin(); it != results.end(); ++it) {
    watched.push_back(*it);
    const std::size_t n = watched.size();
    // Still in the first chunk: all of it kept. In the second: the first
    // let go.
    for (std::size_t i = 0; i < n; ++i) {
      if (n > 5 && i < 5) {
        EXPECT_TRUE(EventuallyExpired(watched[i])) << i << " at " << n;
      } else {
        EXPECT_FALSE(watched[i].expired()) << i << " at " << n;
      }
    }
  }
}

TEST(Map, ElementsAreLvaluesThatCanBeReadTwice) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(20);
  long total = 0;
  for (const auto& r : pool.map([](int x) { return x * x; }, items)) {
    total += r;
    total += r;
  }
  EXPECT_EQ(total, 2 * 2470);
  std::vector<bool> odd;
  for (auto& b : pool.map([](int x) { return x % 2 == 1; }, items)) {
    bool& ref = b;  // a bool, not std::vector<bool>'s proxy
    odd.push_back(ref);
  }
  EXPECT_EQ(std::count(odd.begin(), odd.end(), true), 10);
}

TEST(Map, SubmitsEagerlyWithoutIteration) {
  // The calls are submitted by map() itself; a results range that is kept
  // but never iterated still sees every call run.
  ThreadPoolExecutor pool(2);
  RunLog log(10);
  std::vector<int> items = Iota(10);
  auto results = pool.map([&](int x) { log.Mark(x); }, items);
  pool.shutdown(true);
  EXPECT_EQ(log.Total(), 10);
  EXPECT_EQ(results.to_vector().size(), 10u);
}

TEST(Map, DiscardedResultsStillRunEveryCall) {
  // Python's test_map_submits_without_iteration: `executor.map(f, items)`
  // with the result thrown away runs f for every item, because closing a
  // generator that never started does not run its cleanup. The worker is
  // held while the results are dropped, so no call can have started yet.
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();
  RunLog log(10);
  // Moved in, so map owns the items and returns at once, as Python's does
  // (over a borrowed container the results wait for the calls instead:
  // MapStorage.DroppedResultsOverABorrowedContainerWaitForTheCalls).
  pool.map([&](int x) { log.Mark(x); }, Iota(10));
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(log.Total(), 10);
}

TEST(Map, ExceptionAtItsItemCancelsLaterItems) {
  // Items 0 and 1 succeed, item 2 throws, item 3 holds the only worker, so
  // items 4.. are still queued when the exception reaches the caller: they
  // must be cancelled, i.e. never run.
  constexpr int kItems = 10;
  ThreadPoolExecutor pool(1);
  Event release;
  RunLog log(kItems);
  std::vector<int> got;
  {
    // Owned by the map (an rvalue), so leaving the loop does not wait for
    // item 3, which runs until released below.
    auto results = pool.map(
        [&](int x) {
          log.Mark(x);
          if (x == 2) throw Boom(x);
          if (x == 3) release.wait();
          return x;
        },
        Iota(kItems));
    try {
      for (int r : results) got.push_back(r);
      FAIL() << "the iteration should have thrown";
    } catch (const Boom& e) {
      EXPECT_EQ(e.item, 2);
    }
    // The iteration is over: no more items after the exception.
    EXPECT_TRUE(results.begin() == results.end());
  }
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  for (int i = 4; i < kItems; ++i) EXPECT_EQ(log.Count(i), 0) << "item " << i;
}

TEST(Map, ExceptionAfterSomeResults) {
  // Python's test_map_exception: divmod by zero at the third item.
  ThreadPoolExecutor pool(2);
  std::vector<int> a{1, 1, 1, 1};
  std::vector<int> b{2, 3, 0, 5};
  auto results = pool.map(
      [](int x, int y) {
        if (y == 0) throw std::domain_error("integer division by zero");
        return x / y;
      },
      a, b);
  auto it = results.begin();
  EXPECT_EQ(*it, 0);
  ++it;
  EXPECT_EQ(*it, 0);
  ++it;
  EXPECT_THROW(*it, std::domain_error);
}

TEST(Map, TimeoutRaisesAndCancelsTheRest) {
  // Python's test_executor_map_current_future_cancel: the item waited on
  // when the time runs out, and every later one, is cancelled. A separate
  // task holds the only worker, so none of the mapped calls can start.
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto blocker = pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();
  RunLog log(5);
  std::vector<int> items = Iota(5);
  auto start = Clock::now();
  {
    auto results = pool.map(
        [&](int x) {
          log.Mark(x);
          return x;
        },
        items, MapOptions{.timeout = 30ms});
    EXPECT_THROW(results.to_vector(), TimeoutError);
    EXPECT_GE(Clock::now() - start, 30ms);
  }
  release.set();
  blocker.result();
  pool.shutdown(true);
  EXPECT_EQ(log.Total(), 0);
}

TEST(Map, TimeoutAfterSomeResults) {
  // Python's test_map_timeout: the results before the slow item arrive,
  // then TimeoutError; the timeout is for the whole iteration. Items 0 and
  // 1 are done before the iteration starts, however long they took.
  ThreadPoolExecutor pool(1);
  Event release;
  Event first_two_done;
  RunLog log(5);
  std::vector<int> items = Iota(5);
  std::vector<int> got;
  auto start = Clock::now();
  {
    auto results = pool.map(
        [&](int x) {
          log.Mark(x);
          if (x == 2) {
            first_two_done.set();  // one worker: 0 and 1 have finished
            release.wait();
          }
          return x;
        },
        items, MapOptions{.timeout = 50ms});
    first_two_done.wait();
    try {
      for (int r : results) got.push_back(r);
      FAIL() << "expected TimeoutError";
    } catch (const TimeoutError&) {
    }
    EXPECT_GE(Clock::now() - start, 50ms);
  }
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(got, (std::vector<int>{0, 1}));
  EXPECT_EQ(log.Count(2), 1);  // it was running: not cancelled
  EXPECT_EQ(log.Count(3), 0);
  EXPECT_EQ(log.Count(4), 0);
}

TEST(Map, TimeoutNotReachedYieldsEverything) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(20);
  auto got = pool.map([](int x) { return x + 1; }, items,
                      MapOptions{.timeout = std::chrono::hours(1)})
                 .to_vector();
  EXPECT_EQ(got.size(), 20u);
  EXPECT_EQ(got.back(), 20);
}

TEST(Map, NegativeTimeoutIsValueError) {
  ThreadPoolExecutor pool(1);
  std::atomic<int> calls{0};
  std::vector<int> items{1, 2, 3};
  EXPECT_THROW(pool.map([&](int x) { return calls += x; }, items,
                        MapOptions{.timeout = -1ms}),
               ValueError);
  pool.shutdown(true);
  EXPECT_EQ(calls.load(), 0);  // rejected before anything was submitted
}

TEST(Map, DestroyingStartedResultsCancelsTheRest) {
  // Closing Python's map generator after it started cancels what has not
  // run yet.
  ThreadPoolExecutor pool(1);
  Event release;
  RunLog log(6);
  {
    // Owned by the map, so dropping the results does not wait for item 1.
    auto results = pool.map(
        [&](int x) {
          log.Mark(x);
          if (x == 1) release.wait();
          return x;
        },
        Iota(6));
    auto it = results.begin();
    EXPECT_EQ(*it, 0);
  }
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(log.Count(0), 1);
  for (int i = 2; i < 6; ++i) EXPECT_EQ(log.Count(i), 0) << "item " << i;
}

TEST(Map, Chunksize) {
  // Results in order whatever the chunk size, including a short last chunk.
  ThreadPoolExecutor pool(3);
  std::vector<int> items = Iota(100);
  for (std::ptrdiff_t chunk : {1, 2, 3, 7, 100, 1000}) {
    auto got = pool.map([](int x) { return -x; }, items,
                        MapOptions{.chunksize = chunk})
                   .to_vector();
    ASSERT_EQ(got.size(), 100u) << "chunksize " << chunk;
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(got[static_cast<std::size_t>(i)], -i) << "chunksize " << chunk;
    }
  }
}

TEST(Map, ChunkRunsAsOneTask) {
  // The items of one chunk run one after another, in order, on one thread.
  constexpr int kItems = 40;
  constexpr int kChunk = 8;
  ThreadPoolExecutor pool(4);
  std::mutex mu;
  std::vector<std::uint64_t> thread_of(kItems);
  std::vector<int> sequence_of(kItems);
  int sequence = 0;
  std::vector<int> items = Iota(kItems);
  pool.map(
          [&](int x) {
            std::scoped_lock lock(mu);
            thread_of[static_cast<std::size_t>(x)] = get_ident();
            sequence_of[static_cast<std::size_t>(x)] = sequence++;
            return x;
          },
          items, MapOptions{.chunksize = kChunk})
      .to_vector();
  for (int i = 0; i < kItems; ++i) {
    if (i % kChunk == 0) continue;
    auto u = static_cast<std::size_t>(i);
    EXPECT_EQ(thread_of[u], thread_of[u - 1]) << "item " << i;
    EXPECT_GT(sequence_of[u], sequence_of[u - 1]) << "item " << i;
  }
}

TEST(Map, ChunksizeZeroIsValueError) {
  ThreadPoolExecutor pool(1);
  std::vector<int> items{1, 2};
  EXPECT_THROW(
      pool.map([](int x) { return x; }, items, MapOptions{.chunksize = 0}),
      ValueError);
}

TEST(Map, ChunkExceptionReachesTheCaller) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(20);
  auto results = pool.map(
      [](int x) {
        if (x == 13) throw Boom(x);
        return x;
      },
      items, MapOptions{.chunksize = 5});
  std::vector<int> got;
  try {
    for (int r : results) got.push_back(r);
    FAIL() << "the iteration should have thrown";
  } catch (const Boom& e) {
    EXPECT_EQ(e.item, 13);
  }
  // Items of earlier chunks came out; the failing chunk starts at 10.
  EXPECT_EQ(got, Iota(10));
}

TEST(Map, FromInsideATask) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([&pool] {
    std::vector<int> items = Iota(50);
    int sum = 0;
    for (int r : pool.map([](int x) { return x; }, items)) sum += r;
    return sum;
  });
  EXPECT_EQ(f.result(), 49 * 50 / 2);
}

// --- progress bar
// ---------------------------------------------------------------

TEST(Map, ProgressIsSilentWhenStderrIsNotATerminal) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(30);
  testing::internal::CaptureStderr();  // stderr becomes a file
  auto got =
      pool.map([](int x) { return x; }, items, MapOptions{.progress = true})
          .to_vector();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(got, items);
  EXPECT_EQ(err, "");
}

// Points stderr at a new pseudo-terminal for the life of the object, and
// collects what is written to it.
class PseudoTerminalStderr {
 public:
  PseudoTerminalStderr() {
    master_ = posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || grantpt(master_) != 0 || unlockpt(master_) != 0) return;
    int slave = open(ptsname(master_), O_RDWR | O_NOCTTY);
    if (slave < 0) return;
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    dup2(slave, STDERR_FILENO);
    close(slave);
    ok_ = true;
  }
  ~PseudoTerminalStderr() {
    Restore();
    if (master_ >= 0) close(master_);
  }
  bool ok() const { return ok_; }
  // Restores stderr and returns what was written to the terminal.
  std::string Restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      // Closes the last descriptor of the terminal's slave side, so that
      // the master reads what is buffered and then hangs up: no guessing
      // how long to wait for output.
      dup2(saved_, STDERR_FILENO);
      close(saved_);
      saved_ = -1;
    }
    std::string out;
    char buf[4096];
    while (master_ >= 0) {
      pollfd pfd{master_, POLLIN, 0};
      if (poll(&pfd, 1, 5000) <= 0) break;  // 5 s: a safety net only
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

 private:
  int master_ = -1;
  int saved_ = -1;
  bool ok_ = false;
};

TEST(Map, ProgressDrawsOnATerminal) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(30);
  PseudoTerminalStderr tty;
  if (!tty.ok()) GTEST_SKIP() << "no pseudo-terminal available";
  {
    auto results =
        pool.map([](int x) { return x; }, items, MapOptions{.progress = true});
    EXPECT_EQ(results.to_vector(), items);
  }
  std::string out = tty.Restore();
  EXPECT_THAT(out, HasSubstr("map"));
  EXPECT_THAT(out, HasSubstr("30/30"));
  EXPECT_THAT(out, HasSubstr("100%"));
}

TEST(Map, ProgressOffByDefault) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(10);
  PseudoTerminalStderr tty;
  if (!tty.ok()) GTEST_SKIP() << "no pseudo-terminal available";
  pool.map([](int x) { return x; }, items).to_vector();
  EXPECT_EQ(tty.Restore(), "");
}

}  // namespace

namespace {

// How map() holds its ranges on a pool (ExecutorBase, kSharesMemory): as
// std::thread holds its arguments.

TEST(MapStorage, DroppedResultsOverABorrowedContainerWaitForTheCalls) {
  // The calls read `items` where it is: the results, dropped unstarted,
  // wait until every call has run, so that none reads it afterwards.
  ThreadPoolExecutor pool(1);
  RunLog log(100);
  std::vector<int> items = Iota(100);
  pool.map([&](int x) { log.Mark(x); }, items, MapOptions{.chunksize = 9});
  EXPECT_EQ(log.Total(), 100);
  items.assign(100, -1);  // no call sees this: they have all run
}

TEST(MapStorage, AnExceptionOverABorrowedContainerWaitsForTheRunningCalls) {
  // Item 0 throws while item 1 is running on the other worker; when the
  // exception leaves the loop, item 1 has finished (it read `items` where
  // it is).
  ThreadPoolExecutor pool(2);
  Event second_running;
  std::atomic<bool> second_done{false};
  std::vector<int> items = Iota(50);
  try {
    for ([[maybe_unused]] int r : pool.map(
             [&](int x) {
               if (x == 1) {
                 second_running.set();
                 // Not a synchronisation: it keeps item 1 running while
                 // the exception reaches the loop, so the wait is seen.
                 std::this_thread::sleep_for(20ms);
                 second_done = true;
               }
               if (x == 0) {
                 second_running.wait();  // the other worker took item 1
                 throw Boom(x);
               }
               return x;
             },
             items)) {
    }
    FAIL() << "the iteration should have thrown";
  } catch (const Boom& e) {
    EXPECT_EQ(e.item, 0);
    EXPECT_TRUE(second_done.load());
  }
}

TEST(MapStorage, WithATimeoutAContainerIsCopied) {
  // A caller that may give up must not leave calls reading its data: with
  // a timeout, the container is copied, so later changes are not seen.
  ThreadPoolExecutor pool(1);
  Event release;
  pool.submit([&] { release.wait(); });  // the map's calls wait behind it
  std::vector<int> items = Iota(100);
  auto results = pool.map([](int x) { return x + 1; }, items,
                          MapOptions{.timeout = 10s, .chunksize = 7});
  std::fill(items.begin(), items.end(), -1000);
  release.set();
  std::vector<int> want = Iota(100);
  for (int& w : want) ++w;
  EXPECT_EQ(results.to_vector(), want);
}

TEST(MapStorage, AnRvalueContainerIsMovedAndOutlivesTheCall) {
  ThreadPoolExecutor pool(2);
  auto results = pool.map([](const std::string& s) { return s.size(); },
                          std::vector<std::string>{"a", "bb", "ccc"});
  EXPECT_EQ(results.to_vector(), (std::vector<std::size_t>{1, 2, 3}));
}

TEST(MapStorage, ASpanBorrowsSoTheCallsSeeTheViewedData) {
  ThreadPoolExecutor pool(1);
  Event release;
  pool.submit([&] { release.wait(); });
  std::vector<int> items = Iota(10);
  auto results = pool.map([](int x) { return x; }, std::span(items));
  std::fill(items.begin(), items.end(), 5);
  release.set();
  EXPECT_EQ(results.to_vector(), std::vector<int>(10, 5));
}

TEST(MapStorage, ElementsAreReadInPlaceNotCopied) {
  // A range whose elements count their copies: the in-place path reads
  // each one by const reference from the map's single copy of the range.
  struct Counted {
    int value = 0;
    std::shared_ptr<std::atomic<int>> copies;
    Counted(int v, std::shared_ptr<std::atomic<int>> c)
        : value(v), copies(std::move(c)) {}
    Counted(const Counted& o) : value(o.value), copies(o.copies) { ++*copies; }
    Counted& operator=(const Counted&) = delete;
  };
  auto copies = std::make_shared<std::atomic<int>>(0);
  std::vector<Counted> items;
  items.reserve(50);
  for (int i = 0; i < 50; ++i) items.emplace_back(i, copies);
  ThreadPoolExecutor pool(2);
  auto got = pool.map([](const Counted& c) { return c.value; },
                      std::move(items), MapOptions{.chunksize = 8})
                 .to_vector();
  EXPECT_EQ(got, Iota(50));
  EXPECT_EQ(copies->load(), 0);
}

TEST(MapStorage, RangesOfDifferentLengthsStopAtTheShortest) {
  ThreadPoolExecutor pool(2);
  std::vector<int> a = Iota(10);
  std::vector<long> b{100, 200, 300};
  auto got = pool.map([](int x, long y) { return x + y; }, a, b,
                      MapOptions{.chunksize = 2})
                 .to_vector();
  EXPECT_EQ(got, (std::vector<long>{100, 201, 302}));
}

TEST(MapStorage, AFunctionTakingAMutableReferenceGetsACopy) {
  // fn(int&) cannot take the shared, const items: map gives each call its
  // own copy, as it does for a range that is not random access.
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(20);
  auto got = pool.map(
                     [](int& x) {
                       x *= 3;
                       return x;
                     },
                     items, MapOptions{.chunksize = 3})
                 .to_vector();
  std::vector<int> want = Iota(20);
  for (int& w : want) w *= 3;
  EXPECT_EQ(got, want);
  EXPECT_EQ(items, Iota(20));
}

TEST(MapStorage, ProxyElementsArePassedAsValues) {
  // std::vector<bool> hands out proxies: fn gets bools, with or without a
  // timeout (which holds a copy of the vector instead of a reference), and
  // a generic fn returns bools, not proxies into the vector.
  ThreadPoolExecutor pool(2);
  std::vector<bool> bits{true, false, true, true};
  auto same = [](auto b) { return b; };
  auto got = pool.map(same, bits, MapOptions{.chunksize = 3}).to_vector();
  static_assert(std::is_same_v<decltype(got), std::vector<bool>>);
  EXPECT_EQ(got, bits);
  auto timed = pool.map(same, bits, MapOptions{.timeout = 10s, .chunksize = 3})
                   .to_vector();
  EXPECT_EQ(timed, bits);
}

TEST(MapStorage, AnArrayIsReadInPlace) {
  ThreadPoolExecutor pool(2);
  const int items[] = {4, 5, 6};
  auto got = pool.map([](int x) { return -x; }, items).to_vector();
  EXPECT_EQ(got, (std::vector<int>{-4, -5, -6}));
}

TEST(MapStorage, LargeChunksAreReadOncePerChunk) {
  // Many items in few chunks, read with the results range: every result
  // once and in order, across chunk boundaries of an uneven last chunk.
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(100003);
  long sum = 0;
  int expected = 0;
  bool ordered = true;
  for (const auto& r : pool.map([](int x) { return x; }, std::span(items),
                                MapOptions{.chunksize = 10000})) {
    ordered = ordered && r == expected++;
    sum += r;
  }
  EXPECT_TRUE(ordered);
  EXPECT_EQ(expected, 100003);
  EXPECT_EQ(sum, 100003L * 100002 / 2);
}

TEST(MapStorage, ResultsReadTwiceWhileStandingOnThem) {
  ThreadPoolExecutor pool(2);
  std::vector<int> items = Iota(30);
  auto results = pool.map([](int x) { return std::to_string(x); }, items,
                          MapOptions{.chunksize = 4});
  int i = 0;
  for (auto it = results.begin(); it != results.end(); ++it, ++i) {
    const std::string first = *it;
    EXPECT_EQ(*it, first);
    EXPECT_EQ(first, std::to_string(i));
  }
  EXPECT_EQ(i, 30);
}

}  // namespace

// ---------------------------------------------------------------------------
// buffersize, after Python 3.14's test_map_buffersize* tests.

TEST(MapBuffersize, ResultsInOrderForEveryWindow) {
  ThreadPoolExecutor pool(2);
  for (std::ptrdiff_t window : {1, 2, 4, 8}) {
    auto results = pool.map([](int x) { return std::to_string(x); }, Iota(4),
                            MapOptions{.buffersize = window});
    EXPECT_THAT(results.to_vector(), testing::ElementsAre("0", "1", "2", "3"))
        << "buffersize " << window;
  }
}

TEST(MapBuffersize, WithChunksAndSeveralRanges) {
  ThreadPoolExecutor pool(2);
  const std::vector<int> a = Iota(10);
  const std::list<int> b(a.begin(), a.begin() + 7);  // read as an input range
  auto results = pool.map([](int x, int y) { return x * 10 + y; }, a, b,
                          MapOptions{.chunksize = 3, .buffersize = 1});
  EXPECT_THAT(results.to_vector(),
              testing::ElementsAre(0, 11, 22, 33, 44, 55, 66));
}

TEST(MapBuffersize, ZeroOrNegativeIsValueError) {
  ThreadPoolExecutor pool(1);
  for (std::ptrdiff_t bad : {0, -1}) {
    try {
      pool.map([](int x) { return x; }, Iota(3), MapOptions{.buffersize = bad});
      FAIL() << "no ValueError for buffersize " << bad;
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "buffersize must be None or > 0");
    }
  }
}

TEST(MapBuffersize, EmptyInput) {
  ThreadPoolExecutor pool(1);
  EXPECT_TRUE(pool.map([](int x) { return x; }, std::vector<int>{},
                       MapOptions{.buffersize = 2})
                  .to_vector()
                  .empty());
}

TEST(MapBuffersize, AnEndlessRange) {
  // Python's test_map_buffersize_on_infinite_iterable: only what the
  // window holds is ever submitted, so an unbounded range can be mapped.
  ThreadPoolExecutor pool(2);
  auto results = pool.map([](int x) { return 2 * x; }, Count{},
                          MapOptions{.buffersize = 2});
  std::vector<int> first;
  for (int r : results) {
    first.push_back(r);
    if (first.size() == 3) break;
  }
  EXPECT_THAT(first, testing::ElementsAre(0, 2, 4));
}

TEST(MapBuffersize, ReadsOnlyWhatTheWindowHolds) {
  // Python's test_map_buffersize_when_buffer_is_full: without iteration,
  // map() reads and submits buffersize chunks and no more.
  ThreadPoolExecutor pool(2);
  std::atomic<int> reads{0};
  auto results = pool.map([](int x) { return x; }, Count(10, &reads),
                          MapOptions{.chunksize = 2, .buffersize = 2});
  pool.shutdown(true);
  EXPECT_EQ(reads.load(), 4);
}

TEST(MapBuffersize, AtMostTheWindowIsInFlight) {
  constexpr int kItems = 50;
  constexpr int kWindow = 3;
  ThreadPoolExecutor pool(4);
  std::atomic<int> started{0};
  auto results = pool.map(
      [&](int x) {
        started.fetch_add(1);
        return x;
      },
      Iota(kItems), MapOptions{.buffersize = kWindow});
  int passed = 0;
  for (int r : results) {
    // Standing on item `passed`: the window holds it and the next ones.
    EXPECT_LE(started.load(), passed + kWindow);
    EXPECT_EQ(r, passed);
    ++passed;
  }
  EXPECT_EQ(passed, kItems);
}

TEST(MapBuffersize, ExceptionCancelsTheRestAndSubmitsNoMore) {
  ThreadPoolExecutor pool(2);
  RunLog log(20);
  auto results = pool.map(
      [&](int x) {
        log.Mark(x);
        if (x == 2) throw Boom(x);
        return x;
      },
      Iota(20), MapOptions{.buffersize = 2});
  std::vector<int> seen;
  try {
    for (int r : results) seen.push_back(r);
    FAIL() << "no exception";
  } catch (const Boom& e) {
    EXPECT_EQ(e.item, 2);
  }
  pool.shutdown(true);
  EXPECT_THAT(seen, testing::ElementsAre(0, 1));
  // Item 3 was in the window and may have run; nothing after it was ever
  // submitted.
  for (int i = 4; i < 20; ++i) EXPECT_EQ(log.Count(i), 0) << "item " << i;
}

TEST(MapBuffersize, TimeoutAppliesToTheWholeIteration) {
  ThreadPoolExecutor pool(1);
  Event release;
  auto results = pool.map(
      [&](int x) {
        if (x == 1) release.wait();
        return x;
      },
      Iota(4), MapOptions{.timeout = 50ms, .buffersize = 1});
  auto it = results.begin();
  EXPECT_EQ(*it, 0);
  ++it;
  EXPECT_THROW(*it, TimeoutError);  // waiting happens at the item
  release.set();
}

TEST(MapBuffersize, ABorrowedContainerInPlace) {
  // Read in place, as without a buffersize; the window's chunks reuse the
  // memory of the chunks the iteration has passed.
  ThreadPoolExecutor pool(2);
  const std::vector<int> items = Iota(100'000);
  long long sum = 0;
  for (long long r : pool.map([](int x) { return 2LL * x; }, items,
                              MapOptions{.chunksize = 1000, .buffersize = 4})) {
    sum += r;
  }
  EXPECT_EQ(sum, 2LL * 99'999 * 100'000 / 2);
}

TEST(MapBuffersize, DroppedOverABorrowedContainerWaitsForTheWindow) {
  ThreadPoolExecutor pool(2);
  std::atomic<int> finished{0};
  {
    const std::vector<int> items = Iota(100);
    auto results = pool.map(
        [&](const int& x) {
          finished.fetch_add(1);
          return x;
        },
        items, MapOptions{.chunksize = 10, .buffersize = 2});
    auto it = results.begin();
    EXPECT_EQ(*it, 0);
  }  // the running chunks end before `items` goes
  // Only the window's two chunks ever ran.
  EXPECT_LE(finished.load(), 20);
}
