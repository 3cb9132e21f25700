// concur/annotations.hpp — clang's thread-safety analysis for code that
// uses concur's locks. Python has nothing like it.
//
// Every concur lock is a capability, so clang with -Wthread-safety checks
// that data marked CONCUR_GUARDED_BY(lock) is touched only with that lock
// held, at compile time:
//
//   concur::threading::Lock mu;
//   int balance CONCUR_GUARDED_BY(mu) = 0;
//   void deposit(int n) {
//     concur::ScopedLock hold(mu);
//     balance += n;              // fine
//   }
//   void oops(int n) { balance += n; }  // error with -Werror=thread-safety
//
// The macros expand to nothing on compilers without the analysis (g++).
// libstdc++'s guards (std::scoped_lock, std::unique_lock) carry no
// annotations, so checked code takes locks through ScopedLock below, or
// shares its data through concur::Synchronized (synchronized.hpp).
// See clang's ThreadSafetyAnalysis documentation for each attribute.
#pragma once

#include "concur/detail/call_site.hpp"

#if defined(__clang__)
#define CONCUR_TSA(x) __attribute__((x))
#else
#define CONCUR_TSA(x)
#endif

#define CONCUR_CAPABILITY(x) CONCUR_TSA(capability(x))
#define CONCUR_SCOPED_CAPABILITY CONCUR_TSA(scoped_lockable)
#define CONCUR_GUARDED_BY(x) CONCUR_TSA(guarded_by(x))
#define CONCUR_PT_GUARDED_BY(x) CONCUR_TSA(pt_guarded_by(x))
#define CONCUR_ACQUIRED_BEFORE(...) CONCUR_TSA(acquired_before(__VA_ARGS__))
#define CONCUR_ACQUIRED_AFTER(...) CONCUR_TSA(acquired_after(__VA_ARGS__))
#define CONCUR_REQUIRES_SHARED(...) \
  CONCUR_TSA(requires_shared_capability(__VA_ARGS__))
#define CONCUR_ACQUIRE_SHARED(...) \
  CONCUR_TSA(acquire_shared_capability(__VA_ARGS__))
#define CONCUR_RELEASE_SHARED(...) \
  CONCUR_TSA(release_shared_capability(__VA_ARGS__))
#define CONCUR_RETURN_CAPABILITY(x) CONCUR_TSA(lock_returned(x))
#define CONCUR_REQUIRES(...) CONCUR_TSA(requires_capability(__VA_ARGS__))
#define CONCUR_ACQUIRE(...) CONCUR_TSA(acquire_capability(__VA_ARGS__))
#define CONCUR_RELEASE(...) CONCUR_TSA(release_capability(__VA_ARGS__))
#define CONCUR_TRY_ACQUIRE(...) CONCUR_TSA(try_acquire_capability(__VA_ARGS__))
#define CONCUR_EXCLUDES(...) CONCUR_TSA(locks_excluded(__VA_ARGS__))
#define CONCUR_NO_THREAD_SAFETY_ANALYSIS CONCUR_TSA(no_thread_safety_analysis)

namespace concur {

// std::scoped_lock for code that clang's thread-safety analysis checks:
// libstdc++'s guards carry no annotations, so the analysis cannot see them
// take a lock. Works with any Lockable; one lock, held for the scope.
template <class Lockable>
class CONCUR_SCOPED_CAPABILITY ScopedLock {
 public:
  // `where` names the caller to the deadlock detector (deadlock.hpp).
  explicit ScopedLock(Lockable& lock, concur::detail::CallSite where =
                                          concur::detail::CallSite::current())
      CONCUR_ACQUIRE(lock)
      : lock_(lock) {
    if constexpr (requires { lock.lock(where); }) {
      lock_.lock(where);
    } else {
      lock_.lock();
    }
  }
  ~ScopedLock() CONCUR_RELEASE() { lock_.unlock(); }
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;

 private:
  Lockable& lock_;
};

}  // namespace concur
