// What happens when an item's copy or move throws: put stores nothing, get
// leaves the item where it was, and the queue keeps working. After CPython's
// Lib/test/test_queue.py FailingQueueTest, whose _put and _get raise; here
// the item's own copy and move constructors do.

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur::queue::SimpleQueue;
using concur_test::StartBlocked;

struct Boom : std::runtime_error {
  Boom() : std::runtime_error("You Lose") {}
};

// Whether copies and moves of fragile items fail on this thread. Arming a
// thread rather than counting operations keeps the tests independent of how
// many copies a container makes, and lets a putter fail while the getter
// that releases it succeeds.
thread_local bool t_armed = false;

void Spend() {
  if (t_armed) throw Boom();
}

// Arms the calling thread for its lifetime.
struct Armed {
  Armed() { t_armed = true; }
  ~Armed() { t_armed = false; }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
};

// An item whose copies and moves may throw, as Python's FailingQueue's
// _put and _get do. Its move is not noexcept, so the queues copy it out
// (std::move_if_noexcept) and a failed copy leaves the original intact.
struct Fragile {
  int value = 0;
  bool fragile = false;

  Fragile(int v, bool f = false) : value(v), fragile(f) {}
  Fragile(const Fragile& other) : value(other.value), fragile(other.fragile) {
    if (fragile) Spend();
  }
  Fragile(Fragile&& other) noexcept(false)
      : value(other.value), fragile(other.fragile) {
    if (fragile) Spend();
  }
  Fragile& operator=(const Fragile&) = default;
  Fragile& operator=(Fragile&&) = default;
  friend bool operator<(const Fragile& a, const Fragile& b) {
    return a.value < b.value;
  }
};
static_assert(!std::is_nothrow_move_constructible_v<Fragile>);

// A move-only item whose move may throw before it touches its source.
struct FragileMoveOnly {
  std::unique_ptr<int> value;
  explicit FragileMoveOnly(int v) : value(std::make_unique<int>(v)) {}
  FragileMoveOnly(FragileMoveOnly&& other) noexcept(false) {
    Spend();
    value = std::move(other.value);
  }
  FragileMoveOnly& operator=(FragileMoveOnly&&) = default;
  friend bool operator<(const FragileMoveOnly& a, const FragileMoveOnly& b) {
    return *a.value < *b.value;
  }
};

class ExceptionSafety : public ::testing::Test {
 protected:
  void TearDown() override { t_armed = false; }
};

template <class Q>
class FailingQueueTest : public ExceptionSafety {};
using FragileQueues = ::testing::Types<Queue<Fragile>, LifoQueue<Fragile>,
                                       PriorityQueue<Fragile>>;
TYPED_TEST_SUITE(FailingQueueTest, FragileQueues);

constexpr int kQueueSize = 5;

// Python's failing_queue_test, twice on one queue.
TYPED_TEST(FailingQueueTest, QueueSurvivesFailingPutsAndGets) {
  TypeParam q(kQueueSize);
  const Fragile oops(-1, true);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(q.empty());
    for (int i = 0; i < kQueueSize - 1; ++i) q.put(Fragile(i));
    const std::size_t tasks = q.unfinished_tasks();

    // Failing non-blocking and timed puts store nothing.
    t_armed = true;
    EXPECT_THROW(q.put_nowait(oops), Boom);
    EXPECT_THROW(q.put(oops, 100ms), Boom);
    t_armed = false;
    EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize - 1));
    EXPECT_EQ(q.unfinished_tasks(), tasks);
    q.put(Fragile(100));
    EXPECT_TRUE(q.full());

    // A blocking put that fails after it was released by a get.
    bool failed = false;
    auto putter = StartBlocked([&] {
      Armed armed;
      try {
        q.put(oops);
      } catch (const Boom&) {
        failed = true;
      }
    });
    q.get();
    putter.join();
    EXPECT_TRUE(failed);
    EXPECT_EQ(q.qsize(), static_cast<std::size_t>(kQueueSize - 1));
    q.put(Fragile(100));
    EXPECT_TRUE(q.full());
    q.get();
    EXPECT_FALSE(q.full());
    q.put(Fragile(100));
    EXPECT_TRUE(q.full());
    while (!q.empty()) q.get();

    // A failing get leaves the item queued, for every form of get.
    q.put(Fragile(7, true));
    t_armed = true;
    EXPECT_THROW(q.get(), Boom);
    EXPECT_THROW(q.get_nowait(), Boom);
    EXPECT_THROW(q.get(100ms), Boom);
    EXPECT_THROW(static_cast<void>(q.try_get()), Boom);
    EXPECT_THROW(static_cast<void>(q.try_get(100ms)), Boom);
    EXPECT_EQ(q.qsize(), 1u);
    t_armed = false;
    EXPECT_EQ(q.get().value, 7);
    EXPECT_TRUE(q.empty());

    // A blocking get that fails after it was released by a put.
    failed = false;
    auto getter = StartBlocked([&] {
      Armed armed;
      try {
        q.get();
      } catch (const Boom&) {
        failed = true;
      }
    });
    q.put(Fragile(8, true));
    getter.join();
    EXPECT_TRUE(failed);
    EXPECT_EQ(q.qsize(), 1u);
    EXPECT_EQ(q.get().value, 8);
    while (q.unfinished_tasks() != 0) q.task_done();
  }
}

