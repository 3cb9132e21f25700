// The Executor concept and its seams: a generic function constrained by
// futures::Executor runs on ThreadPoolExecutor and on two small executors
// built here on WorkItem and ExecutorBase (one that runs each call inline,
// one with a single thread of its own), as ProcessPoolExecutor and the MPI
// executor will be built; and WorkItem's own rules.

#include <atomic>
#include <cmath>
#include <cstdint>
#include <deque>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
namespace cf = concur::futures;
using cf::Future;
using cf::ThreadPoolExecutor;
using cf::WorkItem;

// Runs every call at once, in the submitting thread.
class InlineExecutor : public cf::ExecutorBase<InlineExecutor> {
 public:
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    if (shut_down_) throw concur::RuntimeError("shut down");
    auto [item, future] =
        WorkItem::make(std::forward<F>(fn), std::forward<Args>(args)...);
    std::move(item).run();
    return std::move(future);
  }
  void shutdown(bool = true, bool = false) { shut_down_ = true; }

 private:
  bool shut_down_ = false;
};

// One thread of its own, fed through a queue of WorkItems.
class OneThreadExecutor : public cf::ExecutorBase<OneThreadExecutor> {
 public:
  OneThreadExecutor() : thread_([this] { serve(); }) {}
  ~OneThreadExecutor() { shutdown(); }

  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) {
    auto [item, future] =
        WorkItem::make(std::forward<F>(fn), std::forward<Args>(args)...);
    {
      std::scoped_lock guard(lock_);
      if (closed_) throw concur::RuntimeError("shut down");
      queue_.push_back(std::move(item));
    }
    ready_.release();
    return std::move(future);
  }
  void shutdown(bool wait = true, bool cancel_futures = false) {
    std::deque<WorkItem> dropped;
    {
      std::scoped_lock guard(lock_);
      if (cancel_futures) dropped.swap(queue_);
      if (!closed_) {
        closed_ = true;
        ready_.release();
      }
    }
    // The dropped items cancel their futures here, outside the lock, since
    // a done-callback may submit again.
    dropped.clear();
    if (wait && thread_.joinable()) thread_.join();
  }

 private:
  void serve() {
    for (;;) {
      ready_.acquire();
      std::optional<WorkItem> item;
      {
        std::scoped_lock guard(lock_);
        if (queue_.empty()) {
          if (closed_) return;
          continue;
        }
        item.emplace(std::move(queue_.front()));
        queue_.pop_front();
      }
      std::move(*item).run();
    }
  }

  concur::threading::Lock lock_;
  std::deque<WorkItem> queue_;
  bool closed_ = false;
  concur::threading::Semaphore ready_{0};
  std::thread thread_;
};

static_assert(cf::Executor<ThreadPoolExecutor>);
static_assert(cf::Executor<InlineExecutor>);
static_assert(cf::Executor<OneThreadExecutor>);
static_assert(!cf::Executor<int>);

// The seeds' PRIMES check, written once for any executor.
bool IsPrime(std::uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  const auto root = static_cast<std::uint64_t>(std::sqrt(double(n)));
  for (std::uint64_t i = 3; i <= root; i += 2) {
    if (n % i == 0) return false;
  }
  return true;
}

const std::vector<std::uint64_t> kNumbers{112272535095293,
                                          112582705942171,
                                          112272535095293,
                                          115280095190773,
                                          115797848077099,
                                          1099726899285419,
                                          21,
                                          97};
const std::vector<bool> kExpected{true, true,  true,  true,
                                  true, false, false, true};

template <cf::Executor E>
std::vector<bool> CheckPrimesBySubmit(E& executor) {
  std::vector<Future<bool>> futures;
  for (std::uint64_t n : kNumbers)
    futures.push_back(executor.submit(IsPrime, n));
  std::vector<bool> out;
  for (auto& f : futures) out.push_back(f.result());
  return out;
}

template <cf::Executor E>
std::vector<bool> CheckPrimesByMap(E& executor, std::ptrdiff_t chunksize) {
  std::vector<bool> out;
  for (bool prime : executor.map(IsPrime, kNumbers,
                                 cf::MapOptions{.chunksize = chunksize})) {
    out.push_back(prime);
  }
  return out;
}

