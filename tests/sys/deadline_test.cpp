// Deadlines (concur/detail/sys/deadline.hpp): every duration and time point
// a user can pass, at its extremes, becomes a valid deadline or a clear
// ValueError; nothing overflows on the way to the kernel.

#include <time.h>

#include <chrono>
#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "concur/detail/sys/deadline.hpp"

namespace {

using namespace std::chrono_literals;
using concur::ValueError;
using concur::sys::checked_timeout;
using concur::sys::Deadline;
using concur::sys::kMaxTimeout;
using Steady = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(CheckedTimeout, RejectsNaNWithPythonsMessage) {
  try {
    checked_timeout(Seconds(kNaN));
    FAIL() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "Invalid value NaN (not a number)");
  }
  EXPECT_THROW(checked_timeout(std::chrono::duration<float>(NAN)), ValueError);
  EXPECT_THROW(
      checked_timeout(std::chrono::duration<long double, std::milli>(NAN)),
      ValueError);
}

TEST(CheckedTimeout, RejectsNegatives) {
  EXPECT_THROW(checked_timeout(-1ns), ValueError);
  EXPECT_THROW(checked_timeout(Seconds(-kInf)), ValueError);
  EXPECT_THROW(checked_timeout(std::chrono::nanoseconds::min()), ValueError);
  EXPECT_THROW(checked_timeout(std::chrono::hours::min()), ValueError);
  EXPECT_THROW(checked_timeout(Seconds(std::numeric_limits<double>::lowest())),
               ValueError);
}

TEST(CheckedTimeout, SaturatesHugeOnes) {
  const auto cap = std::chrono::duration_cast<Steady::duration>(kMaxTimeout);
  EXPECT_EQ(checked_timeout(Seconds(kInf)), cap);
  EXPECT_EQ(checked_timeout(std::chrono::nanoseconds::max()), cap);
  EXPECT_EQ(checked_timeout(std::chrono::hours::max()), cap);
  EXPECT_EQ(checked_timeout(std::chrono::years::max()), cap);
  EXPECT_EQ(checked_timeout(Seconds(std::numeric_limits<double>::max())), cap);
  EXPECT_EQ(checked_timeout(std::chrono::duration<unsigned long long>(
                std::numeric_limits<unsigned long long>::max())),
            cap);
}

TEST(CheckedTimeout, OddPeriodsNearTheCapDoNotOverflow) {
  // 150 years in thirds of a second and in 1/1024 s: below the cap, but
  // count * 10^9 overflows a 64-bit integer on the way to nanoseconds.
  using Thirds = std::chrono::duration<long long, std::ratio<1, 3>>;
  using Kibiths = std::chrono::duration<long long, std::ratio<1, 1024>>;
  const auto years150 = std::chrono::hours(24 * 365 * 150);
  const auto expected = std::chrono::duration_cast<Steady::duration>(years150);
  const auto thirds = checked_timeout(Thirds(3LL * 3600 * 24 * 365 * 150));
  EXPECT_GE(thirds, expected);
  EXPECT_LE(thirds, expected + 1ns);
  const auto kibiths = checked_timeout(Kibiths(1024LL * 3600 * 24 * 365 * 150));
  EXPECT_GE(kibiths, expected);
  EXPECT_LE(kibiths, expected + 1ns);
  EXPECT_EQ(checked_timeout(Thirds(1)), 333'333'334ns);  // rounded up
}

TEST(CheckedTimeout, RoundsUpAndKeepsZero) {
  EXPECT_EQ(checked_timeout(0s), Steady::duration::zero());
  EXPECT_EQ(checked_timeout(Seconds(-0.0)), Steady::duration::zero());
  EXPECT_EQ(checked_timeout(Seconds(1.5e-9)), 2ns);
  EXPECT_EQ(checked_timeout(std::chrono::duration<double, std::micro>(
                std::numeric_limits<double>::denorm_min())),
            1ns);
  EXPECT_EQ(checked_timeout(1500ms), 1500ms);
}

