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
#include "peers/lock_workloads.hpp"

namespace {

namespace threading = concur::threading;

using concur_bench::lock_workloads::lock_contended;
using concur_bench::lock_workloads::lock_uncontended;
using concur_bench::lock_workloads::PinToCpu;

// lock_uncontended (see bench/peers/lock_workloads.hpp): for concur, lock()
// and unlock() are acquire() and release(), inlined.
BENCHMARK(lock_uncontended<threading::Lock>)->Name("lock_uncontended/concur");
BENCHMARK(lock_uncontended<std::mutex>)->Name("lock_uncontended/std");

// ---------------------------------------------------------------------------
// lock_contended: 2 threads (and 4 on the 2 cores) sharing one lock; see
// bench/peers/lock_workloads.hpp.
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
