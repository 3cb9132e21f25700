// multiprocessing's Value, Array, RawValue and RawArray, after CPython's
// _test_multiprocessing.py (_TestValue, _TestArray): values written in
// children are seen by the parent, the lock serializes processes, the
// atomic helpers count exactly without it.
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <numeric>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "concur/multiprocessing.hpp"
#include "concur/sys.hpp"
#include "concur/threading.hpp"
#include "multiprocessing/child.hpp"

namespace {

namespace mp = concur::multiprocessing;
using concur_test::ExpectInChild;
using concur_test::HasUnreapedChildren;

// Runs body(process, thread) in `threads` threads of each of `processes`
// children; every child must exit 0.
void InProcessesAndThreads(int processes, int threads,
                           const std::function<void(int, int)>& body) {
  std::vector<mp::Process> children;
  for (int p = 0; p < processes; ++p) {
    children.emplace_back([p, threads, &body] {
      std::vector<concur::threading::Thread> workers;
      for (int t = 0; t < threads; ++t) workers.emplace_back(body, p, t);
      for (auto& w : workers) w.start();
      for (auto& w : workers) w.join();
    });
  }
  for (auto& c : children) c.start();
  for (auto& c : children) {
    c.join();
    EXPECT_EQ(c.exitcode(), 0);
  }
}

enum class Color : std::uint8_t { kRed, kGreen };
struct Point {
  double x;
  double y;
  int tag;
};
struct WithDefaults {
  int a = 7;
  char b = 'z';
};

TEST(Value, InitialValuesAndDefaults) {
  EXPECT_EQ(mp::Value<int>().value(), 0);
  EXPECT_EQ(mp::Value<int>(-5).value(), -5);
  EXPECT_EQ(mp::Value<double>(1.25).value(), 1.25);
  EXPECT_EQ(mp::Value<char>('x').value(), 'x');
  EXPECT_EQ(mp::Value<bool>(true).value(), true);
  EXPECT_EQ(mp::Value<Color>(Color::kGreen).value(), Color::kGreen);
  const Point p = mp::Value<Point>(Point{1.5, -2, 3}).value();
  EXPECT_EQ(p.x, 1.5);
  EXPECT_EQ(p.tag, 3);
  EXPECT_EQ(mp::Value<WithDefaults>().value().a, 7);
  EXPECT_EQ(mp::RawValue<long>(9).value(), 9);
}

TEST(Value, ChildWritesParentReads) {
  mp::Value<int> v(1);
  mp::Value<Point> point;
  mp::RawValue<double> raw(0.5);
  mp::Process p([&] {
    v.set_value(v.value() * 10);
    point.set_value({3, 4, 5});
    raw.set_value(raw.value() * 4);
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(v.value(), 10);
  EXPECT_EQ(point.value().tag, 5);
  EXPECT_EQ(raw.value(), 2.0);
  // A copy of the handle is the same value.
  mp::Value<int> copy = v;
  copy.set_value(11);
  EXPECT_EQ(v.value(), 11);
  EXPECT_TRUE(copy == v);
  EXPECT_TRUE(v.get_obj() == v.get_obj());
  v.get_obj().get() = 12;
  EXPECT_EQ(v.value(), 12);
}

TEST(Value, GetLockIsAnRLockByDefault) {
  mp::Value<int> v(0);
  mp::RLock& lock = v.get_lock();
  std::scoped_lock guard(lock);
  // value() takes the RLock again inside: no deadlock.
  v.set_value(v.value() + 1);
  EXPECT_EQ(lock.recursion_count(), 1u);
  EXPECT_EQ(v.value(), 1);
  // Held here, so a child cannot take it.
  ExpectInChild([v]() { return !v.get_lock().acquire(false); });
}

TEST(Value, SharesAGivenLock) {
  mp::Lock lock;
  mp::Value<int, mp::Lock> a(1, lock);
  mp::Value<int, mp::Lock> b(2, lock);
  EXPECT_TRUE(a.get_lock() == b.get_lock());
  EXPECT_TRUE(a.get_lock() == lock);
  mp::Value<int, mp::Lock> own(3);
  EXPECT_FALSE(own.get_lock() == lock);
  lock.acquire();
  EXPECT_TRUE(own.get_lock().acquire(false));
  own.get_lock().release();
  lock.release();
  EXPECT_EQ(a.value() + b.value() + own.value(), 6);
}

TEST(Value, ProcessesAndThreadsCountUnderTheLock) {
  mp::Value<std::int64_t> counter(0);
  constexpr int kEach = 10000;
  InProcessesAndThreads(4, 2, [&](int, int) {
    for (int i = 0; i < kEach; ++i) {
      std::scoped_lock guard(counter.get_lock());
      counter.set_value(counter.value() + 1);
    }
  });
  EXPECT_EQ(counter.value(), 4 * 2 * kEach);
}

TEST(Value, AtomicHelpersCountWithoutTheLock) {
  mp::Value<std::int64_t> counter(0);
  mp::RawValue<std::uint32_t> raw(0);
  constexpr int kEach = 10000;
  InProcessesAndThreads(4, 2, [&](int, int) {
    for (int i = 0; i < kEach; ++i) {
      counter.fetch_add(2);
      counter.fetch_sub(1);
      raw.atomic().fetch_add(1, std::memory_order_relaxed);
    }
  });
  EXPECT_EQ(counter.load(), 4 * 2 * kEach);
  EXPECT_EQ(raw.value(), 4u * 2 * kEach);
  EXPECT_EQ(counter.exchange(5), 4 * 2 * kEach);
  std::int64_t expected = 4;
  EXPECT_FALSE(counter.compare_exchange(expected, 6));
  EXPECT_EQ(expected, 5);
  EXPECT_TRUE(counter.compare_exchange(expected, 6));
  counter.store(7);
  EXPECT_EQ(counter.value(), 7);
  mp::Value<double> d(0.5);
  d.fetch_add(1.0);
  EXPECT_EQ(d.load(), 1.5);
}

TEST(Array, SizesAndInitialValues) {
  mp::Array<int> zeros(10);
  EXPECT_EQ(zeros.size(), 10u);
  EXPECT_EQ(std::accumulate(zeros.begin(), zeros.end(), 0), 0);
  mp::Array<int> values{1, 2, 3};
  EXPECT_EQ(values.size(), 3u);
  EXPECT_EQ(values[2], 3);
  const std::vector<double> from = {0.5, 1.5};
  mp::Array<double> copied{std::span<const double>(from)};
  EXPECT_EQ(copied[1], 1.5);
  mp::Array<int> empty(0);  // allowed, as in Python
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  mp::RawArray<WithDefaults> defaults(4);
  EXPECT_EQ(defaults[3].a, 7);
  mp::RawArray<std::array<char, 3>> arrays(2);
  EXPECT_EQ(arrays[1][2], 0);
}

TEST(Array, TooLargeIsAnError) {
  constexpr std::size_t kHuge = std::numeric_limits<std::size_t>::max();
  EXPECT_THROW(static_cast<void>(mp::Array<std::int64_t>(kHuge)),
               concur::ValueError);
  EXPECT_THROW(static_cast<void>(mp::RawArray<int>(kHuge / 2)),
               concur::ValueError);
}

TEST(Array, ChildWritesParentReads) {
  mp::Array<int> arr(100);
  mp::RawArray<Point> points(3);
  mp::Process p([&] {
    std::scoped_lock guard(arr.get_lock());
    for (std::size_t i = 0; i < arr.size(); ++i) arr[i] = static_cast<int>(i);
    std::span<Point> s = points;
    s[1] = {1, 2, 3};
  });
  p.start();
  p.join();
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(std::accumulate(arr.begin(), arr.end(), 0), 99 * 100 / 2);
  EXPECT_EQ(points[1].tag, 3);
  EXPECT_EQ(arr.get_obj().data(), arr.data());
  EXPECT_EQ(arr.span().size(), 100u);
}

TEST(Array, ProcessesAndThreadsFillUnderTheLockAndAtomically) {
  constexpr int kProcesses = 4;
  constexpr int kThreads = 2;
  constexpr int kEach = 2000;
  mp::Array<std::int64_t> sums(2);
  mp::Array<int> slots(kProcesses * kThreads);
  InProcessesAndThreads(kProcesses, kThreads, [&](int p, int t) {
    for (int i = 0; i < kEach; ++i) {
      {
        std::scoped_lock guard(sums.get_lock());
        sums[0] += 1;
      }
      sums.atomic(1).fetch_add(1);
    }
    slots[static_cast<std::size_t>(p * kThreads + t)] = p * kThreads + t + 1;
  });
  EXPECT_EQ(sums[0], kProcesses * kThreads * kEach);
  EXPECT_EQ(sums[1], kProcesses * kThreads * kEach);
  for (int i = 0; i < kProcesses * kThreads; ++i) {
    EXPECT_EQ(slots[static_cast<std::size_t>(i)], i + 1);
  }
}

TEST(SharedCTypes, NoZombiesLeft) { EXPECT_FALSE(HasUnreapedChildren()); }

}  // namespace