TEST(Deadline, AfterTheExtremesIsFiniteAndFitsATimespec) {
  for (auto timeout :
       {Steady::duration::max(), Steady::duration::zero(),
        std::chrono::duration_cast<Steady::duration>(kMaxTimeout)}) {
    const Deadline d = Deadline::after(timeout);
    EXPECT_FALSE(d.is_never());
    const timespec ts = d.absolute_timespec();
    EXPECT_GE(ts.tv_sec, 0);
    EXPECT_GE(ts.tv_nsec, 0);
    EXPECT_LT(ts.tv_nsec, 1'000'000'000);
  }
}

template <class Clock>
void CheckTimePointExtremes() {
  using Point = typename Clock::time_point;
  EXPECT_TRUE(Deadline::at(Point::min()).expired());
  EXPECT_FALSE(Deadline::at(Point::max()).expired());
  EXPECT_GE(Deadline::at(Point::max()).remaining(), kMaxTimeout - 1h);
  EXPECT_TRUE(Deadline::at(Clock::now() - 1h).expired());
  const auto soon = Deadline::at(Clock::now() + 1h).remaining();
  EXPECT_GT(soon, 59min);
  EXPECT_LE(soon, 1h);
}

TEST(Deadline, AtTheExtremesOfEveryClock) {
  CheckTimePointExtremes<std::chrono::steady_clock>();
  CheckTimePointExtremes<std::chrono::system_clock>();
  CheckTimePointExtremes<std::chrono::high_resolution_clock>();
}

TEST(Deadline, AtTheExtremesOfCoarseAndFloatingPoints) {
  using Hours = std::chrono::time_point<Steady, std::chrono::hours>;
  EXPECT_TRUE(Deadline::at(Hours::min()).expired());
  EXPECT_FALSE(Deadline::at(Hours::max()).expired());
  using Float = std::chrono::time_point<Steady, Seconds>;
  EXPECT_TRUE(Deadline::at(Float(Seconds(-kInf))).expired());
  EXPECT_FALSE(Deadline::at(Float(Seconds(kInf))).expired());
  EXPECT_FALSE(Deadline::at(Float::max()).expired());
  EXPECT_THROW(Deadline::at(Float(Seconds(kNaN))), ValueError);
}

// A clock whose epoch lies far in the future: now() is negative, so a naive
// `when - now()` overflows for a far time point.
struct FarEpochClock {
  using rep = long long;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<FarEpochClock>;
  static time_point now() noexcept {
    return time_point(duration::min() / 2 + Steady::now().time_since_epoch());
  }
};

TEST(Deadline, AtOnAClockWithANegativeNow) {
  EXPECT_FALSE(Deadline::at(FarEpochClock::time_point::max()).expired());
  EXPECT_TRUE(Deadline::at(FarEpochClock::time_point::min()).expired());
  EXPECT_GT(Deadline::at(FarEpochClock::now() + 1h).remaining(), 59min);
}

TEST(Deadline, PollTimeoutRoundsUpAndSaturates) {
  EXPECT_EQ(Deadline::never().poll_timeout_ms(), -1);
  EXPECT_EQ(Deadline::after(0s).poll_timeout_ms(), 0);
  const int small = Deadline::after(1500us).poll_timeout_ms();
  EXPECT_GE(small, 1);
  EXPECT_LE(small, 2);
  EXPECT_EQ(Deadline::after(std::chrono::hours::max()).poll_timeout_ms(),
            std::numeric_limits<int>::max());
}

}  // namespace

TEST(Deadline, LaterThanOrdersNeverLast) {
  const auto soon = concur::sys::Deadline::after(std::chrono::seconds(1));
  const auto later = concur::sys::Deadline::after(std::chrono::hours(1));
  const auto never = concur::sys::Deadline::never();
  EXPECT_TRUE(later.later_than(soon));
  EXPECT_FALSE(soon.later_than(later));
  EXPECT_FALSE(soon.later_than(soon));
  EXPECT_TRUE(never.later_than(later));
  EXPECT_FALSE(later.later_than(never));
  EXPECT_FALSE(never.later_than(never));
}
