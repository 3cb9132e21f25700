// balance — `balance += n; balance -= n` a million times in two threads:
// without a lock, then with a Lock, then with the balance inside a
// concur::Synchronized, where the race cannot be written at all.
//
// Ports seed 002:
//
//     balance = 0
//     def change_it(n):
//         global balance
//         balance = balance + n
//         balance = balance - n
//
//     def run_thread(n):
//         for i in range(1000000):
//             change_it(n)
//
//     t1 = threading.Thread(target=run_thread, args=(5,))
//     t2 = threading.Thread(target=run_thread, args=(8,))
//
// and the fix: lock.acquire() / try: change_it(n) / finally: lock.release().
//
// Each line reads balance, adds, and writes it back. When the threads
// interleave those steps, one thread's write wipes out the other's and the
// result is not 0 (the seed printed 16). In C++ the two threads run at once
// on two cores and the result is off by hundreds or thousands. (On one core,
// or on a machine too busy to give the threads a core each, they take turns
// in time slices longer than the whole loop, and 0 is likely.)
#include <atomic>
#include <mutex>

#include "concur/synchronized.hpp"
#include "tour.hpp"

using concur::threading::Barrier;
using concur::threading::Lock;
using concur::threading::Thread;

int balance = 0;
Lock lock;

void change_it(int n) {
  // Two threads writing a plain int is a data race, which C++ leaves
  // undefined: the compiler may assume it never happens. Relaxed atomic
  // loads and stores cost the same as plain ones on common hardware but
  // are defined; split into a load and a store, they lose updates exactly
  // as Python's `balance = balance + n` does.
  std::atomic_ref<int> shared(balance);
  shared.store(shared.load(std::memory_order_relaxed) + n,
               std::memory_order_relaxed);
  shared.store(shared.load(std::memory_order_relaxed) - n,
               std::memory_order_relaxed);
}

// A million rounds take C++ about a millisecond, less than it may take the
// second thread to start: without this gate, which the two threads pass
// together, the first could be done before the second begins.
Barrier start_line(2);

void run_thread(int n) {
  start_line.wait();
  for (int i = 0; i < 1'000'000; ++i) change_it(n);
}

void run_thread_locked(int n) {
  start_line.wait();
  for (int i = 0; i < 1'000'000; ++i) {
    std::scoped_lock with(lock);
    change_it(n);
  }
}

// The race made impossible to write: the balance is reachable only through
// its lock (concur/synchronized.hpp); there is no unlocked way to touch it.
concur::Synchronized<int> synced_balance{0};

void run_thread_synchronized(int n) {
  start_line.wait();
  for (int i = 0; i < 1'000'000; ++i) {
    synced_balance.with_lock([n](int& b) {
      b = b + n;
      b = b - n;
    });
  }
}

void run_two_threads(void (*run)(int)) {
  Thread t1(run, 5);
  Thread t2(run, 8);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
}

int main() {
  run_two_threads(run_thread);
  const int unlocked = balance;
  tour::print("Without a lock: %d\n", unlocked);
  if (unlocked == 0) {
    tour::print(
        "(no update lost this time: the machine ran the two threads in turn"
        " on one core, not at once)\n");
  }
  balance = 0;
  run_two_threads(run_thread_locked);
  tour::print("With a Lock: %d\n", balance);
  run_two_threads(run_thread_synchronized);
  tour::print("With Synchronized<int>: %d\n", synced_balance.copy());
}
