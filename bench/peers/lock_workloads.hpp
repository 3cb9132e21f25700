// The lock workloads, shared by bench/threading_bench.cpp and
// bench/deadlock_bench.cpp (concur) and the peer binary
// bench/peers/absl_bench.cpp, so that every lock does exactly the same
// work. Each workload is a function template over a type with lock() and
// unlock(). Header-only; no library but Google Benchmark.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"

namespace concur_bench::lock_workloads {

// The CPUs this process may use, read at start-up, before any thread here
// is pinned.
inline const cpu_set_t kUsableCpus = [] {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  return set;
}();

inline int usable_cpu_count() {
  return CPU_COUNT(&kUsableCpus) > 0 ? CPU_COUNT(&kUsableCpus) : 1;
}

// Pins the calling thread to the index-th usable CPU, if there is one, and
// gives it back its former CPUs when destroyed.
//
// Each thread of a multi-threaded workload gets a core of its own, as on a
// machine with idle cores. Left to itself, the scheduler sometimes keeps
// two threads on one core for a while: the lock is then never contended
// and a ping-pong wakes a thread on its own core instead of the other one,
// so results swing ten-fold from run to run.
class PinToCpu {
 public:
  explicit PinToCpu(int index) {
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (!CPU_ISSET(cpu, &kUsableCpus) || seen++ != index) continue;
      if (pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) != 0) {
        return;
      }
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pinned_ = pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
      return;
    }
  }
  PinToCpu(const PinToCpu&) = delete;
  PinToCpu& operator=(const PinToCpu&) = delete;
  ~PinToCpu() {
    if (pinned_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }

 private:
  cpu_set_t saved_;
  bool pinned_ = false;
};

// One step of a busy-wait loop.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A lock is only needed in a process that has threads, and glibc skips the
// atomic operations of std::mutex in a process that has never started one
// (its SINGLE_THREAD_P shortcut), which would make std::mutex look 3x
// faster when its benchmark happens to run first. Starting a thread turns
// the shortcut off for good.
inline void leave_single_threaded_mode() {
  std::thread([] {}).join();
}

// lock_uncontended: one acquire+release pair on one thread; the cost every
// critical section pays when nobody else wants the lock.
template <class Mutex>
void lock_uncontended(benchmark::State& state) {
  leave_single_threaded_mode();
  Mutex lock;
  // The address escapes, so the compiler must keep every atomic operation
  // even though no other thread could see this lock.
  benchmark::DoNotOptimize(&lock);
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
}

// lock_nested: the same pair taken while the thread holds another lock, as
// code that calls into a locked object from a locked one does. A deadlock
// detector sees the same lock-order edge every time: its steady state.
template <class Mutex>
void lock_nested(benchmark::State& state) {
  leave_single_threaded_mode();
  Mutex outer;
  Mutex inner;
  benchmark::DoNotOptimize(&outer);
  benchmark::DoNotOptimize(&inner);
  std::scoped_lock hold(outer);
  for (auto _ : state) {
    inner.lock();
    inner.unlock();
  }
}

// lock_new_inner: a lock made, taken while another is held, given up and
// destroyed, once per iteration. A deadlock detector sees a lock it does
// not know and an edge it has never seen every time, and must forget both
// when the lock goes: its most expensive path.
template <class Mutex>
void lock_new_inner(benchmark::State& state) {
  leave_single_threaded_mode();
  Mutex outer;
  benchmark::DoNotOptimize(&outer);
  std::scoped_lock hold(outer);
  for (auto _ : state) {
    std::optional<Mutex> inner;
    inner.emplace();
    benchmark::DoNotOptimize(&*inner);
    inner->lock();
    inner->unlock();
  }
}

