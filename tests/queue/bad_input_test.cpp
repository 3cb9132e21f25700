// Bad timeouts to every queue, as CPython's test_queue tries them: NaN
// raises ValueError without waiting (Python: "Invalid value NaN"), and the
// extremes of every duration type neither overflow nor hang.

#include <chrono>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "common/bad_input.hpp"
#include "concur/queue.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::queue::Empty;
using concur::queue::LifoQueue;
using concur::queue::PriorityQueue;
using concur::queue::Queue;
using concur::queue::SimpleQueue;
using concur_test::ExpectNaNRejected;
using concur_test::kInf;
using concur_test::kNaN;

template <class Q>
class QueueBadInput : public testing::Test {};
using Queues = testing::Types<Queue<int>, Queue<std::string>, LifoQueue<int>,
                              PriorityQueue<int>, SimpleQueue<int>>;
TYPED_TEST_SUITE(QueueBadInput, Queues);

TYPED_TEST(QueueBadInput, NaNTimeoutsRaiseValueError) {
  TypeParam q;
  using T = std::decay_t<decltype(q.get_nowait())>;
  ExpectNaNRejected([&] { q.get(kNaN); }, "get");
  ExpectNaNRejected([&] { static_cast<void>(q.try_get(kNaN)); }, "try_get");
  ExpectNaNRejected([&] { q.put(T{}, kNaN); }, "put");
  EXPECT_EQ(q.qsize(), 0u);  // the rejected put stored nothing
}

TYPED_TEST(QueueBadInput, ExtremeTimeoutsDoNotOverflow) {
  TypeParam q;
  using T = std::decay_t<decltype(q.get_nowait())>;
  q.put(T{}, std::chrono::hours::max());
  q.put(T{}, kInf);
  EXPECT_EQ(q.get(std::chrono::nanoseconds::max()), T{});
  EXPECT_EQ(q.get(kInf), T{});
  EXPECT_THROW(q.get(0s), Empty);
  EXPECT_THROW(q.get(std::chrono::hours::min()), ValueError);
  EXPECT_THROW(q.get(-kInf), ValueError);
  // On an empty queue a huge timeout sleeps (an overflowed deadline would
  // give up at once) until an item comes.
  for (auto wait :
       {std::chrono::duration<double>(kInf),
        std::chrono::duration<double>(std::numeric_limits<double>::max())}) {
    std::optional<T> got;
    auto getter = concur_test::StartBlocked([&] { got = q.get(wait); });
    q.put(T{});
    getter.join();
    EXPECT_EQ(got, T{});
  }
  std::optional<T> got;
  auto getter = concur_test::StartBlocked(
      [&] { got = q.get(std::chrono::hours::max()); });
  q.put(T{});
  getter.join();
  EXPECT_EQ(got, T{});
}

}  // namespace
