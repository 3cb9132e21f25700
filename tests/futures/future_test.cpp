// Future: Python's concurrent.futures.Future, after CPython's
// Lib/test/test_concurrent_futures/test_future.py.
//
// Most tests drive a default-constructed Future by hand (set_result,
// set_exception, set_running_or_notify_cancel), as Python's tests do, so
// that every state is reached deterministically; the last ones check that a
// pool's task feeds the same machinery.

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::RuntimeError;
using concur::TimeoutError;
using concur::ValueError;
using concur::futures::CancelledError;
using concur::futures::Future;
using concur::futures::InvalidStateError;
using concur::futures::ThreadPoolExecutor;
using concur::threading::Event;
using concur::threading::get_ident;
using testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// A task's own exception type, with a payload that proves the very object
// (not a copy converted to some base) reaches the caller.
struct Boom : std::runtime_error {
  explicit Boom(int c) : std::runtime_error("boom"), code(c) {}
  int code;
};
// Not derived from std::exception: C++ lets a task throw anything.
struct NotAnException {
  int value;
};

TEST(Future, NewFutureIsPending) {
  Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
}

TEST(Future, SetResultFinishes) {
  Future<int> f;
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.result(0ms), 42);
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_EQ(f.exception(0ms), nullptr);
}

TEST(Future, VoidFuture) {
  Future<void> f;
  f.set_result();
  EXPECT_TRUE(f.done());
  EXPECT_NO_THROW(f.result());
  EXPECT_EQ(f.exception(), nullptr);
}

TEST(Future, ResultIsAReferenceToOneStoredValue) {
  // result() hands out the stored value, not a copy: a move-only type works
  // and every call (through any handle) sees the same object.
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(7));
  const std::unique_ptr<int>& a = f.result();
  Future<std::unique_ptr<int>> copy = f;
  const std::unique_ptr<int>& b = copy.result();
  EXPECT_EQ(*a, 7);
  EXPECT_EQ(&a, &b);
}

TEST(Future, CopiesShareTheState) {
  Future<std::string> f;
  Future<std::string> g = f;
  EXPECT_TRUE(f == g);
  EXPECT_EQ(f.id(), g.id());
  EXPECT_FALSE(f == Future<std::string>());
  g.set_result("shared");
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), "shared");
}

TEST(Future, ValueOutlivesTheHandleThatSetIt) {
  Future<std::vector<int>> kept;
  {
    Future<std::vector<int>> setter = kept;
    setter.set_result(std::vector<int>{1, 2, 3});
  }
  EXPECT_EQ(kept.result(), (std::vector<int>{1, 2, 3}));
}

TEST(Future, SetExceptionIsRethrownAsItself) {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(Boom(7)));
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  try {
    f.result();
    FAIL() << "result() should have thrown";
  } catch (const Boom& e) {
    EXPECT_EQ(e.code, 7);
  }
  std::exception_ptr error = f.exception();
  ASSERT_NE(error, nullptr);
  EXPECT_THROW(std::rethrow_exception(error), Boom);
}

TEST(Future, ExceptionIsTheSameObjectEachTime) {
  // As in Python, where future.exception() is future.exception().
  Future<int> f;
  f.set_exception(std::make_exception_ptr(Boom(1)));
  const Boom* first = nullptr;
  const Boom* second = nullptr;
  try {
    f.result();
  } catch (const Boom& e) {
    first = &e;
  }
  try {
    std::rethrow_exception(f.exception());
  } catch (const Boom& e) {
    second = &e;
  }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first, second);
}

TEST(Future, NonStdExceptionIsRethrown) {
  Future<void> f;
  f.set_exception(std::make_exception_ptr(NotAnException{5}));
  try {
    f.result();
    FAIL() << "result() should have thrown";
  } catch (const NotAnException& e) {
    EXPECT_EQ(e.value, 5);
  }
}

TEST(Future, ResultTimesOutWhilePending) {
  Future<int> f;
  EXPECT_THROW(f.result(0ms), TimeoutError);
  auto start = Clock::now();
  EXPECT_THROW(f.result(30ms), TimeoutError);
  EXPECT_GE(Clock::now() - start, 30ms);
  EXPECT_FALSE(f.done());  // a timeout changes nothing
}

TEST(Future, ExceptionTimesOutWhilePending) {
  Future<int> f;
  auto start = Clock::now();
  EXPECT_THROW(f.exception(30ms), TimeoutError);
  EXPECT_GE(Clock::now() - start, 30ms);
}

TEST(Future, TimeoutErrorIsAConcurError) {
  Future<int> f;
  try {
    f.result(0ms);
    FAIL() << "result(0ms) should have thrown";
  } catch (const concur::Error& e) {
    EXPECT_STREQ(e.type_name(), "TimeoutError");
  }
}

