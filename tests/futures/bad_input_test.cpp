// Bad input and references, tried as CPython's test_concurrent_futures
// tries them: NaN and extreme timeouts, max_workers of every size, calls
// and results that must not outlive their use (test_no_stale_references,
// test_free_reference_yielded_future), and the forms of iteration and
// callback a C++ user writes first.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "common/bad_input.hpp"
#include "concur/futures.hpp"

namespace {

using namespace std::chrono_literals;
using concur_test::ExpectNaNRejected;
using concur_test::kInf;
using concur_test::kNaN;
namespace cf = concur::futures;
using cf::Future;
using cf::ThreadPoolExecutor;
using cf::ThreadPoolOptions;
using concur::ValueError;

TEST(BadInput, NaNTimeoutsRaiseValueError) {
  Future<int> pending;
  ExpectNaNRejected([&] { pending.result(kNaN); }, "result");
  ExpectNaNRejected([&] { pending.exception(kNaN); }, "exception");
  std::vector<Future<int>> all{pending};
  ExpectNaNRejected([&] { static_cast<void>(cf::wait(all, kNaN)); }, "wait");
  ExpectNaNRejected([&] { cf::as_completed(all, kNaN); }, "as_completed");
  pending.set_result(1);
}

TEST(BadInput, HugeTimeoutsOnDoneFuturesReturnAtOnce) {
  Future<int> done;
  done.set_result(3);
  EXPECT_EQ(done.result(kInf), 3);
  EXPECT_EQ(done.result(std::chrono::hours::max()), 3);
  EXPECT_EQ(done.result(std::chrono::nanoseconds::max()), 3);
  std::vector<Future<int>> all{done};
  EXPECT_EQ(cf::wait(all, std::chrono::years::max()).done.size(), 1u);
  EXPECT_THROW(done.result(std::chrono::nanoseconds::min()), ValueError);
  EXPECT_THROW(done.result(-kInf), ValueError);
}

TEST(BadInput, MaxWorkersMustBePositive) {
  EXPECT_THROW(ThreadPoolExecutor(0), ValueError);
  EXPECT_THROW(ThreadPoolExecutor(-1), ValueError);
  EXPECT_THROW(ThreadPoolExecutor(ThreadPoolOptions{.max_workers = 0}),
               ValueError);
  EXPECT_THROW(ThreadPoolExecutor(ThreadPoolOptions{.max_workers = -7}),
               ValueError);
  ThreadPoolExecutor three(ThreadPoolOptions{.max_workers = 3});
  EXPECT_EQ(three.max_workers(), 3u);
}

TEST(BadInput, AnyPositiveMaxWorkersIsAccepted) {
  // Python creates threads on demand and takes any positive max_workers;
  // memory follows the threads started, not the maximum.
  ThreadPoolExecutor pool(std::ptrdiff_t{1} << 45);
  EXPECT_EQ(pool.max_workers(), std::size_t{1} << 45);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(pool.submit([](int x) { return x * 2; }, i));
  }
  for (int i = 0; i < 100; ++i) EXPECT_EQ(futures[i].result(), 2 * i);
}

TEST(BadInput, ChunksizeMustBePositive) {
  ThreadPoolExecutor pool(1);
  std::vector<int> items{1, 2};
  for (std::ptrdiff_t bad : {std::ptrdiff_t{0}, std::ptrdiff_t{-1},
                             std::numeric_limits<std::ptrdiff_t>::min()}) {
    EXPECT_THROW(static_cast<void>(pool.map([](int x) { return x; }, items,
                                            cf::MapOptions{.chunksize = bad})),
                 ValueError);
  }
}

// test_no_stale_references: the callable and its arguments die when the
// call returns, before its result is out, though the Future lives on.
TEST(References, TheCallIsFreedOnceItHasRun) {
  ThreadPoolExecutor pool(2);
  auto captured = std::make_shared<int>(1);
  auto argument = std::make_shared<int>(2);
  std::weak_ptr<int> watch_captured = captured;
  std::weak_ptr<int> watch_argument = argument;
  Future<int> f =
      pool.submit([held = std::move(captured)](
                      const std::shared_ptr<int>& arg) { return *held + *arg; },
                  std::move(argument));
  EXPECT_EQ(f.result(), 3);
  EXPECT_TRUE(watch_captured.expired());
  EXPECT_TRUE(watch_argument.expired());
}

