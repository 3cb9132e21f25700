// deadlock — transfers a->b and b->a, each holding one account's lock while
// it waits for the other's; then the cures.
//
// Ports the deadlock program of seed 004:
//
//     def transfer(src, dst, amount):
//         if src.lock.acquire():   # lock our own account
//             src.withdraw(amount)
//         sleep(1)                 # make the two transfers overlap
//         print('wait for lock...')
//         if dst.lock.acquire():   # lock the other account
//             dst.deposit(amount)
//             dst.lock.release()
//         src.lock.release()
//         print('finish...')
//
//     Thread(target=transfer, args=(a, b, 100)).start()
//     Thread(target=transfer, args=(b, a, 200)).start()
//
// The seed prints "wait for lock..." twice and hangs for ever. Here the
// second acquire has a timeout, so the deadlock is detected: the first
// transfer to time out gives up and lets go of its lock, and the other one
// then finishes. Then the seed's three cures: take the locks together (its
// "lock in one order"); acquire with a timeout, back off and retry, so that
// both transfers finish; and "a deadlock detection algorithm": concur's
// detector (concur/deadlock.hpp), which in report mode prints the cycle of
// waits (both locks, both threads, the lines) and in raise mode fails one
// transfer with DeadlockError at once, so the other completes.
#include <functional>
#include <mutex>
#include <string>
#include <utility>

#include "concur/annotations.hpp"
#include "concur/deadlock.hpp"
#include "concur/errors.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Lock;
using concur::threading::Thread;

struct Account {
  // The lock is named after the account in the detector's reports.
  Account(std::string id, int balance)
      : id(std::move(id)), balance(balance), lock(this->id.c_str()) {}

  const std::string id;
  int balance;  // guarded by lock
  Lock lock;

  void withdraw(int amount) { balance -= amount; }
  void deposit(int amount) { balance += amount; }
};

// The seed's transfer, with a timeout on the second lock, and the
// withdrawal moved after it, so that giving up leaves the balances as they
// were.
void transfer(Account& src, Account& dst, int amount) {
  const concur::ScopedLock hold_src(src.lock);  // src.lock.acquire()
  tour::sleep(1s);
  tour::print("%s->%s: wait for lock %s...\n", src.id.c_str(), dst.id.c_str(),
              dst.id.c_str());
  if (!dst.lock.acquire(tour::scaled(2s))) {
    tour::print(
        "%s->%s: no lock %s after 2 s: deadlock detected, giving up"
        " (the seed waits here for ever)\n",
        src.id.c_str(), dst.id.c_str(), dst.id.c_str());
    return;
  }
  src.withdraw(amount);
  dst.deposit(amount);
  dst.lock.release();
  tour::print("%s->%s: finish...\n", src.id.c_str(), dst.id.c_str());
}

// Cure 1. The seed's advice is to take locks in one global order, so that
// no thread holds a lock another needs first. std::scoped_lock does better:
// it takes all its locks as one step, waiting for one only while it holds
// none (std::lock's algorithm), so no order has to be agreed on.
void transfer_together(Account& src, Account& dst, int amount) {
  std::scoped_lock hold_both(src.lock, dst.lock);
  tour::sleep(1s);
  src.withdraw(amount);
  dst.deposit(amount);
  tour::print("%s->%s: finish...\n", src.id.c_str(), dst.id.c_str());
}

// Cure 2: acquire the second lock with a timeout; on failure, let go of the
// first, pause a random while (so the two threads do not retry in step),
// and start again.
void transfer_backing_off(Account& src, Account& dst, int amount) {
  for (;;) {
    {
      std::unique_lock hold_src(src.lock);
      tour::sleep(1s);
      std::unique_lock hold_dst(dst.lock, tour::scaled(500ms));
      if (hold_dst) {
        src.withdraw(amount);
        dst.deposit(amount);
        tour::print("%s->%s: finish...\n", src.id.c_str(), dst.id.c_str());
        return;
      }
      tour::print("%s->%s: lock %s busy, backing off\n", src.id.c_str(),
                  dst.id.c_str(), dst.id.c_str());
    }
    tour::sleep(tour::randint(0, 1000) * 1ms);
  }
}

// Cure 3: the seed's transfer, run under the deadlock detector. In report
// mode the detector prints the cycle when the second wait closes it, and
// the timeout still ends the wait; in raise mode that wait throws
// DeadlockError, its transfer lets go of its lock and the other finishes.
void transfer_detected(Account& src, Account& dst, int amount) {
  try {
    transfer(src, dst, amount);
  } catch (const concur::DeadlockError&) {
    tour::print("%s->%s: DeadlockError: giving up at once\n", src.id.c_str(),
                dst.id.c_str());
  }
}

void two_transfers(void (*transfer)(Account&, Account&, int)) {
  Account a{"a", 1000};
  Account b{"b", 1000};
  Thread t1(transfer, std::ref(a), std::ref(b), 100);
  Thread t2(transfer, std::ref(b), std::ref(a), 200);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  tour::print("balances: a=%d, b=%d\n", a.balance, b.balance);
}

int main() {
  tour::print("-- each holds one lock and waits for the other --\n");
  two_transfers(transfer);
  tour::print("-- cure: take both locks at once --\n");
  two_transfers(transfer_together);
  tour::print("-- cure: time out and back off --\n");
  two_transfers(transfer_backing_off);

  namespace deadlock = concur::deadlock;
  deadlock::set_handler([](const deadlock::Report& report) {
    tour::print("%s", report.message.c_str());
  });
  tour::print("-- cure: detect it (report mode: the cycle is printed) --\n");
  deadlock::set_mode(deadlock::Mode::kReport);
  two_transfers(transfer_detected);
  tour::print("-- cure: detect it (raise mode: one transfer fails) --\n");
  deadlock::set_mode(deadlock::Mode::kRaise);
  two_transfers(transfer_detected);
  deadlock::set_mode(deadlock::Mode::kOff);
}