TEST(Future, NegativeTimeoutIsValueError) {
  Future<int> f;
  EXPECT_THROW(f.result(-1ms), ValueError);
  EXPECT_THROW(f.exception(-1ms), ValueError);
  f.set_result(1);
  EXPECT_THROW(f.result(-1ms), ValueError);
}

TEST(Future, ResultWaitsForAnotherThread) {
  Future<int> f;
  std::thread setter([f]() mutable { f.set_result(5); });
  EXPECT_EQ(f.result(), 5);
  setter.join();
}

TEST(Future, ResultWithTimeoutReturnsWhenSetMeanwhile) {
  Future<int> f;
  Event waiting;
  std::thread setter([&, f]() mutable {
    waiting.wait();
    f.set_result(9);
  });
  waiting.set();
  EXPECT_EQ(f.result(1h), 9);
  setter.join();
}

TEST(Future, ResultPublishesTheSettersWrites) {
  // Everything the completing thread wrote before set_result is visible
  // after result(): plain (non-atomic) data, checked by ThreadSanitizer.
  std::vector<int> data;
  Future<void> f;
  std::thread setter([&data, f]() mutable {
    data.assign(1000, 3);
    f.set_result();
  });
  f.result();
  EXPECT_EQ(data.size(), 1000u);
  EXPECT_EQ(data[999], 3);
  setter.join();
}

TEST(Future, ManyWaitersAllWake) {
  Future<int> f;
  std::atomic<int> got{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&got, f] { got += f.result(); });
  }
  f.set_result(1);
  for (auto& t : waiters) t.join();
  EXPECT_EQ(got.load(), 4);
}

// --- cancel ---------------------------------------------------------------

TEST(Future, CancelPending) {
  Future<int> f;
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_TRUE(f.cancel());  // idempotent once cancelled
  EXPECT_TRUE(f.cancelled());
  EXPECT_THROW(f.result(), CancelledError);
  EXPECT_THROW(f.result(0ms), CancelledError);
  EXPECT_THROW(f.exception(), CancelledError);
  EXPECT_THROW(f.exception(0ms), CancelledError);
}

TEST(Future, CancelRunningFails) {
  Future<int> f;
  EXPECT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
  EXPECT_TRUE(f.running());
  f.set_result(3);
  EXPECT_EQ(f.result(), 3);
}

TEST(Future, CancelFinishedFails) {
  Future<int> ok;
  ok.set_result(1);
  EXPECT_FALSE(ok.cancel());
  EXPECT_FALSE(ok.cancelled());
  EXPECT_EQ(ok.result(), 1);

  Future<int> failed;
  failed.set_exception(std::make_exception_ptr(Boom(2)));
  EXPECT_FALSE(failed.cancel());
  EXPECT_THROW(failed.result(), Boom);
}

TEST(Future, CancelWakesAWaiter) {
  Future<int> f;
  std::thread waiter([f] { EXPECT_THROW(f.result(), CancelledError); });
  EXPECT_TRUE(f.cancel());
  waiter.join();
}

TEST(Future, CancelledErrorIsAConcurError) {
  Future<int> f;
  f.cancel();
  try {
    f.result();
    FAIL() << "result() should have thrown";
  } catch (const concur::Error& e) {
    EXPECT_STREQ(e.type_name(), "CancelledError");
  }
}

// --- setting twice ----------------------------------------------------------

TEST(Future, SetResultTwiceIsInvalidState) {
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(Boom(0))),
               InvalidStateError);
  EXPECT_EQ(f.result(), 1);  // the first result stands
}

TEST(Future, SetExceptionTwiceIsInvalidState) {
  Future<int> f;
  f.set_exception(std::make_exception_ptr(Boom(1)));
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(Boom(2))),
               InvalidStateError);
  EXPECT_THROW(f.set_result(5), InvalidStateError);
  try {
    f.result();
  } catch (const Boom& e) {
    EXPECT_EQ(e.code, 1);
  }
}

TEST(Future, SetAfterCancelIsInvalidState) {
  Future<int> f;
  f.cancel();
  EXPECT_THROW(f.set_result(1), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(Boom(1))),
               InvalidStateError);
  EXPECT_TRUE(f.cancelled());
}

TEST(Future, VoidSetResultTwiceIsInvalidState) {
  Future<void> f;
  f.set_result();
  EXPECT_THROW(f.set_result(), InvalidStateError);
}

TEST(Future, InvalidStateErrorIsAConcurError) {
  Future<int> f;
  f.set_result(1);
  try {
    f.set_result(2);
    FAIL() << "set_result should have thrown";
  } catch (const concur::Error& e) {
    EXPECT_STREQ(e.type_name(), "InvalidStateError");
  }
}

// --- set_running_or_notify_cancel -------------------------------------------