// A failed get leaves the item in its place: the next get returns it
// before the others, in each class's order.
TYPED_TEST(FailingQueueTest, FailedGetKeepsTheItemsPlace) {
  TypeParam q;
  q.put(Fragile(1, true));
  q.put(Fragile(2, true));
  q.put(Fragile(3, true));
  TypeParam probe;
  probe.put(Fragile(1));
  probe.put(Fragile(2));
  probe.put(Fragile(3));
  t_armed = true;
  EXPECT_THROW(q.get(), Boom);
  t_armed = false;
  EXPECT_EQ(q.get().value, probe.get().value);
  EXPECT_EQ(q.qsize(), 2u);
}

template <class Q>
class MoveOnlyTest : public ExceptionSafety {};
using MoveOnlyQueues =
    ::testing::Types<Queue<FragileMoveOnly>, LifoQueue<FragileMoveOnly>,
                     PriorityQueue<FragileMoveOnly>,
                     SimpleQueue<FragileMoveOnly>>;
TYPED_TEST_SUITE(MoveOnlyTest, MoveOnlyQueues);

// With no copy to fall back on, the move itself must leave the item queued
// when it throws.
TYPED_TEST(MoveOnlyTest, FailedMoveOutLeavesTheItemQueued) {
  TypeParam q;
  q.put(FragileMoveOnly(1));
  t_armed = true;
  EXPECT_THROW(q.get(), Boom);
  EXPECT_THROW(static_cast<void>(q.try_get()), Boom);
  t_armed = false;
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(*q.get().value, 1);
  EXPECT_TRUE(q.empty());
}

// SimpleQueue of an item whose move may throw is the locked queue, with
// the same guarantee.
TEST_F(ExceptionSafety, SimpleQueueOfFragileItemsKeepsThemQueued) {
  SimpleQueue<Fragile> q;
  q.put(Fragile(1, true));
  q.put(Fragile(2, true));
  t_armed = true;
  EXPECT_THROW(q.get(), Boom);
  EXPECT_THROW(q.get_nowait(), Boom);
  EXPECT_THROW(q.put(Fragile(3, true)), Boom);
  t_armed = false;
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get().value, 1);
  EXPECT_EQ(q.get().value, 2);
}

// An item that moves without throwing but whose copy may: the lock-free
// SimpleQueue builds the copy before it claims a slot, so a failed put
// leaves no hole for a get to wait on.
struct CopyMayThrow {
  int value = 0;
  explicit CopyMayThrow(int v) : value(v) {}
  CopyMayThrow(const CopyMayThrow& other) : value(other.value) { Spend(); }
  CopyMayThrow(CopyMayThrow&&) noexcept = default;
  CopyMayThrow& operator=(const CopyMayThrow&) = default;
  CopyMayThrow& operator=(CopyMayThrow&&) noexcept = default;
};

TEST_F(ExceptionSafety, LockFreeSimpleQueueFailedCopyStoresNothing) {
  SimpleQueue<CopyMayThrow> q;
  const CopyMayThrow item(5);
  t_armed = true;
  EXPECT_THROW(q.put(item), Boom);
  EXPECT_THROW(q.put_nowait(item), Boom);
  t_armed = false;
  EXPECT_TRUE(q.empty());
  q.put(item);
  q.put(CopyMayThrow(6));
  EXPECT_EQ(q.get().value, 5);
  EXPECT_EQ(q.get_nowait().value, 6);
  EXPECT_EQ(q.try_get(0s), std::nullopt);
}

}  // namespace
