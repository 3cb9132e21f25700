// Cooperative stopping of running tasks, beyond Python: a callable whose
// first parameter is a std::stop_token receives one, and
// Future::request_stop() asks it to stop.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "concur/futures.hpp"
#include "concur/threading.hpp"

namespace {

using concur::futures::CancelledError;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;
using concur::threading::Event;

TEST(StopToken, RunningTaskStopsWhenAsked) {
  ThreadPoolExecutor pool(1);
  Event started;
  auto f = pool.submit([&](std::stop_token token) {
    // Woken by the stop request itself, not by polling.
    Event stop;
    std::stop_callback on_stop(token, [&] { stop.set(); });
    started.set();
    stop.wait();
    return token.stop_requested();
  });
  started.wait();
  EXPECT_TRUE(f.running());
  EXPECT_TRUE(f.request_stop());
  EXPECT_TRUE(f.result());
  EXPECT_FALSE(f.cancelled());
}

TEST(StopToken, PollingTaskStops) {
  ThreadPoolExecutor pool(1);
  Event started;
  auto f = pool.submit([&](std::stop_token token) {
    long spins = 0;
    started.set();
    while (!token.stop_requested()) {
      ++spins;
      std::this_thread::yield();
    }
    return spins;
  });
  started.wait();
  EXPECT_TRUE(f.request_stop());
  EXPECT_GE(f.result(), 0);
}

TEST(StopToken, SecondRequestReturnsFalse) {
  ThreadPoolExecutor pool(1);
  Event started;
  auto f = pool.submit([&](std::stop_token token) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    started.set();
    // C++20's stoppable wait: returns when the stop is requested.
    cv.wait(lock, token, [] { return false; });
  });
  started.wait();
  Future<void> copy = f;
  EXPECT_TRUE(copy.request_stop());  // through any handle
  EXPECT_FALSE(f.request_stop());
  EXPECT_FALSE(copy.request_stop());
  f.result();
}

TEST(StopToken, ArgumentsFollowTheToken) {
  ThreadPoolExecutor pool(1);
  auto f = pool.submit(
      [](std::stop_token token, int n, const std::string& s) {
        return std::to_string(n) + s + (token.stop_possible() ? "+" : "-");
      },
      3, std::string("x"));
  EXPECT_EQ(f.result(), "3x+");
}

TEST(StopToken, StopRequestedBeforeTheTaskStarts) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();  // the worker is busy: the next task stays queued
  auto f =
      pool.submit([](std::stop_token token) { return token.stop_requested(); });
  EXPECT_FALSE(f.running());
  EXPECT_TRUE(f.request_stop());
  release.set();
  EXPECT_TRUE(f.result());  // it starts with the stop already requested
}

TEST(StopToken, TaskWithoutTokenCannotBeStopped) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  auto f = pool.submit([&] {
    started.set();
    release.wait();
    return 1;
  });
  started.wait();
  EXPECT_FALSE(f.request_stop());  // running, but it takes no token
  release.set();
  EXPECT_EQ(f.result(), 1);
  EXPECT_FALSE(f.request_stop());  // and done

  Future<int> plain;  // not a task at all
  EXPECT_FALSE(plain.request_stop());
  plain.set_result(1);
  EXPECT_FALSE(plain.request_stop());
}

TEST(StopToken, StoppableTaskCanStillBeCancelled) {
  ThreadPoolExecutor pool(1);
  Event started;
  Event release;
  pool.submit([&] {
    started.set();
    release.wait();
  });
  started.wait();
  std::atomic<bool> ran{false};
  auto f = pool.submit([&](std::stop_token) { ran = true; });
  EXPECT_TRUE(f.cancel());
  release.set();
  pool.shutdown(true);
  EXPECT_THROW(f.result(), CancelledError);
  EXPECT_FALSE(ran.load());
}

TEST(StopToken, EachTaskHasItsOwnToken) {
  ThreadPoolExecutor pool(2);
  Event a_started;
  Event b_started;
  auto a = pool.submit([&](std::stop_token token) {
    Event stop;
    std::stop_callback on_stop(token, [&] { stop.set(); });
    a_started.set();
    stop.wait();
    return 1;
  });
  auto b = pool.submit([&](std::stop_token token) {
    Event stop;
    std::stop_callback on_stop(token, [&] { stop.set(); });
    b_started.set();
    stop.wait();
    return 2;
  });
  a_started.wait();
  b_started.wait();
  EXPECT_TRUE(b.request_stop());
  EXPECT_EQ(b.result(), 2);
  EXPECT_FALSE(a.done());  // stopping b left a alone
  EXPECT_TRUE(a.request_stop());
  EXPECT_EQ(a.result(), 1);
}

}  // namespace
