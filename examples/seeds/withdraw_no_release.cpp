// withdraw-no-release — two withdrawals of 600 from 1000 under a Lock that
// is taken and never released.
//
// Ports the third bank withdrawal program of seed 004:
//
//     balance = 1000
//     lock = threading.Lock()
//     def draw(draw_account):
//         global balance
//         lock.acquire()  # take the lock
//         if (balance>=draw_account):
//             print(threading.current_thread().name +'取钱成功，取出钱数为：'
//                   + str(draw_account))
//             time.sleep(0.0001)
//             balance = balance - draw_account
//             print( '\n账号余额为：' + str(balance))
//         else:
//             print(threading.current_thread().name +'账号取钱时余额不足')
//
//     t1 = threading.Thread(target=draw, name = '甲', args=(600,))
//     t2 = threading.Thread(target=draw, name = '乙', args=(600,))
//
// draw() has no lock.release(). The first thread to take the lock pays
// out and ends still holding it; the second waits in acquire() for ever,
// and so does the main thread, in t2.join(). The seed's next paragraph
// gives the rule: release the lock in a `finally:`, or those waiting for it
// wait for ever. Here the acquire has a timeout of 2 s, so the wait is seen
// and the program ends. (甲 and 乙 are the Chinese "A" and "B".)
//
// In C++ the slip is hard to make: a lock taken by a guard such as
// std::unique_lock is released when the guard goes out of scope, whatever
// path leaves it (clang's -Wthread-safety also flags a bare acquire() left
// unreleased). So the port lets go of its guard on purpose, with
// unique_lock::release(), which gives up the guard's duty to unlock.
#include <mutex>
#include <string>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Lock;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

int balance = 1000;  // guarded by lock
Lock lock;

void draw(int draw_account) {
  std::string name = current_thread().name();
  std::unique_lock hold(lock, tour::scaled(2s));
  if (!hold) {
    tour::print(
        "%s: no lock after 2 s: the thread that took it never released it"
        " (in the seed, %s waits here for ever)\n",
        name.c_str(), name.c_str());
    return;
  }
  if (balance >= draw_account) {
    tour::print("%s withdrew %d\n", name.c_str(), draw_account);
    tour::sleep(100us);
    balance = balance - draw_account;
    tour::print("Balance: %d\n", balance);
  } else {
    tour::print("%s: insufficient balance\n", name.c_str());
  }
  hold.release();  // the seed's missing lock.release(): it stays locked
}

int main() {
  Thread t1(ThreadOptions{.name = "A"}, draw, 600);
  Thread t2(ThreadOptions{.name = "B"}, draw, 600);
  t1.start();
  t2.start();
  t1.join();
  t2.join();
  tour::print("Both threads ended; the lock is still %s.\n",
              lock.locked() ? "locked" : "unlocked");
}
