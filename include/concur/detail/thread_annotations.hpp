// Clang thread-safety analysis attributes, spelled as macros so that g++
// (which lacks them) sees nothing. See clang's ThreadSafetyAnalysis docs.
#pragma once

#if defined(__clang__)
#define CONCUR_TSA(x) __attribute__((x))
#else
#define CONCUR_TSA(x)
#endif

#define CONCUR_CAPABILITY(x) CONCUR_TSA(capability(x))
#define CONCUR_SCOPED_CAPABILITY CONCUR_TSA(scoped_lockable)
#define CONCUR_GUARDED_BY(x) CONCUR_TSA(guarded_by(x))
#define CONCUR_REQUIRES(...) CONCUR_TSA(requires_capability(__VA_ARGS__))
#define CONCUR_ACQUIRE(...) CONCUR_TSA(acquire_capability(__VA_ARGS__))
#define CONCUR_RELEASE(...) CONCUR_TSA(release_capability(__VA_ARGS__))
#define CONCUR_TRY_ACQUIRE(...) CONCUR_TSA(try_acquire_capability(__VA_ARGS__))
#define CONCUR_EXCLUDES(...) CONCUR_TSA(locks_excluded(__VA_ARGS__))
#define CONCUR_NO_THREAD_SAFETY_ANALYSIS CONCUR_TSA(no_thread_safety_analysis)

namespace concur::detail {

// std::scoped_lock for code that clang's thread-safety analysis checks:
// libstdc++'s guards carry no annotations, so the analysis cannot see them
// take a lock. Works with any Lockable.
template <class Lockable>
class CONCUR_SCOPED_CAPABILITY ScopedLock {
 public:
  explicit ScopedLock(Lockable& lock) CONCUR_ACQUIRE(lock) : lock_(lock) {
    lock_.lock();
  }
  ~ScopedLock() CONCUR_RELEASE() { lock_.unlock(); }
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;

 private:
  Lockable& lock_;
};

}  // namespace concur::detail
