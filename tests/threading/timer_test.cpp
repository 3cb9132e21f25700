// Timer: Python's threading.Timer, after CPython's TimerTests in
// Lib/test/test_threading.py.

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "concur/threading.hpp"

namespace {

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Thread;
using concur::threading::Timer;
using Clock = std::chrono::steady_clock;

TEST(Timer, FiresAfterTheInterval) {
  Clock::time_point fired_at;
  Timer timer(40ms, [&] { fired_at = Clock::now(); });
  auto started_at = Clock::now();
  timer.start();
  timer.join();
  EXPECT_GE(fired_at - started_at, 40ms);
}

TEST(Timer, IntervalCountsFromStart) {
  // As in Python, the interval starts with start(), not at construction.
  Clock::time_point fired_at;
  Timer timer(30ms, [&] { fired_at = Clock::now(); });
  std::this_thread::sleep_for(40ms);
  auto started_at = Clock::now();
  timer.start();
  timer.join();
  EXPECT_GE(fired_at - started_at, 30ms);
}

TEST(Timer, PassesArguments) {
  int sum = 0;
  std::string text;
  Timer timer(
      1ms,
      [&](int a, const std::string& s) {
        sum = a;
        text = s;
      },
      42, std::string("tick"));
  timer.start();
  timer.join();
  EXPECT_EQ(sum, 42);
  EXPECT_EQ(text, "tick");
}

TEST(Timer, ZeroIntervalFires) {
  std::atomic<int> calls{0};
  Timer timer(0ms, [&] { ++calls; });
  timer.start();
  timer.join();
  EXPECT_EQ(calls, 1);
}

TEST(Timer, CancelBeforeItFiresPreventsTheCall) {
  std::atomic<int> calls{0};
  Timer timer(1h, [&] { ++calls; });
  // A daemon, so that a cancel that fails cannot hold up the exit.
  timer.set_daemon(true);
  timer.start();
  timer.cancel();
  // The thread ends soon after the cancel instead of waiting an hour.
  EXPECT_TRUE(timer.join(30s));
  EXPECT_EQ(calls, 0);
  EXPECT_FALSE(timer.is_alive());
}

TEST(Timer, CancelFromAnotherThread) {
  std::atomic<int> calls{0};
  Timer timer(1h, [&] { ++calls; });
  timer.set_daemon(true);
  timer.start();
  std::thread([&] { timer.cancel(); }).join();
  EXPECT_TRUE(timer.join(30s));
  EXPECT_EQ(calls, 0);
}

TEST(Timer, CancelBeforeStartPreventsTheCall) {
  std::atomic<int> calls{0};
  Timer timer(1h, [&] { ++calls; });
  timer.set_daemon(true);
  timer.cancel();
  timer.start();
  EXPECT_TRUE(timer.join(30s));
  EXPECT_EQ(calls, 0);
}

TEST(Timer, CancelAfterItFiredIsHarmless) {
  std::atomic<int> calls{0};
  Timer timer(1ms, [&] { ++calls; });
  timer.start();
  timer.join();
  EXPECT_NO_THROW(timer.cancel());
  EXPECT_NO_THROW(timer.cancel());
  EXPECT_EQ(calls, 1);
}

TEST(Timer, NegativeIntervalThrowsValueError) {
  EXPECT_THROW(Timer(-1ms, [] {}), concur::ValueError);
  EXPECT_THROW(Timer(std::chrono::duration<double>(-0.5), [] {}),
               concur::ValueError);
}

TEST(Timer, TemporaryTimerStillFires) {
  std::promise<Thread> fired;
  auto fired_future = fired.get_future();
  Timer(5ms, [&] { fired.set_value(current_thread()); }).start();
  // The timer thread outlived its handle; join it through the handle it
  // reported from inside.
  Thread timer_thread = fired_future.get();
  timer_thread.join();
  EXPECT_FALSE(timer_thread.is_alive());
}

TEST(Timer, IsAThread) {
  std::atomic<bool> fired{false};
  Timer timer(1ms, [&] { fired = true; });
  Thread& as_thread = timer;
  EXPECT_FALSE(as_thread.is_alive());
  as_thread.start();
  as_thread.join();
  EXPECT_TRUE(fired);
  EXPECT_THROW(as_thread.start(), concur::RuntimeError);
}

TEST(Timer, ManyTimersEachFireOnce) {
  constexpr int kTimers = 8;
  std::vector<std::atomic<int>> calls(kTimers);
  std::vector<Timer> timers;
  timers.reserve(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    timers.emplace_back(std::chrono::milliseconds(i),
                        [&calls, i] { ++calls[i]; });
  }
  for (auto& t : timers) t.start();
  for (auto& t : timers) t.join();
  for (auto& c : calls) EXPECT_EQ(c, 1);
}

}  // namespace