TEST(Future, SetRunningOrNotifyCancel) {
  Future<int> pending;
  EXPECT_TRUE(pending.set_running_or_notify_cancel());
  EXPECT_TRUE(pending.running());
  // Already running: Python raises RuntimeError.
  EXPECT_THROW(static_cast<void>(pending.set_running_or_notify_cancel()),
               RuntimeError);

  Future<int> cancelled;
  cancelled.cancel();
  EXPECT_FALSE(cancelled.set_running_or_notify_cancel());
  EXPECT_TRUE(cancelled.cancelled());

  Future<int> finished;
  finished.set_result(1);
  EXPECT_THROW(static_cast<void>(finished.set_running_or_notify_cancel()),
               RuntimeError);
}

TEST(Future, SetExceptionOnRunningFuture) {
  Future<int> f;
  ASSERT_TRUE(f.set_running_or_notify_cancel());
  f.set_exception(std::make_exception_ptr(Boom(4)));
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_THROW(f.result(), Boom);
}

// --- add_done_callback ------------------------------------------------------

TEST(Future, CallbackRunsOnResult) {
  Future<int> f;
  int seen = 0;
  bool was_done = false;
  f.add_done_callback([&](const Future<int>& g) {
    was_done = g.done();
    seen = g.result();
  });
  EXPECT_EQ(seen, 0);  // not yet
  f.set_result(5);
  EXPECT_TRUE(was_done);
  EXPECT_EQ(seen, 5);
}

TEST(Future, CallbackGetsTheSameFuture) {
  Future<int> f;
  bool same = false;
  f.add_done_callback([&](const Future<int>& g) { same = (g == f); });
  f.set_result(0);
  EXPECT_TRUE(same);
}

TEST(Future, CallbackRunsOnException) {
  Future<int> f;
  std::exception_ptr seen;
  f.add_done_callback([&](const Future<int>& g) { seen = g.exception(); });
  f.set_exception(std::make_exception_ptr(Boom(3)));
  ASSERT_NE(seen, nullptr);
  EXPECT_THROW(std::rethrow_exception(seen), Boom);
}

TEST(Future, CallbackRunsOnCancel) {
  Future<int> f;
  bool was_cancelled = false;
  f.add_done_callback(
      [&](const Future<int>& g) { was_cancelled = g.cancelled(); });
  f.cancel();
  EXPECT_TRUE(was_cancelled);
}

TEST(Future, CallbacksRunOnceInOrder) {
  Future<int> f;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    f.add_done_callback(
        [&order, i](const Future<int>&) { order.push_back(i); });
  }
  f.set_result(0);
  EXPECT_THROW(f.set_result(1), InvalidStateError);  // does not rerun them
  f.cancel();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Future, CallbackOnAlreadyDoneRunsAtOnceInTheCallingThread) {
  Future<int> f;
  f.set_result(8);
  int seen = 0;
  std::uint64_t ran_on = 0;
  f.add_done_callback([&](const Future<int>& g) {
    seen = g.result();
    ran_on = get_ident();
  });
  EXPECT_EQ(seen, 8);
  EXPECT_EQ(ran_on, get_ident());
}

TEST(Future, CallbackOnAlreadyFailedOrCancelled) {
  Future<int> failed;
  failed.set_exception(std::make_exception_ptr(Boom(1)));
  bool saw_error = false;
  failed.add_done_callback(
      [&](const Future<int>& g) { saw_error = g.exception() != nullptr; });
  EXPECT_TRUE(saw_error);

  Future<int> cancelled;
  cancelled.cancel();
  bool saw_cancel = false;
  cancelled.add_done_callback(
      [&](const Future<int>& g) { saw_cancel = g.cancelled(); });
  EXPECT_TRUE(saw_cancel);
}

TEST(Future, ThrowingCallbackIsReportedAndOthersStillRun) {
  Future<int> f;
  int before = 0;
  int after = 0;
  f.add_done_callback([&](const Future<int>&) { ++before; });
  f.add_done_callback(
      [](const Future<int>&) { throw std::runtime_error("callback failed"); });
  f.add_done_callback([&](const Future<int>&) { ++after; });
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(f.set_result(1));
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 1);
  EXPECT_THAT(err, HasSubstr("exception calling callback"));
  EXPECT_THAT(err, HasSubstr("callback failed"));
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, ThrowingCallbackOnAlreadyDoneIsReported) {
  Future<int> f;
  f.set_result(1);
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(f.add_done_callback(
      [](const Future<int>&) { throw std::runtime_error("late failure"); }));
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("exception calling callback"));
  EXPECT_THAT(err, HasSubstr("late failure"));
}

TEST(Future, CallbackThrowingNonStdIsReported) {
  Future<int> f;
  bool later_ran = false;
  f.add_done_callback([](const Future<int>&) { throw 17; });
  f.add_done_callback([&](const Future<int>&) { later_ran = true; });
  testing::internal::CaptureStderr();
  f.cancel();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(later_ran);
  EXPECT_THAT(err, HasSubstr("exception calling callback"));
}

