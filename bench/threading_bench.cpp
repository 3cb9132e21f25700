// Benchmarks for concur::threading beside the best C++ peer doing the same
// work: the standard library (std::mutex, std::condition_variable,
// std::thread) and, for the sleeping hand-off between two threads, a raw
// futex round trip, which is the floor that any primitive parking threads in
// the kernel pays.
//
// Names are "<workload>/<implementation>"; bench/peers/run.py pairs them by
// workload, adds Python's numbers and checks each target. Every time that
// involves more than one thread is wall-clock time (UseRealTime), since a
// thread asleep in the kernel spends no CPU time but the work still waits.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/threading.hpp"

namespace {

namespace threading = concur::threading;

// The CPUs this process may use, read at start-up, before any thread here
// is pinned.
const cpu_set_t kUsableCpus = [] {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  return set;
}();

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

// ---------------------------------------------------------------------------
// lock_uncontended: one acquire+release pair on one thread; the cost every
// critical section pays when nobody else wants the lock. For concur, lock()
// and unlock() are acquire() and release(), inlined.
template <class Mutex>
void lock_uncontended(benchmark::State& state) {
  // A lock is only needed in a process that has threads, and glibc skips
  // the atomic operations of std::mutex in a process that has never started
  // one (its SINGLE_THREAD_P shortcut), which would make std::mutex look 3x
  // faster when this benchmark happens to run first. Starting a thread
  // turns the shortcut off for good.
  std::thread([] {}).join();
  Mutex lock;
  // The address escapes, so the compiler must keep every atomic operation
  // even though no other thread could see this lock.
  benchmark::DoNotOptimize(&lock);
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
}
BENCHMARK(lock_uncontended<threading::Lock>)->Name("lock_uncontended/concur");
BENCHMARK(lock_uncontended<std::mutex>)->Name("lock_uncontended/std");

// ---------------------------------------------------------------------------
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
constexpr std::uint64_t kBatch = 100'000;

template <class Mutex>
struct SharedCounter {
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

// One step of a busy-wait loop.
inline void spin_pause() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

template <class Mutex, int kThreads>
void lock_contended(benchmark::State& state) {
  SharedCounter<Mutex> counter;
  const int cpus = CPU_COUNT(&kUsableCpus) > 0 ? CPU_COUNT(&kUsableCpus) : 1;
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
BENCHMARK_TEMPLATE(lock_contended, threading::Lock, 2)
    ->Name("lock_contended/concur")
    ->UseRealTime();
BENCHMARK_TEMPLATE(lock_contended, std::mutex, 2)
    ->Name("lock_contended/std")
    ->UseRealTime();
BENCHMARK_TEMPLATE(lock_contended, threading::Lock, 4)
    ->Name("lock_contended_4/concur")
    ->UseRealTime();
BENCHMARK_TEMPLATE(lock_contended, std::mutex, 4)
    ->Name("lock_contended_4/std")
    ->UseRealTime();

// ---------------------------------------------------------------------------
// Ping-pong: the benchmark thread (the client) hands the turn to a server
// thread and waits until the server hands it back; one iteration is one
// round trip. Each implementation is a struct with round_trip() for the
// client, serve() for the server and stop() to end the server.

template <class PingPong>
void pingpong(benchmark::State& state) {
  PingPong game;
  // Started before the timed loop and joined after it, so thread creation
  // is not part of the round trip.
  std::thread server([&game] {
    PinToCpu cpu(1);
    game.serve();
  });
  PinToCpu cpu(0);
  for (auto _ : state) game.round_trip();
  game.stop();
  server.join();
}

// Whose turn it is, for the protocols that keep one shared word.
enum Turn : std::uint32_t { kClient, kServer, kStop };

// pingpong_event: two Events, as Python code signals "your turn" with
// threading.Event: set the other's Event, wait on one's own, clear it.
template <class EventType>
struct EventPingPong {
  void round_trip() {
    ping.set();
    pong.wait();
    pong.clear();
  }
  void serve() {
    for (;;) {
      ping.wait();
      ping.clear();
      // Written before the set() that woke us, so the Event's ordering
      // makes it visible without an atomic.
      if (stopping) return;
      pong.set();
    }
  }
  void stop() {
    stopping = true;
    ping.set();
  }

  EventType ping;
  EventType pong;
  bool stopping = false;
};

// The Event a C++ programmer writes with the standard library (and the one
// CPython's threading.Event is): a flag under a mutex, with a condition
// variable to wait for it. set() notifies after unlocking, so the woken
// thread does not run into a mutex that is still held.
class StdEvent {
 public:
  void set() {
    {
      std::scoped_lock hold(mutex_);
      flag_ = true;
    }
    changed_.notify_all();
  }
  void clear() {
    std::scoped_lock hold(mutex_);
    flag_ = false;
  }
  void wait() {
    std::unique_lock hold(mutex_);
    changed_.wait(hold, [this] { return flag_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool flag_ = false;
};

BENCHMARK(pingpong<EventPingPong<threading::Event>>)
    ->Name("pingpong_event/concur")
    ->UseRealTime();
BENCHMARK(pingpong<EventPingPong<StdEvent>>)
    ->Name("pingpong_event/std")
    ->UseRealTime();

// pingpong_condition: one lock, one condition variable and a turn variable
// the lock guards. Each side, holding the lock, passes the turn, notifies,
// and waits until the turn comes back; waiting releases the lock to the
// other side.
struct ConcurConditionPingPong {
  void round_trip() {
    std::scoped_lock hold(lock);
    turn = kServer;
    condition.notify();
    condition.wait_for([this] { return turn == kClient; });
  }
  void serve() {
    std::scoped_lock hold(lock);
    for (;;) {
      condition.wait_for([this] { return turn != kClient; });
      if (turn == kStop) return;
      turn = kClient;
      condition.notify();
    }
  }
  void stop() {
    std::scoped_lock hold(lock);
    turn = kStop;
    condition.notify();
  }

  threading::Lock lock;
  threading::Condition condition{lock};
  Turn turn = kClient;  // guarded by lock
};

struct StdConditionPingPong {
  void round_trip() {
    std::unique_lock hold(lock);
    turn = kServer;
    condition.notify_one();
    condition.wait(hold, [this] { return turn == kClient; });
  }
  void serve() {
    std::unique_lock hold(lock);
    for (;;) {
      condition.wait(hold, [this] { return turn != kClient; });
      if (turn == kStop) return;
      turn = kClient;
      condition.notify_one();
    }
  }
  void stop() {
    std::scoped_lock hold(lock);
    turn = kStop;
    condition.notify_one();
  }

  std::mutex lock;
  std::condition_variable condition;
  Turn turn = kClient;  // guarded by lock
};

BENCHMARK(pingpong<ConcurConditionPingPong>)
    ->Name("pingpong_condition/concur")
    ->UseRealTime();
BENCHMARK(pingpong<StdConditionPingPong>)
    ->Name("pingpong_condition/std")
    ->UseRealTime();

// pingpong/futex: the floor for both ping-pongs. One word holds the turn;
// each side stores the other's turn, wakes it with FUTEX_WAKE and sleeps in
// FUTEX_WAIT until the turn comes back. No spinning and no bookkeeping of
// who sleeps: nothing but the kernel's sleep and wake-up.
long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
                 op | FUTEX_PRIVATE_FLAG, value, nullptr, nullptr, 0);
}

struct FutexPingPong {
  void round_trip() {
    // Release/acquire on the word order the two sides' work; the system
    // calls only sleep and wake.
    word.store(kServer, std::memory_order_release);
    futex(word, FUTEX_WAKE, 1);
    while (word.load(std::memory_order_acquire) == kServer) {
      futex(word, FUTEX_WAIT, kServer);
    }
  }
  void serve() {
    for (;;) {
      std::uint32_t turn;
      while ((turn = word.load(std::memory_order_acquire)) == kClient) {
        futex(word, FUTEX_WAIT, kClient);
      }
      if (turn == kStop) return;
      word.store(kClient, std::memory_order_release);
      futex(word, FUTEX_WAKE, 1);
    }
  }
  void stop() {
    word.store(kStop, std::memory_order_release);
    futex(word, FUTEX_WAKE, 1);
  }

  std::atomic<std::uint32_t> word{kClient};
};

BENCHMARK(pingpong<FutexPingPong>)->Name("pingpong/futex")->UseRealTime();

// ---------------------------------------------------------------------------
// thread_start_join: create a thread that runs an empty callable, start it
// and wait for it to end.
void thread_start_join_concur(benchmark::State& state) {
  for (auto _ : state) {
    threading::Thread thread([] {});
    thread.start();
    thread.join();
  }
}
BENCHMARK(thread_start_join_concur)
    ->Name("thread_start_join/concur")
    ->UseRealTime();

void thread_start_join_std(benchmark::State& state) {
  for (auto _ : state) {
    std::thread thread([] {});
    thread.join();
  }
}
BENCHMARK(thread_start_join_std)->Name("thread_start_join/std")->UseRealTime();

}  // namespace
