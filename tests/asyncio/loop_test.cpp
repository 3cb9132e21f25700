// The event loop: callbacks in order, timers, stop and close, the calls
// from other threads, descriptors, and misuse (Python's test_base_events
// and test_events are the checklist).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "concur/asyncio.hpp"
#include "concur/threading.hpp"
#include "sys/fd.hpp"

namespace asyncio = concur::asyncio;
using namespace std::chrono_literals;

namespace {

TEST(Loop, CallSoonRunsInOrderAndWhatItSchedulesWaitsAPass) {
  asyncio::EventLoop loop;
  std::vector<int> order;
  loop.call_soon([&] {
    order.push_back(1);
    loop.call_soon([&] {
      order.push_back(4);
      loop.stop();
    });
  });
  loop.call_soon([&] { order.push_back(2); });
  loop.call_soon([&] { order.push_back(3); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Loop, CancelledHandleDoesNotRun) {
  asyncio::EventLoop loop;
  bool ran = false;
  auto h = loop.call_soon([&] { ran = true; });
  h.cancel();
  EXPECT_TRUE(h.cancelled());
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_FALSE(ran);
}

TEST(Loop, TimersRunInDeadlineOrderThenInSchedulingOrder) {
  asyncio::EventLoop loop;
  std::vector<int> order;
  asyncio::Handle last;
  // Every deadline from one reading of the clock, so that their order
  // does not depend on how fast these lines run.
  const double base = loop.time();
  last = loop.call_at(base + 0.020, [&] {
    order.push_back(3);
    EXPECT_GE(loop.time(), last.when());  // never early
    loop.stop();
  });
  loop.call_at(base + 0.005, [&] { order.push_back(1); });
  const double at = base + 0.010;
  loop.call_at(at, [&] { order.push_back(2); });
  loop.call_at(at, [&] { order.push_back(22); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 22, 3}));
}

TEST(Loop, ManyCancelledTimersAreSweptAndNoneRuns) {
  asyncio::EventLoop loop;
  int ran = 0;
  std::vector<asyncio::Handle> handles;
  for (int i = 0; i < 5000; ++i) {
    handles.push_back(loop.call_later(1h, [&] { ++ran; }));
  }
  for (auto& h : handles) h.cancel();
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ran, 0);
}

TEST(Loop, StopBeforeRunForeverRunsOnePass) {
  asyncio::EventLoop loop;
  int ran = 0;
  loop.call_soon([&] { ++ran; });
  loop.stop();
  loop.run_forever();
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(loop.is_running());
}

TEST(Loop, MisuseRaisesRuntimeError) {
  asyncio::EventLoop loop;
  loop.call_soon([&] {
    EXPECT_TRUE(loop.is_running());
    EXPECT_THROW(loop.run_forever(), concur::RuntimeError);
    EXPECT_THROW(loop.close(), concur::RuntimeError);
    asyncio::EventLoop other;
    EXPECT_THROW(other.run_forever(), concur::RuntimeError);
    EXPECT_EQ(&asyncio::get_running_loop(), &loop);
    loop.stop();
  });
  loop.run_forever();
  EXPECT_THROW(asyncio::get_running_loop(), concur::RuntimeError);
  EXPECT_EQ(asyncio::running_loop(), nullptr);
  loop.close();
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  EXPECT_THROW(loop.run_forever(), concur::RuntimeError);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), concur::RuntimeError);
  EXPECT_THROW(loop.add_reader(0, [] {}), concur::RuntimeError);
  EXPECT_THROW(loop.call_later(-1s, [] {}), concur::ValueError);
}

TEST(Loop, CallsFromAnotherThreadWhileRunningAreRefused) {
  asyncio::EventLoop loop;
  std::atomic<int> refused{0};
  loop.call_soon([&] {
    concur::threading::Thread t([&] {
      try {
        loop.call_soon([] {});
      } catch (const concur::RuntimeError&) {
        ++refused;
      }
      loop.call_soon_threadsafe([&] { loop.stop(); });
    });
    t.start();
    t.join();
  });
  loop.run_forever();
  EXPECT_EQ(refused.load(), 1);
}

TEST(Loop, CallSoonThreadsafeFromManyThreadsLosesNothing) {
  asyncio::EventLoop loop;
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  int received = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        loop.call_soon_threadsafe([&] {
          if (++received == kThreads * kEach) loop.stop();
        });
      }
    });
  }
  loop.run_forever();
  for (auto& t : threads) t.join();
  EXPECT_EQ(received, kThreads * kEach);
}

