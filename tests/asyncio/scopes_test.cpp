// gather, wait, wait_for, timeout scopes, shield, as_completed, TaskGroup
// and Runner (Python's test_tasks, test_waitfor, test_timeouts,
// test_taskgroups and test_runners are the checklist).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "concur/asyncio.hpp"

namespace asyncio = concur::asyncio;
using namespace std::chrono_literals;

namespace {

asyncio::Task<int> value_after(int v, std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  co_return v;
}

// Orders that tests check come from passes of the loop or from events,
// never from timings, which a loaded machine reorders.
asyncio::Task<int> value_after_passes(int v, int passes) {
  for (int i = 0; i < passes; ++i) co_await asyncio::sleep(0s);
  co_return v;
}

asyncio::Task<int> value_when(int v, asyncio::Event* go) {
  co_await go->wait();
  co_return v;
}

asyncio::Task<void> fail_when(std::string what, asyncio::Event* go) {
  co_await go->wait();
  throw concur::ValueError(what);
}

asyncio::Task<void> fail_after(std::string what, std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
  throw concur::ValueError(what);
}

asyncio::Task<void> forever(int* cancelled) {
  try {
    co_await asyncio::sleep(24h);
  } catch (const asyncio::CancelledError&) {
    ++*cancelled;
    throw;
  }
}

asyncio::Task<std::string> text() { co_return "hi"; }

// --- gather ------------------------------------------------------------------

asyncio::Task<void> gather_typed() {
  auto [a, b, c] = co_await asyncio::gather(value_after(1, 2ms), text(),
                                            fail_after("unused", 0ms));
  (void)a;
  (void)b;
  (void)c;
}

asyncio::Task<void> gather_in_order() {
  auto results = co_await asyncio::gather(value_after(1, 3ms), text());
  EXPECT_EQ(std::get<0>(results), 1);
  EXPECT_EQ(std::get<1>(results), "hi");
  std::vector<asyncio::Task<int>> tasks;
  for (int i = 0; i < 5; ++i)
    tasks.push_back(value_after(i, std::chrono::milliseconds(5 - i)));
  auto values = co_await asyncio::gather(std::move(tasks));
  EXPECT_EQ(values, (std::vector<int>{0, 1, 2, 3, 4}));
  auto none = co_await asyncio::gather(std::vector<asyncio::Task<int>>{});
  EXPECT_TRUE(none.empty());
}

TEST(Gather, ResultsComeInArgumentOrder) { asyncio::run(gather_in_order()); }

TEST(Gather, TheFirstFailureFailsTheGather) {
  EXPECT_THROW(asyncio::run(gather_typed()), concur::ValueError);
}

asyncio::Task<void> gather_failure_leaves_siblings() {
  asyncio::Event go;
  auto slow = asyncio::create_task(value_when(7, &go));
  auto g = asyncio::gather(
      slow, asyncio::Task<int>(asyncio::create_task(value_after(0, 0ms))),
      asyncio::create_task(fail_after("x", 1ms)));
  EXPECT_THROW(co_await g, concur::ValueError);
  EXPECT_FALSE(slow.done());
  go.set();
  int v = co_await slow;
  EXPECT_EQ(v, 7);
}

TEST(Gather, AFailingChildDoesNotCancelItsSiblings) {
  asyncio::run(gather_failure_leaves_siblings());
}

asyncio::Task<void> gather_return_exceptions() {
  int cancelled = 0;
  auto victim = asyncio::create_task(forever(&cancelled));
  auto g = asyncio::gather(asyncio::return_exceptions, value_after(1, 1ms),
                           fail_after("bad", 1ms), victim);
  co_await asyncio::sleep(0s);
  victim.cancel();
  auto [a, b, c] = co_await g;
  EXPECT_TRUE(a.ok());
  EXPECT_EQ(a.value(), 1);
  EXPECT_FALSE(b.ok());
  EXPECT_THROW(b.value(), concur::ValueError);
  EXPECT_FALSE(c.ok());
  EXPECT_THROW(std::rethrow_exception(c.error()), asyncio::CancelledError);
}

TEST(Gather, ReturnExceptionsGivesOutcomes) {
  asyncio::run(gather_return_exceptions());
}

asyncio::Task<void> cancel_the_gather() {
  int cancelled = 0;
  auto g = asyncio::gather(forever(&cancelled), forever(&cancelled));
  co_await asyncio::sleep(0s);
  EXPECT_TRUE(g.cancel());
  EXPECT_THROW(co_await g, asyncio::CancelledError);
  EXPECT_EQ(cancelled, 2);
  EXPECT_TRUE(g.cancelled());
}

TEST(Gather, CancellingTheGatherCancelsEveryChild) {
  asyncio::run(cancel_the_gather());
}

asyncio::Task<void> await_gather(int* cancelled) {
  co_await asyncio::gather(forever(cancelled), forever(cancelled));
}

asyncio::Task<void> cancel_the_awaiter_of_a_gather() {
  int cancelled = 0;
  auto outer = asyncio::create_task(await_gather(&cancelled));
  co_await asyncio::sleep(1ms);
  outer.cancel();
  EXPECT_THROW(co_await outer, asyncio::CancelledError);
  EXPECT_EQ(cancelled, 2);
}

TEST(Gather, CancellingItsAwaiterCancelsTheChildren) {
  asyncio::run(cancel_the_awaiter_of_a_gather());
}

// --- wait --------------------------------------------------------------------

asyncio::Task<void> wait_variants() {
  asyncio::Event go;
  std::vector<asyncio::Task<int>> tasks{value_after(1, 1ms),
                                        value_when(2, &go)};
  auto first = co_await asyncio::wait(
      tasks, {.return_when = asyncio::ReturnWhen::FIRST_COMPLETED});
  EXPECT_EQ(first.done.size(), 1u);
  EXPECT_EQ(first.pending.size(), 1u);
  EXPECT_EQ(first.done[0].result(), 1);
  auto timed = co_await asyncio::wait(first.pending, {.timeout = 1ms});
  EXPECT_TRUE(timed.done.empty());
  EXPECT_EQ(timed.pending.size(), 1u);
  go.set();
  auto all = co_await asyncio::wait(tasks);
  EXPECT_EQ(all.done.size(), 2u);
  asyncio::Event never;
  std::vector<asyncio::Task<void>> failing{
      asyncio::create_task(fail_after("f", 1ms)),
      asyncio::create_task(fail_when("late", &never))};
  auto fx = co_await asyncio::wait(
      failing, {.return_when = asyncio::ReturnWhen::FIRST_EXCEPTION});
  EXPECT_EQ(fx.done.size(), 1u);
  EXPECT_EQ(fx.pending.size(), 1u);
  fx.pending[0].cancel();
  EXPECT_THROW(co_await asyncio::wait(std::vector<asyncio::Task<int>>{}),
               concur::ValueError);
}

TEST(Wait, ReturnWhenAndTimeout) { asyncio::run(wait_variants()); }

// --- wait_for and timeout ----------------------------------------------------

asyncio::Task<void> wait_for_cases() {
  int v = co_await asyncio::wait_for(value_after(3, 1ms), 1s);
  EXPECT_EQ(v, 3);
  int cancelled = 0;
  bool timed_out = false;
  try {
    co_await asyncio::wait_for(forever(&cancelled), 5ms);
  } catch (const concur::TimeoutError& e) {
    timed_out = true;
    // The cause is the CancelledError.
    bool nested_cancel = false;
    try {
      std::rethrow_if_nested(e);
    } catch (const asyncio::CancelledError&) {
      nested_cancel = true;
    }
    EXPECT_TRUE(nested_cancel);
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(cancelled, 1);  // the cancellation had finished
  bool ran = false;
  auto never = [](bool* r) -> asyncio::Task<void> {
    *r = true;
    co_return;
  };
  EXPECT_THROW(co_await asyncio::wait_for(never(&ran), 0s),
               concur::TimeoutError);
  EXPECT_FALSE(ran);
}

TEST(WaitFor, TimesOutAfterTheCancellationHasFinished) {
  asyncio::run(wait_for_cases());
}

asyncio::Task<void> cleanup_raises() {
  try {
    co_await asyncio::sleep(24h);
  } catch (const asyncio::CancelledError&) {
    throw concur::ValueError("cleanup failed");
  }
}

asyncio::Task<void> inner_error_wins() {
  EXPECT_THROW(co_await asyncio::wait_for(cleanup_raises(), 2ms),
               concur::ValueError);
}

TEST(WaitFor, AnErrorInTheInnerCleanupWins) {
  asyncio::run(inner_error_wins());
}

asyncio::Task<void> body_sleeps(std::chrono::milliseconds d) {
  co_await asyncio::sleep(d);
}

asyncio::Task<void> nested_timeouts() {
  // The inner scope expires first and only it raises.
  bool inner = false;
  try {
    co_await asyncio::timeout(1h).run(
        asyncio::timeout(2ms).run(body_sleeps(24h)));
  } catch (const concur::TimeoutError&) {
    inner = true;
  }
  EXPECT_TRUE(inner);
  EXPECT_EQ(asyncio::current_task().cancelling(), 0);
  auto scope = asyncio::timeout(std::nullopt);
  co_await scope.run(body_sleeps(1ms));
  EXPECT_FALSE(scope.expired());
  EXPECT_THROW(scope.reschedule(std::nullopt), concur::RuntimeError);
}

TEST(Timeout, NestedScopesEachClaimOnlyTheirOwnCancel) {
  asyncio::run(nested_timeouts());
}

asyncio::Task<void> reschedules(asyncio::Timeout* scope) {
  scope->reschedule(std::chrono::steady_clock::now() + 1ms);
  co_await asyncio::sleep(24h);
}

asyncio::Task<void> rescheduling() {
  asyncio::Timeout scope = asyncio::timeout(1h);
  EXPECT_THROW(scope.reschedule(std::nullopt), concur::RuntimeError);
  EXPECT_THROW(co_await scope.run(reschedules(&scope)), concur::TimeoutError);
  EXPECT_TRUE(scope.expired());
}

TEST(Timeout, TheBodyMayReschedule) { asyncio::run(rescheduling()); }

asyncio::Task<void> scope_until(std::chrono::steady_clock::time_point when) {
  co_await asyncio::Timeout(when).run(body_sleeps(24h));
}

asyncio::Task<void> foreign_cancel_not_swallowed() {
  const auto when = std::chrono::steady_clock::now() + 2ms;
  auto t = asyncio::create_task(scope_until(when));
  co_await asyncio::sleep(0s);  // the scope's timer is armed first
  // In the pass where the scope expires, a cancel from outside comes too.
  asyncio::get_running_loop().call_at_point(when,
                                            [t]() mutable { t.cancel(); });
  EXPECT_THROW(co_await t, asyncio::CancelledError);
}

TEST(Timeout, ACancelFromOutsideIsNotSwallowed) {
  asyncio::run(foreign_cancel_not_swallowed());
}

// --- shield ------------------------------------------------------------------

asyncio::Task<int> shielded(asyncio::Task<int> inner) {
  int v = co_await asyncio::shield(inner);
  co_return v;
}

asyncio::Task<void> shield_case() {
  asyncio::Event go;
  auto inner = asyncio::create_task(value_when(4, &go));
  auto outer = asyncio::create_task(shielded(inner));
  co_await asyncio::sleep(1ms);
  outer.cancel();
  EXPECT_THROW(co_await outer, asyncio::CancelledError);
  EXPECT_FALSE(inner.cancelled());
  go.set();
  int v = co_await inner;
  EXPECT_EQ(v, 4);
}

TEST(Shield, TheInnerTaskGoesOn) { asyncio::run(shield_case()); }

// --- as_completed ------------------------------------------------------------

asyncio::Task<void> completion_order() {
  std::vector<asyncio::Task<int>> tasks{value_after_passes(3, 6),
                                        value_after_passes(1, 1),
                                        value_after_passes(2, 3)};
  asyncio::AsCompleted<int> ac(std::move(tasks));
  std::vector<int> order;
  for (;;) {
    auto next = co_await ac.next();
    if (!next) break;
    order.push_back(next->result());
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  asyncio::AsCompleted<int> slow({value_after(0, 1h)}, 1ms);
  EXPECT_THROW(co_await slow.next(), concur::TimeoutError);
}

TEST(AsCompleted, InTheOrderTheyFinish) { asyncio::run(completion_order()); }

// --- TaskGroup ---------------------------------------------------------------

asyncio::Task<void> group_body(asyncio::TaskGroup& tg, std::vector<int>* out) {
  for (int i = 0; i < 3; ++i) {
    auto t = tg.create_task(value_after_passes(i, 3 - i));
    t.add_done_callback(
        [out](asyncio::Task<int>& d) { out->push_back(d.result()); });
  }
  co_return;
}

asyncio::Task<void> group_ok() {
  std::vector<int> out;
  asyncio::TaskGroup tg;
  EXPECT_THROW((void)tg.create_task(value_after(0, 0ms)), concur::RuntimeError);
  co_await tg.run(group_body(tg, &out));
  EXPECT_EQ(out, (std::vector<int>{2, 1, 0}));
  EXPECT_THROW((void)tg.create_task(value_after(0, 0ms)), concur::RuntimeError);
}

TEST(TaskGroup, WaitsForEveryTask) { asyncio::run(group_ok()); }

asyncio::Task<void> failing_body(asyncio::TaskGroup& tg, int* cancelled,
                                 bool* body_cancelled) {
  (void)tg.create_task(forever(cancelled));
  (void)tg.create_task(fail_after("one", 1ms));
  (void)tg.create_task(fail_after("two", 1ms));
  try {
    co_await asyncio::sleep(24h);
  } catch (const asyncio::CancelledError&) {
    *body_cancelled = true;
    throw;
  }
}

asyncio::Task<void> group_fails() {
  int cancelled = 0;
  bool body_cancelled = false;
  asyncio::TaskGroup tg;
  std::size_t n = 0;
  try {
    co_await tg.run(failing_body(tg, &cancelled, &body_cancelled));
  } catch (const concur::ExceptionGroup& eg) {
    n = eg.exceptions().size();
    EXPECT_STREQ(eg.what(),
                 "unhandled errors in a TaskGroup (2 sub-exceptions)");
  }
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(cancelled, 1);
  EXPECT_TRUE(body_cancelled);
  EXPECT_EQ(asyncio::current_task().cancelling(), 0);
}

TEST(TaskGroup, AFailureCancelsTheOthersAndTheBody) {
  asyncio::run(group_fails());
}

asyncio::Task<void> sleeping_body(asyncio::TaskGroup& tg, int* cancelled) {
  (void)tg.create_task(forever(cancelled));
  co_await asyncio::sleep(24h);
}

asyncio::Task<void> group_in_task(int* cancelled) {
  asyncio::TaskGroup tg;
  co_await tg.run(sleeping_body(tg, cancelled));
}

asyncio::Task<void> group_cancelled_from_outside() {
  int cancelled = 0;
  auto t = asyncio::create_task(group_in_task(&cancelled));
  co_await asyncio::sleep(1ms);
  t.cancel();
  EXPECT_THROW(co_await t, asyncio::CancelledError);
  EXPECT_EQ(cancelled, 1);
}

TEST(TaskGroup, ACancelFromOutsideCancelsTheTasksAndComesOut) {
  asyncio::run(group_cancelled_from_outside());
}

// --- Runner ------------------------------------------------------------------

asyncio::Task<void> leave_a_task(int* cancelled) {
  (void)asyncio::create_task(forever(cancelled));
  co_await asyncio::sleep(0s);
}

TEST(Runner, CloseCancelsWhatIsLeft) {
  int cancelled = 0;
  {
    asyncio::Runner runner;
    runner.run(leave_a_task(&cancelled));
    EXPECT_EQ(runner.run(value_after(5, 0ms)), 5);
  }
  EXPECT_EQ(cancelled, 1);
}

asyncio::Task<void> nested_run() {
  EXPECT_THROW(asyncio::run(value_after(1, 0ms)), concur::RuntimeError);
  co_return;
}

TEST(Runner, RunInsideARunningLoopIsRefused) { asyncio::run(nested_run()); }

// --- the seed's style --------------------------------------------------------

TEST(Seed, RunUntilCompleteOfWait) {
  asyncio::EventLoop loop;
  std::vector<asyncio::Task<void>> tasks{body_sleeps(20ms), body_sleeps(20ms)};
  auto result = loop.run_until_complete(asyncio::wait(std::move(tasks)));
  EXPECT_EQ(result.done.size(), 2u);
  loop.close();
}

}  // namespace