// lock_contended: kThreads threads take the lock, count one operation and
// release it, until together they have counted a batch. One iteration is
// one batch; its wall time divided by its operations (the ops_per_iteration
// counter, which bench/peers/run.py divides by) is the time per operation,
// 1 / throughput. A batch ends when all have done their work, not when each
// has done its share, so a lock that lets one thread run ahead is not
// flattered by the others finishing alone. Thread i is pinned to usable
// CPU i mod the count: two threads get a core each; four on two cores share
// them, so a lock holder is regularly descheduled in its critical section
// while another thread on its core wants the lock (oversubscription).
//
// kHoldOuter: each thread holds a lock of its own throughout, so that every
// acquisition of the shared lock is a lock-order edge a deadlock detector
// already knows.
constexpr std::uint64_t kBatch = 100'000;

// Aligned to a cache line: otherwise where the stack puts it (which
// address randomisation changes from run to run) decides whether the lock
// and its data share one line or straddle two, and results change two-fold
// between runs.
template <class Mutex>
struct alignas(64) SharedCounter {
  // Counts one operation unless the batch is complete; false once it is.
  bool count_one() {
    std::scoped_lock hold(lock);
    if (value == end) return false;
    ++value;
    return true;
  }

  Mutex lock;
  // Beside the lock, as real guarded data is: the cache line that carries
  // the lock to the other core carries these with it.
  std::uint64_t value = 0;  // guarded by lock
  std::uint64_t end = 0;    // guarded by lock
};

// Holds a thread's own lock for its lifetime, when kHold.
template <class Mutex, bool kHold>
struct OuterHold {
  OuterHold() {
    if constexpr (kHold) lock.lock();
  }
  OuterHold(const OuterHold&) = delete;
  OuterHold& operator=(const OuterHold&) = delete;
  ~OuterHold() {
    if constexpr (kHold) lock.unlock();
  }
  Mutex lock;
};

template <class Mutex, int kThreads, bool kHoldOuter = false>
void lock_contended(benchmark::State& state) {
  SharedCounter<Mutex> counter;
  const int cpus = usable_cpu_count();
  // Between batches a waiting thread spins if it has a core to itself, so
  // that a batch starts on every core at once instead of after a wake-up,
  // and yields if it shares one, so as not to slow the thread it shares it
  // with.
  const bool shared_cores = kThreads > cpus;
  auto wait_pause = [shared_cores] {
    if (shared_cores) {
      std::this_thread::yield();
    } else {
      spin_pause();
    }
  };
  // Batches begun by the benchmark thread, and helpers done with the
  // current one. The new `end` needs no ordering from these: it is written
  // and read under the lock.
  std::atomic<std::uint64_t> begun{0};
  std::atomic<std::uint64_t> finished{0};
  std::atomic<bool> stopping{false};
  std::vector<std::thread> helpers;
  for (int i = 1; i < kThreads; ++i) {
    helpers.emplace_back([&, i] {
      PinToCpu cpu(i % cpus);
      OuterHold<Mutex, kHoldOuter> outer;
      for (std::uint64_t batch = 1;; ++batch) {
        while (begun.load(std::memory_order_acquire) < batch) {
          if (stopping.load(std::memory_order_relaxed)) return;
          wait_pause();
        }
        while (counter.count_one()) continue;
        finished.fetch_add(1, std::memory_order_acq_rel);
      }
    });
  }
  PinToCpu cpu(0);
  OuterHold<Mutex, kHoldOuter> outer;
  std::uint64_t batch = 0;
  constexpr auto helper_count = static_cast<std::uint64_t>(kThreads - 1);
  for (auto _ : state) {
    {
      std::scoped_lock hold(counter.lock);
      counter.end = counter.value + kBatch;
    }
    begun.store(++batch, std::memory_order_release);
    while (counter.count_one()) continue;
    while (finished.load(std::memory_order_acquire) < batch * helper_count) {
      wait_pause();
    }
  }
  stopping.store(true, std::memory_order_relaxed);
  for (auto& helper : helpers) helper.join();
  state.counters["ops_per_iteration"] = kBatch;
}

}  // namespace concur_bench::lock_workloads