TEST(Loop, ExceptionInACallbackGoesToTheHandlerAndTheLoopGoesOn) {
  asyncio::EventLoop loop;
  std::vector<std::string> seen;
  loop.set_exception_handler(
      [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        seen.push_back(c.message);
      });
  loop.call_soon([] { throw concur::ValueError("bad"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "Exception in callback");
}

TEST(Loop, SystemExitFromACallbackLeavesRunForever) {
  asyncio::EventLoop loop;
  loop.call_soon([] { throw concur::SystemExit(3); });
  EXPECT_THROW(loop.run_forever(), concur::SystemExit);
  EXPECT_FALSE(loop.is_running());
}

TEST(Loop, ReaderAndWriterCallbacks) {
  asyncio::EventLoop loop;
  auto pipe = concur::sys::make_pipe(O_NONBLOCK);
  std::string got;
  loop.add_reader(pipe.read.get(), [&] {
    char buf[16];
    const ssize_t n = ::read(pipe.read.get(), buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
    if (got == "ping") {
      EXPECT_TRUE(loop.remove_reader(pipe.read.get()));
      loop.stop();
    }
  });
  loop.add_writer(pipe.write.get(), [&] {
    EXPECT_EQ(::write(pipe.write.get(), "ping", 4), 4);
    EXPECT_TRUE(loop.remove_writer(pipe.write.get()));
  });
  loop.run_forever();
  EXPECT_EQ(got, "ping");
  EXPECT_FALSE(loop.remove_reader(pipe.read.get()));
  EXPECT_THROW(loop.add_reader(-1, [] {}), concur::ValueError);
  EXPECT_THROW(loop.add_reader(999999, [] {}), concur::OSError);
}

asyncio::Task<void> sleeper() { co_await asyncio::sleep(1h); }

TEST(Loop, CloseReportsAndReleasesPendingTasks) {
  asyncio::EventLoop loop;
  std::vector<std::string> seen;
  loop.set_exception_handler(
      [&](asyncio::EventLoop&, const asyncio::ExceptionContext& c) {
        seen.push_back(c.message);
      });
  auto t = loop.create_task(sleeper());
  loop.call_later(1ms, [&] { loop.stop(); });
  loop.run_forever();
  loop.close();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], "Task was destroyed but it is pending!");
  EXPECT_FALSE(t.done());
}

TEST(Loop, GetEventLoopGivesTheThreadsLoop) {
  asyncio::EventLoop& a = asyncio::get_event_loop();
  asyncio::EventLoop& b = asyncio::get_event_loop();
  EXPECT_EQ(&a, &b);
  auto fresh = asyncio::new_event_loop();
  EXPECT_NE(fresh.get(), &a);
}

asyncio::Task<int> on_loop(asyncio::EventLoop* expected) {
  EXPECT_EQ(&asyncio::get_running_loop(), expected);
  co_await asyncio::sleep(1ms);
  co_return 5;
}

TEST(Loop, RunCoroutineThreadsafeFromAnotherThread) {
  asyncio::EventLoop loop;
  std::thread runner([&] { loop.run_forever(); });
  auto f = asyncio::run_coroutine_threadsafe(on_loop(&loop), loop);
  EXPECT_EQ(f.result(5s), 5);
  auto g = asyncio::run_coroutine_threadsafe(sleeper(), loop);
  EXPECT_TRUE(g.cancel());
  loop.call_soon_threadsafe([&] { loop.stop(); });
  runner.join();
  loop.close();
}

asyncio::Task<int> from_threads() {
  int a = co_await asyncio::to_thread([](int x) { return x * 2; }, 21);
  concur::futures::ThreadPoolExecutor pool(2);
  int b = co_await asyncio::run_in_executor(pool, [] { return 1; });
  auto f = pool.submit([] { return 100; });
  int c = co_await f;
  auto failing =
      asyncio::to_thread([]() -> int { throw concur::ValueError("x"); });
  EXPECT_THROW(co_await failing, concur::ValueError);
  co_return a + b + c;
}

TEST(Loop, ToThreadRunInExecutorAndAwaitingAConcurrentFuture) {
  EXPECT_EQ(asyncio::run(from_threads()), 143);
}

asyncio::Task<int> future_user() {
  asyncio::Future<int> f;
  auto& loop = asyncio::get_running_loop();
  loop.call_later(1ms, [f]() mutable { f.set_result(9); });
  int v = co_await f;
  EXPECT_THROW(f.set_result(1), asyncio::InvalidStateError);
  asyncio::Future<void> cancelled;
  cancelled.cancel("why");
  EXPECT_THROW(co_await cancelled, asyncio::CancelledError);
  asyncio::Future<void> pending;
  EXPECT_THROW(pending.result(), asyncio::InvalidStateError);
  pending.set_exception(std::make_exception_ptr(concur::TypeError("t")));
  EXPECT_NE(pending.exception(), nullptr);
  co_return v;
}

TEST(Loop, FuturesForCallbackStyleCode) {
  EXPECT_EQ(asyncio::run(future_user()), 9);
}

}  // namespace

namespace {

asyncio::Task<void> leave_a_pool_call(concur::futures::ThreadPoolExecutor* pool,
                                      concur::threading::Event* go) {
  auto pending = asyncio::run_in_executor(*pool, [go] { go->wait(); });
  co_await asyncio::sleep(0s);
}

TEST(Loop, APoolCallFinishingAfterItsLoopIsGoneIsDropped) {
  concur::futures::ThreadPoolExecutor pool(1);
  concur::threading::Event go;
  asyncio::run(leave_a_pool_call(&pool, &go));  // the loop is destroyed here
  go.set();
  pool.shutdown(true);  // the call ends and posts to a closed inbox
}

asyncio::Task<std::size_t> wait_negative() {
  std::vector<asyncio::Task<void>> tasks{sleeper()};
  auto r = co_await asyncio::wait(
      tasks, {.timeout = -std::chrono::steady_clock::duration(1)});
  tasks[0].cancel();
  co_return r.pending.size();
}

TEST(Loop, WaitWithANegativeTimeoutReturnsAtOnce) {
  EXPECT_EQ(asyncio::run(wait_negative()), 1u);
}

}  // namespace