template <class E>
class ExecutorTest : public testing::Test {};
using Executors =
    testing::Types<ThreadPoolExecutor, InlineExecutor, OneThreadExecutor>;
TYPED_TEST_SUITE(ExecutorTest, Executors);

TYPED_TEST(ExecutorTest, PrimesBySubmit) {
  TypeParam executor;
  EXPECT_EQ(CheckPrimesBySubmit(executor), kExpected);
}

TYPED_TEST(ExecutorTest, PrimesByMapInEveryChunking) {
  TypeParam executor;
  for (std::ptrdiff_t chunk : {1, 3, 100}) {
    EXPECT_EQ(CheckPrimesByMap(executor, chunk), kExpected) << chunk;
  }
}

TYPED_TEST(ExecutorTest, MapRejectsABadChunksize) {
  TypeParam executor;
  EXPECT_THROW(static_cast<void>(executor.map(IsPrime, kNumbers,
                                              cf::MapOptions{.chunksize = 0})),
               concur::ValueError);
}

TYPED_TEST(ExecutorTest, ExceptionsComeOutOfResult) {
  TypeParam executor;
  auto f = executor.submit([] { return std::stoi("not a number"); });
  EXPECT_THROW(f.result(), std::invalid_argument);
}

TYPED_TEST(ExecutorTest, SubmitAfterShutdownIsRuntimeError) {
  TypeParam executor;
  executor.shutdown();
  EXPECT_THROW(executor.submit([] { return 1; }), concur::RuntimeError);
}

TEST(WorkItem, RunCompletesTheFuture) {
  auto [item, future] =
      WorkItem::make([](int a, int b) { return a * b; }, 6, 7);
  EXPECT_FALSE(future.done());
  std::move(item).run();
  EXPECT_EQ(future.result(), 42);
}

TEST(WorkItem, ADroppedItemCancelsItsFuture) {
  Future<int> future;
  {
    auto made = WorkItem::make([] { return 1; });
    future = made.second;
  }
  EXPECT_TRUE(future.cancelled());
  EXPECT_THROW(future.result(), cf::CancelledError);
}

TEST(WorkItem, ACancelledFutureSkipsTheCall) {
  bool ran = false;
  auto [item, future] = WorkItem::make([&] { ran = true; });
  EXPECT_TRUE(future.cancel());
  std::move(item).run();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(future.cancelled());
}

TEST(WorkItem, TheCallIsDestroyedOnceItRuns) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  auto [item, future] =
      WorkItem::make([token = std::move(token)] { return *token + 1; });
  EXPECT_FALSE(watch.expired());
  std::move(item).run();
  EXPECT_TRUE(watch.expired());  // the future still lives
  EXPECT_EQ(future.result(), 1);
}

TEST(WorkItem, TheCallIsDestroyedWhenTheItemIsCancelled) {
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  auto [item, future] = WorkItem::make([token = std::move(token)] {});
  std::move(item).cancel();
  EXPECT_TRUE(watch.expired());
  EXPECT_TRUE(future.cancelled());
}

TEST(WorkItem, ReleaseAndAdoptKeepTheItem) {
  auto [item, future] = WorkItem::make([] { return 5; });
  auto* raw = std::move(item).release();
  WorkItem::adopt(raw).run();
  EXPECT_EQ(future.result(), 5);
}

TEST(WorkItem, AStopTokenIsHandedToCallsThatTakeOne) {
  auto [item, future] = WorkItem::make(
      [](std::stop_token stop, int x) { return stop.stop_possible() ? x : -1; },
      9);
  std::move(item).run();
  EXPECT_EQ(future.result(), 9);
}

// The other seam: an executor whose calls run elsewhere completes futures
// it made by hand, as Python's executors do.
TEST(HandMadeFuture, IsTheSeamForCallsThatRunElsewhere) {
  Future<std::string> future;
  std::thread elsewhere([future]() mutable {
    if (future.set_running_or_notify_cancel()) future.set_result("done");
  });
  EXPECT_EQ(future.result(), "done");
  elsewhere.join();
  std::vector<Future<std::string>> all{future};
  EXPECT_EQ(cf::wait(all, 0s).done.size(), 1u);
}

}  // namespace
