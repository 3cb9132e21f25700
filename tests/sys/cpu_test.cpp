// The CPU counts (<concur/os.hpp>) and the spin helpers built on them.

#include <sched.h>

#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "concur/detail/sys/spin.hpp"
#include "concur/futures.hpp"
#include "concur/os.hpp"

namespace {

TEST(CpuCount, CountsAreAtLeastOneAndAgree) {
  EXPECT_GE(concur::os::cpu_count(), 1u);
  EXPECT_GE(concur::os::process_cpu_count(), 1u);
  EXPECT_LE(concur::os::process_cpu_count(), concur::os::cpu_count());
}

TEST(CpuCount, ProcessCountFollowsTheAffinitySet) {
  std::thread pinned([] {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
    EXPECT_EQ(concur::os::process_cpu_count(), 1u);
  });
  pinned.join();
}

TEST(CpuCount, ThePoolsDefaultUsesTheProcessCount) {
  concur::futures::ThreadPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(),
            std::min<std::size_t>(32, concur::os::process_cpu_count() + 4));
}

TEST(Spin, SpinUntilStopsAtTheFirstTrue) {
  int calls = 0;
  EXPECT_TRUE(concur::sys::spin_until([&] { return ++calls == 3; }, 10));
  EXPECT_EQ(calls, 3);
  calls = 0;
  EXPECT_FALSE(concur::sys::spin_until([&] { return ++calls < 0; }, 10));
  EXPECT_EQ(calls, 11);  // ten spins and a last look
}

TEST(Spin, SpinTakeReturnsTheFirstValue) {
  int calls = 0;
  auto got = concur::sys::spin_take(
      [&]() -> std::optional<int> {
        return ++calls == 4 ? std::optional<int>(calls) : std::nullopt;
      },
      10);
  EXPECT_EQ(got, 4);
  EXPECT_FALSE(concur::sys::spin_take([] { return std::optional<int>(); }, 3));
}

TEST(Spin, NoSpinningWhereTheProcessHasOneCpu) {
  EXPECT_EQ(concur::sys::spin_limit(),
            concur::os::process_cpu_count() > 1 ? concur::sys::kSpinLimit : 0);
}

}  // namespace
