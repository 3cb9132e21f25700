// The futex wrapper (concur/detail/sys/futex.hpp): timeouts, a word that
// already differs, wake-ups, and words in memory shared between processes.

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>
#include <thread>

#include <gtest/gtest.h>

#include "common/asleep.hpp"
#include "concur/detail/sys/futex.hpp"

namespace {

using namespace std::chrono_literals;
using concur::sys::Deadline;
using concur::sys::futex_wait;
using concur::sys::futex_wake;
using concur::sys::futex_wake_all;
using concur::sys::FutexScope;

TEST(Futex, WaitTimesOutWhileTheWordHolds) {
  std::atomic<std::uint32_t> word{7};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(futex_wait(word, 7, Deadline::after(20ms)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(Futex, WaitReturnsAtOnceWhenTheWordDiffers) {
  std::atomic<std::uint32_t> word{7};
  EXPECT_TRUE(futex_wait(word, 8, Deadline::never()));
  std::atomic<std::uint64_t> wide{(std::uint64_t{5} << 32) | 7};
  // Only the low half is compared.
  EXPECT_FALSE(futex_wait(wide, 7, Deadline::after(1ms)));
  EXPECT_TRUE(futex_wait(wide, 5, Deadline::never()));
}

TEST(Futex, WaitOnAnExpiredDeadlineReturnsFalse) {
  std::atomic<std::uint32_t> word{0};
  EXPECT_FALSE(futex_wait(word, 0, Deadline::after(0s)));
}

TEST(Futex, WakeReleasesASleeper) {
  std::atomic<std::uint32_t> word{0};
  std::atomic<long> tid{0};
  std::thread sleeper([&] {
    tid = concur_test::CurrentTid();
    while (word.load() == 0) futex_wait(word, 0, Deadline::never());
  });
  while (tid == 0) std::this_thread::yield();
  concur_test::AwaitSleeping(tid);
  word.store(1);
  futex_wake(word, 1);
  sleeper.join();
}

TEST(Futex, WakeAllReleasesEverySleeper) {
  std::atomic<std::uint32_t> word{0};
  constexpr int kSleepers = 8;
  std::atomic<int> done{0};
  std::vector<std::thread> sleepers;
  for (int i = 0; i < kSleepers; ++i) {
    sleepers.emplace_back([&] {
      while (word.load() == 0) futex_wait(word, 0, Deadline::never());
      ++done;
    });
  }
  word.store(1);
  futex_wake_all(word);
  for (auto& t : sleepers) t.join();
  EXPECT_EQ(done, kSleepers);
}

// A child process sleeps on a word in a shared mapping until the parent
// changes it and wakes it: only a shared futex keys the two by the page.
TEST(Futex, SharedWordWakesAnotherProcess) {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  auto* word = ::new (page) std::atomic<std::uint32_t>(0);
  auto* asleep = ::new (static_cast<char*>(page) + 64) std::atomic<long>(0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    asleep->store(concur_test::CurrentTid());
    const Deadline deadline = Deadline::after(20s);
    while (word->load() == 0) {
      // A private futex would never be woken: the wait would time out.
      if (!futex_wait(*word, 0, deadline, FutexScope::kShared)) ::_exit(2);
    }
    ::_exit(word->load() == 42 ? 0 : 1);
  }
  while (asleep->load() == 0) std::this_thread::yield();
  // The child is a process of its own: read its state through /proc/PID.
  while (!concur_test::IsProcessSleeping(child)) std::this_thread::yield();
  word->store(42);
  futex_wake(*word, 1, FutexScope::kShared);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ::munmap(page, 4096);
}

// A failing futex call is a bug, never a wake-up: a misaligned word makes
// the kernel refuse it (EINVAL), and the process says so and aborts.
TEST(FutexDeathTest, AFailedWaitAbortsInsteadOfWaking) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  alignas(8) unsigned char bytes[16] = {};
  auto* misaligned = reinterpret_cast<std::uint32_t*>(bytes + 1);
  EXPECT_DEATH(concur::sys::futex_wait_at(misaligned, 0, Deadline::never(),
                                          FutexScope::kPrivate),
               "futex wait failed");
}

}  // namespace
