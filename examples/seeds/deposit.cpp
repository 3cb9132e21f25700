// deposit — 100 threads each deposit 1 into one account: without a lock,
// then with a Lock.
//
// Ports the Account programs of seeds 000 and 001:
//
//     def deposit(self, money):
//         new_balance = self._balance + money  # compute the new balance
//         sleep(0.01)                          # a deposit takes 0.01 s
//         self._balance = new_balance          # update the balance
//
//     for _ in range(100):
//         threading.Thread(target=account.deposit, args=(1,)).start()
//
// and the fix, with self._lock = Lock() taken around those three lines
// (acquire(), then release() in a `finally:`).
//
// Without the lock, threads read the balance while others sleep before
// writing theirs back, and deposits are lost: the seeds printed ¥3 where
// ¥100 was due. The sleep keeps the read and the write far apart, so the
// loss shows on every run. With the lock, deposits happen one at a time.
//
// (Seed 000's version without a lock indents the join loop and the print
// into the loop that starts the threads: each new thread is joined, with
// the earlier ones, before the next starts. The deposits then run one at a
// time, and it prints a balance per thread, ¥1 to ¥100, each of them right:
// joins between starts serialize the threads, as pingpong-join shows.)
#include <atomic>
#include <mutex>
#include <vector>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Lock;
using concur::threading::Thread;

class Account {
 public:
  void deposit(int money) {
    int new_balance = balance_ + money;
    tour::sleep(10ms);
    balance_ = new_balance;
  }
  int balance() const { return balance_; }

 private:
  // Atomic only so that the race is one of logic, not undefined behaviour
  // in C++: the read and the write are still separate steps.
  std::atomic<int> balance_ = 0;
};

class LockedAccount {
 public:
  void deposit(int money) {
    // C++'s `with self._lock:`: released when `with` goes out of scope,
    // however the block is left — the try/finally of the seed.
    std::scoped_lock with(lock_);
    int new_balance = balance_ + money;
    tour::sleep(10ms);
    balance_ = new_balance;
  }
  int balance() const { return balance_; }

 private:
  Lock lock_;
  std::atomic<int> balance_ = 0;
};

template <class AccountType>
int hundred_deposits() {
  AccountType account;
  std::vector<Thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back(&AccountType::deposit, &account, 1);
    threads.back().start();
  }
  // Wait for every deposit thread to finish.
  for (Thread& t : threads) t.join();
  return account.balance();
}

int main() {
  tour::print("Without a lock, account balance: ¥%d\n",
              hundred_deposits<Account>());
  tour::print("With a Lock, account balance: ¥%d\n",
              hundred_deposits<LockedAccount>());
}
