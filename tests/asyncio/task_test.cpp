// Tasks: creation, awaiting, results, cancellation and its counters,
// names, the trampoline's depth (Python's test_tasks is the checklist).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"

namespace asyncio = concur::asyncio;
using namespace std::chrono_literals;

namespace {

asyncio::Task<int> forty_two() { co_return 42; }

asyncio::Task<void> nap(std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
}

asyncio::Task<int> add_after_sleep(int a, int b) {
  co_await asyncio::sleep(0s);
  co_return a + b;
}

asyncio::Task<void> fail_with(std::string what) {
  co_await asyncio::sleep(0s);
  throw concur::ValueError(what);
}

asyncio::Task<int> nested(int depth) {
  if (depth == 0) co_return 0;
  int below = co_await nested(depth - 1);
  co_return below + 1;
}

TEST(Task, RunGivesTheValue) { EXPECT_EQ(asyncio::run(forty_two()), 42); }

TEST(Task, AwaitRunsInline) {
  EXPECT_EQ(asyncio::run(add_after_sleep(2, 3)), 5);
}

TEST(Task, DeepInlineNestingDoesNotGrowTheStack) {
  EXPECT_EQ(asyncio::run(nested(100000)), 100000);
}

asyncio::Task<long> many_sync_awaits(long n) {
  long sum = 0;
  for (long i = 0; i < n; ++i) {
    int v = co_await forty_two();
    sum += v;
  }
  co_return sum;
}

TEST(Task, AMillionSynchronousAwaitsInOneTask) {
  EXPECT_EQ(asyncio::run(many_sync_awaits(1'000'000)), 42'000'000L);
}

TEST(Task, ExceptionReachesTheAwaiter) {
  EXPECT_THROW(asyncio::run(fail_with("boom")), concur::ValueError);
}

asyncio::Task<int> spawn_and_await() {
  auto t = asyncio::create_task(add_after_sleep(20, 22));
  EXPECT_FALSE(t.done());
  int v = co_await t;
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.result(), 42);
  int again = co_await t;
  co_return v + again;
}

TEST(Task, CreateTaskSchedulesAndAwaitingTwiceGivesTheResultTwice) {
  EXPECT_EQ(asyncio::run(spawn_and_await()), 84);
}

asyncio::Task<void> record(std::vector<int>* out, int id, int yields) {
  for (int i = 0; i < yields; ++i) {
    out->push_back(id);
    co_await asyncio::sleep(0s);
  }
}

asyncio::Task<void> interleave(std::vector<int>* out) {
  auto a = asyncio::create_task(record(out, 1, 3));
  auto b = asyncio::create_task(record(out, 2, 3));
  co_await a;
  co_await b;
}

TEST(Task, TasksInterleaveOnePassAtATime) {
  std::vector<int> out;
  asyncio::run(interleave(&out));
  EXPECT_EQ(out, (std::vector<int>{1, 2, 1, 2, 1, 2}));
}

asyncio::Task<void> sleep_forever(bool* cleaned) {
  struct Flag {
    bool* f;
    ~Flag() { *f = true; }
  } flag{cleaned};
  co_await asyncio::sleep(24h);
}

asyncio::Task<std::string> cancel_a_sleeper() {
  bool cleaned = false;
  auto t = asyncio::create_task(sleep_forever(&cleaned));
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(t.cancel("stop now"));
  EXPECT_EQ(t.cancelling(), 1);
  std::string message;
  try {
    co_await t;
  } catch (const asyncio::CancelledError& e) {
    message = e.what();
  }
  EXPECT_TRUE(t.cancelled());
  EXPECT_TRUE(cleaned);
  EXPECT_FALSE(t.cancel());
  EXPECT_THROW(t.result(), asyncio::CancelledError);
  co_return message;
}

TEST(Task, CancelThrowsIntoTheSleeperWithItsMessage) {
  EXPECT_EQ(asyncio::run(cancel_a_sleeper()), "stop now");
}

asyncio::Task<int> swallow_cancel() {
  try {
    co_await asyncio::sleep(24h);
  } catch (const asyncio::CancelledError&) {
    co_return 7;
  }
  co_return 0;
}

asyncio::Task<int> cancel_swallowed() {
  auto t = asyncio::create_task(swallow_cancel());
  co_await asyncio::sleep(0s);
  t.cancel();
  int v = co_await t;
  EXPECT_FALSE(t.cancelled());
  EXPECT_EQ(t.cancelling(), 1);
  EXPECT_EQ(t.uncancel(), 0);
  co_return v;
}

TEST(Task, ATaskMayCatchItsCancellation) {
  EXPECT_EQ(asyncio::run(cancel_swallowed()), 7);
}

asyncio::Task<int> never_started_body(bool* ran) {
  *ran = true;
  co_return 1;
}

asyncio::Task<void> cancel_before_start() {
  bool ran = false;
  auto t = asyncio::create_task(never_started_body(&ran));
  t.cancel();
  EXPECT_THROW(co_await t, asyncio::CancelledError);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(t.cancelled());
}

TEST(Task, CancelledBeforeItsFirstStepItNeverRuns) {
  asyncio::run(cancel_before_start());
}

asyncio::Task<void> inner_sleeper() { co_await asyncio::sleep(24h); }

asyncio::Task<void> outer_awaits(asyncio::Task<void> inner) { co_await inner; }

