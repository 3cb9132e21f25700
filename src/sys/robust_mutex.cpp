#include "concur/detail/sys/robust_mutex.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace concur::sys {

namespace {

// A failure other than the documented outcomes is a corrupt mutex or a
// misuse (unlocking one not held): report it and stop, never guess.
[[noreturn]] void die(const char* what, int rc) {
  std::fprintf(stderr, "concur: robust mutex %s failed: %s\n", what,
               std::strerror(rc));
  std::abort();
}

RobustMutex::Result outcome(const char* what, int rc) {
  switch (rc) {
    case 0:
      return RobustMutex::Result::kAcquired;
    case EOWNERDEAD:
      return RobustMutex::Result::kOwnerDied;
    case ETIMEDOUT:
    case EBUSY:
      return RobustMutex::Result::kTimedOut;
    default:
      die(what, rc);
  }
}

}  // namespace

RobustMutex::RobustMutex() noexcept {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  if (const int rc = pthread_mutex_init(&mutex_, &attr); rc != 0) {
    die("init", rc);
  }
  pthread_mutexattr_destroy(&attr);
}

RobustMutex::Result RobustMutex::lock(const Deadline& deadline) noexcept {
  if (deadline.is_never()) return outcome("lock", pthread_mutex_lock(&mutex_));
#if defined(__SANITIZE_THREAD__)
  // GCC 12's ThreadSanitizer intercepts pthread_mutex_timedlock but not
  // clocklock, and would see the mutex released without being taken; it
  // gets the deadline on the realtime clock instead, which a clock step
  // may stretch or shorten.
  const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
      deadline.remaining());
  timespec when{};
  clock_gettime(CLOCK_REALTIME, &when);
  const long long ns = when.tv_nsec + left.count() % 1'000'000'000;
  when.tv_sec +=
      static_cast<time_t>(left.count() / 1'000'000'000 + ns / 1'000'000'000);
  when.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  return outcome("lock", pthread_mutex_timedlock(&mutex_, &when));
#else
  const timespec when = deadline.absolute_timespec();
  return outcome("lock",
                 pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &when));
#endif
}

RobustMutex::Result RobustMutex::try_lock() noexcept {
  return outcome("trylock", pthread_mutex_trylock(&mutex_));
}

void RobustMutex::mark_consistent() noexcept {
  if (const int rc = pthread_mutex_consistent(&mutex_); rc != 0) {
    die("consistent", rc);
  }
}

void RobustMutex::unlock() noexcept {
  if (const int rc = pthread_mutex_unlock(&mutex_); rc != 0) die("unlock", rc);
}

}  // namespace concur::sys