TEST(References, ACancelledCallIsFreedWhenThePoolDropsIt) {
  ThreadPoolExecutor pool(1);
  concur::threading::Event release;
  auto blocker = pool.submit([&] { static_cast<void>(release.wait()); });
  auto captured = std::make_shared<int>(1);
  std::weak_ptr<int> watch = captured;
  Future<int> queued =
      pool.submit([held = std::move(captured)] { return *held; });
  EXPECT_TRUE(queued.cancel());
  release.set();
  pool.shutdown(true);
  EXPECT_TRUE(watch.expired());
  EXPECT_TRUE(queued.cancelled());
  blocker.result();
}

TEST(References, ACallRefusedAfterShutdownIsFreed) {
  ThreadPoolExecutor pool(1);
  pool.shutdown();
  auto captured = std::make_shared<int>(1);
  std::weak_ptr<int> watch = captured;
  EXPECT_THROW(pool.submit([held = std::move(captured)] { return *held; }),
               concur::RuntimeError);
  EXPECT_TRUE(watch.expired());
}

// test_free_reference_yielded_future: as_completed lets a future go once
// the iteration has moved past it.
TEST(References, AsCompletedLetsYieldedFuturesGo) {
  std::vector<Future<std::shared_ptr<int>>> futures(8);
  for (int i = 0; i < 8; ++i) futures[i].set_result(std::make_shared<int>(i));
  auto results = cf::as_completed(futures);
  futures.clear();  // the iteration holds the only references now
  std::weak_ptr<int> previous;
  int seen = 0;
  for (auto& f : results) {
    EXPECT_TRUE(previous.expired()) << "future " << seen;
    previous = f.result();
    ++seen;
  }
  EXPECT_TRUE(previous.expired());
  EXPECT_EQ(seen, 8);
}

TEST(References, AsCompletedLetsGoOfFuturesThatCompleteDuringIteration) {
  // Pending when the iteration starts, completed one by one as it goes:
  // each is let go once the iteration has moved past it.
  std::vector<Future<std::shared_ptr<int>>> futures(6);
  auto results = cf::as_completed(futures);
  std::vector<Future<std::shared_ptr<int>>> setters = futures;
  futures.clear();
  std::weak_ptr<int> previous;
  int seen = 0;
  std::size_t next = 0;
  setters[next++].set_result(std::make_shared<int>(0));
  for (auto& f : results) {
    EXPECT_TRUE(previous.expired()) << "future " << seen;
    previous = f.result();
    ++seen;
    // The setter's handle goes too, so only the iteration could keep it.
    setters[seen - 1] = Future<std::shared_ptr<int>>();
    if (next < setters.size()) {
      setters[next].set_result(std::make_shared<int>(static_cast<int>(next)));
      ++next;
    }
  }
  EXPECT_TRUE(previous.expired());
  EXPECT_EQ(seen, 6);
}

TEST(Forms, AsCompletedYieldsLvalues) {
  ThreadPoolExecutor pool(2);
  std::vector<Future<int>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(pool.submit([](int x) { return x; }, i));
  }
  int by_ref = 0;
  for (auto& f : cf::as_completed(futures)) by_ref += f.result();
  int by_const_ref = 0;
  for (const auto& f : cf::as_completed(futures)) by_const_ref += f.result();
  int by_value = 0;
  for (Future<int> f : cf::as_completed(futures)) by_value += f.result();
  int forwarding = 0;
  for (auto&& f : cf::as_completed(futures, 10s)) forwarding += f.result();
  EXPECT_EQ(by_ref, 45);
  EXPECT_EQ(by_const_ref, 45);
  EXPECT_EQ(by_value, 45);
  EXPECT_EQ(forwarding, 45);
}

TEST(Forms, DoneCallbacksTakeEveryParameterForm) {
  Future<int> f;
  int seen = 0;
  f.add_done_callback([&](auto& fut) { seen += fut.result(); });
  f.add_done_callback([&](const auto& fut) { seen += fut.result(); });
  f.add_done_callback([&](auto fut) { seen += fut.result(); });
  f.add_done_callback([&](Future<int>& fut) { seen += fut.result(); });
  f.add_done_callback([&](const Future<int>& fut) { seen += fut.result(); });
  f.set_result(1);
  EXPECT_EQ(seen, 5);
  // On a done future the callback runs at once, in the same forms.
  f.add_done_callback([&](auto& fut) { seen += fut.result(); });
  EXPECT_EQ(seen, 6);
}

}  // namespace
