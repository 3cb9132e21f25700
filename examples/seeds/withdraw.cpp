// withdraw — two people withdraw 600 from an account of 1000 at once:
// without a lock, then with a Lock.
//
// Ports the bank withdrawal programs of seed 004:
//
//     balance = 1000
//     def draw(account):
//         global balance
//         if (balance>=account):
//             print(current_thread().name +'取钱成功，取出钱数为：'+
//             str(account)) sleep(0.0001)  # pause, so the scheduler switches
//             threads balance = balance - account print('\n账号余额为：' +
//             str(balance))
//         else:
//             print(current_thread().name +'账号取钱时余额不足')
//
//     t1 = Thread(target=draw, name='甲', args=(600,))
//     t2 = Thread(target=draw, name='乙', args=(600,))
//
// and the fix, with lock.acquire() / release() around the check and the
// update. Without the lock both threads pass the check before either has
// paid out, and the balance goes negative. (甲 and 乙 are the Chinese "A"
// and "B".)
#include <atomic>
#include <mutex>
#include <string>
#include <thread>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Lock;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

// Atomic only so that the race is one of logic, not undefined behaviour.
std::atomic<int> balance = 1000;
Lock lock;

void draw(int account) {
  std::string name = current_thread().name();
  if (balance >= account) {
    tour::print("%s withdrew %d\n", name.c_str(), account);
    // The seed pauses 0.1 ms and says the balance goes negative only on
    // some runs. Starting a C++ thread takes longer than that, so the pause
    // here is 10 ms of real time (not scaled): long enough for the other
    // thread to reach the check on every run.
    std::this_thread::sleep_for(10ms);
    balance = balance - account;
    tour::print("Balance: %d\n", balance.load());
  } else {
    tour::print("%s: insufficient balance\n", name.c_str());
  }
}

void draw_locked(int account) {
  std::scoped_lock with(lock);
  draw(account);
}

void two_withdrawals(void (*draw)(int)) {
  balance = 1000;
  Thread t1(ThreadOptions{.name = "A"}, draw, 600);
  Thread t2(ThreadOptions{.name = "B"}, draw, 600);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
}

int main() {
  tour::print("-- without a lock --\n");
  two_withdrawals(draw);
  tour::print("-- with a Lock --\n");
  two_withdrawals(draw_locked);
}