asyncio::Task<void> cancel_propagates() {
  auto inner = asyncio::create_task(inner_sleeper());
  auto outer = asyncio::create_task(outer_awaits(inner));
  co_await asyncio::sleep(0s);
  outer.cancel();
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(inner.cancelled());
  EXPECT_THROW(co_await outer, asyncio::CancelledError);
  EXPECT_TRUE(outer.cancelled());
}

TEST(Task, CancellingTheAwaiterCancelsTheAwaitedTask) {
  asyncio::run(cancel_propagates());
}

asyncio::Task<void> self_cancel() {
  asyncio::current_task().cancel("me");
  // Not yet: a cancel is thrown at the next suspension.
  bool thrown = false;
  try {
    co_await asyncio::sleep(0s);
  } catch (const asyncio::CancelledError& e) {
    thrown = std::string(e.what()) == "me";
  }
  EXPECT_TRUE(thrown);
}

TEST(Task, ASelfCancelIsThrownAtTheNextAwait) { asyncio::run(self_cancel()); }

asyncio::Task<void> names() {
  auto t = asyncio::create_task(forty_two());
  EXPECT_EQ(t.get_name().rfind("Task-", 0), 0u);
  auto named = asyncio::create_task(forty_two(), "worker");
  EXPECT_EQ(named.get_name(), "worker");
  named.set_name("renamed");
  EXPECT_EQ(named.get_name(), "renamed");
  EXPECT_THROW(t.result(), asyncio::InvalidStateError);
  EXPECT_THROW(t.exception(), asyncio::InvalidStateError);
  co_await t;
  co_await named;
  EXPECT_EQ(t.exception(), nullptr);
}

TEST(Task, NamesAndResultStates) { asyncio::run(names()); }

TEST(Task, CreateTaskNeedsARunningLoopAndAnUnstartedTask) {
  EXPECT_THROW((void)asyncio::create_task(forty_two()), concur::RuntimeError);
  asyncio::EventLoop loop;
  auto t = loop.create_task(forty_two());
  EXPECT_THROW((void)loop.create_task(t), concur::RuntimeError);
  EXPECT_EQ(loop.run_until_complete(t), 42);
  asyncio::Task<int> empty;
  EXPECT_THROW((void)loop.create_task(empty), concur::ValueError);
}

asyncio::Task<int> callbacks() {
  auto t = asyncio::create_task(forty_two());
  int seen = 0;
  t.add_done_callback(
      [&seen](asyncio::Task<int>& done) { seen = done.result(); });
  EXPECT_EQ(seen, 0);
  co_await t;  // the callback came first, so it has run
  co_return seen;
}

TEST(Task, DoneCallbacksRunOnTheLoop) {
  EXPECT_EQ(asyncio::run(callbacks()), 42);
}

TEST(Task, ExceptionNeverRetrievedIsReported) {
  asyncio::EventLoop loop;
  std::vector<std::string> reports;
  loop.set_exception_handler(
      [&reports](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        reports.push_back(c.message + " " + c.object);
      });
  {
    auto t = loop.create_task(fail_with("lost"));
    loop.run_until_complete(nap(10ms));
    EXPECT_TRUE(t.done());
  }
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("Task exception was never retrieved"),
            std::string::npos);
  EXPECT_NE(reports[0].find("ValueError('lost')"), std::string::npos);
}

}  // namespace

namespace {

asyncio::Task<int> cancel_after_return() {
  asyncio::current_task().cancel("late");
  co_return 1;
}

TEST(Task, ACancelPendingWhenTheTaskReturnsEndsItCancelled) {
  asyncio::EventLoop loop;
  auto t = loop.create_task(cancel_after_return());
  EXPECT_THROW(loop.run_until_complete(t), asyncio::CancelledError);
  EXPECT_TRUE(t.cancelled());
}

asyncio::Task<void> cancel_done_inline_child() {
  auto child = forty_two();
  int v = co_await child;
  EXPECT_EQ(v, 42);
  EXPECT_FALSE(child.cancel());  // done: nothing to cancel, not the parent
  co_await asyncio::sleep(0s);
}

TEST(Task, CancellingAFinishedInlineChildCancelsNothing) {
  asyncio::run(cancel_done_inline_child());
}

asyncio::Task<void> lock_waiter(asyncio::Lock* lock) {
  co_await lock->acquire();
  lock->release();
}

asyncio::Task<void> hold_and_stop(asyncio::EventLoop* loop) {
  asyncio::Lock lock;  // lives in this frame, waited on by the others
  co_await lock.acquire();
  auto a = asyncio::create_task(lock_waiter(&lock));
  auto b = asyncio::create_task(lock_waiter(&lock));
  co_await asyncio::sleep(0s);
  lock.release();  // a is woken, and stays listed until it runs...
  loop->stop();    // ...which it never does
  co_await asyncio::sleep(24h);
}

TEST(Task, ClosingALoopWithWokenWaitersFreesEveryFrameSafely) {
  asyncio::EventLoop loop;
  loop.set_exception_handler(
      [](asyncio::EventLoop&, const asyncio::ExceptionContext&) {});
  auto t = loop.create_task(hold_and_stop(&loop));
  loop.run_forever();
  t = {};
  loop.close();  // ASan checks that no frame touches a freed list
}

}  // namespace