TEST(Future, CallbackMayOutliveEveryOtherHandle) {
  // The callback's Future keeps the state alive after the caller dropped
  // its handle (ASan checks the state is not freed under it).
  Future<std::string> kept;
  {
    Future<std::string> f;
    f.add_done_callback([&kept](const Future<std::string>& g) { kept = g; });
    f.set_result("still here");
  }
  EXPECT_EQ(kept.result(), "still here");
}

// --- futures from a pool ----------------------------------------------------

TEST(Future, TaskExceptionComesOutAsItself) {
  ThreadPoolExecutor pool(2);
  auto f = pool.submit([]() -> int { throw Boom(99); });
  try {
    f.result();
    FAIL() << "result() should have thrown";
  } catch (const Boom& e) {
    EXPECT_EQ(e.code, 99);
    EXPECT_STREQ(e.what(), "boom");
  }
  EXPECT_THROW(std::rethrow_exception(f.exception()), Boom);
  EXPECT_FALSE(f.cancelled());
}

TEST(Future, TaskLibraryExceptionComesOutAsItself) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([] {
    std::vector<int> v;
    return v.at(3);  // std::out_of_range
  });
  EXPECT_THROW(f.result(), std::out_of_range);
  auto g = pool.submit([] { throw NotAnException{3}; });
  EXPECT_THROW(g.result(), NotAnException);
}

TEST(Future, TaskStates) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto f = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  started.wait();
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.cancel());
  EXPECT_THROW(f.result(0ms), TimeoutError);
  release.set();
  EXPECT_EQ(f.result(), 1);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
}

TEST(Future, QueuedTaskCanBeCancelled) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto blocker = pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();
  bool ran = false;
  auto queued = pool.submit([&] { ran = true; });
  EXPECT_FALSE(queued.running());
  EXPECT_TRUE(queued.cancel());
  EXPECT_TRUE(queued.cancelled());
  release.set();
  pool.shutdown(true);
  EXPECT_FALSE(ran);
  EXPECT_THROW(queued.result(), CancelledError);
  EXPECT_NO_THROW(blocker.result());
}

TEST(Future, HandSetResultWhileRunningIsInvalidState) {
  // A running task owns its result (Python would let the hand setter win
  // and then fail inside the worker when the call returns).
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto f = pool.submit([&] {
    started.set();
    release.wait();
    return 2;
  });
  started.wait();
  EXPECT_THROW(f.set_result(1), InvalidStateError);
  EXPECT_THROW(f.set_exception(std::make_exception_ptr(Boom(1))),
               InvalidStateError);
  EXPECT_FALSE(f.done());
  release.set();
  EXPECT_EQ(f.result(), 2);
}

TEST(Future, HandSetResultBeforeStartSkipsTheCall) {
  // Set by hand while still queued: the result stands and the call never
  // runs.
  ThreadPoolExecutor pool(1);
  Event release;
  auto blocker = pool.submit([&] { release.wait(); });
  std::atomic<bool> ran{false};
  auto f = pool.submit([&] {
    ran = true;
    return 2;
  });
  f.set_result(1);
  release.set();
  pool.shutdown(true);
  EXPECT_EQ(f.result(), 1);
  EXPECT_FALSE(ran.load());
}

TEST(Future, CallbacksOfAFutureThatNeverCompletesAreDestroyedWithIt) {
  // Python drops them with the future; so must concur, without calling
  // them.
  auto witness = std::make_shared<int>(0);
  bool called = false;
  {
    Future<int> f;
    f.add_done_callback(
        [witness, &called](const Future<int>&) { called = true; });
    f.add_done_callback(
        [witness, &called](const Future<int>&) { called = true; });
    EXPECT_EQ(witness.use_count(), 3);
  }
  EXPECT_EQ(witness.use_count(), 1);
  EXPECT_FALSE(called);
}

TEST(Future, CallbackRunsInTheCompletingWorker) {
  std::uint64_t worker = 0;
  std::uint64_t callback = 0;
  Event hold;
  ThreadPoolExecutor pool(1);
  auto f = pool.submit([&] {
    hold.wait();
    worker = get_ident();
  });
  f.add_done_callback([&](const Future<void>&) { callback = get_ident(); });
  hold.set();
  pool.shutdown(true);
  EXPECT_NE(worker, 0u);
  EXPECT_EQ(callback, worker);
  EXPECT_NE(callback, get_ident());
}

TEST(Future, ResultAfterThePoolIsGone) {
  Future<std::string> f;
  {
    ThreadPoolExecutor pool(1);
    f = pool.submit([] { return std::string(100, 'x'); });
  }
  EXPECT_EQ(f.result(), std::string(100, 'x'));
}

}  // namespace
