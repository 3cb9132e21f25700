// condition-one-thread — a taker and a putter share a balance through a
// Condition, but both run on the main thread.
//
// Ports the Account program of seed 004's Condition section:
//
//     class Account(Thread):
//         def put(self):
//             global balance
//             count=randint(1,100)
//             if(con.acquire()):
//                 balance=balance+count
//                 print("%s put %d balance: %d" %(self.name,count,balance))
//                 con.notify()
//                 con.release()
//         def take(self):
//             global balance
//             if(con.acquire()):
//                 count=randint(1,100)
//                 if(balance<count):
//                     con.wait()
//                 else:
//                     balance-=count
//                     print("%s take %d balance: %d"%(self.name,count,balance))
//                     con.notify()
//                 con.release()
//     con = Condition()
//     balance = 100
//     def test():
//         taker=Account("ID1","taker")
//         putter=Account("ID2","putter")
//         while(True):
//             taker.take()
//             putter.put()
//
// taker and putter are Threads, but nobody starts them: test() calls their
// methods itself, on the main thread. That works while every take finds
// enough money, and the loop has no end. The first take that asks more than
// the balance calls wait(), for a notify() that only put() would send, and
// put() runs next on the thread that is waiting: the seed waits for ever.
// (Its printed output also has lines "Taker consume 20, count=...": the
// notebook's previous cell, producer-consumer, was still running.)
//
// Here the wait has a timeout of 1 s, which shows the hang and ends the
// program, and the loop stops after 10 rounds if no take has hung by then.
// With the seed's random amounts, either may come first. (The seed's
// Account also stores an ID that nothing reads; the port leaves it out.)
#include <mutex>
#include <string>
#include <utility>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Condition;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

Condition con;
int balance = 100;  // guarded by con

class Account : public Thread {
 public:
  explicit Account(std::string threadname)
      : Thread(ThreadOptions{.name = std::move(threadname)}) {}

  void put() {
    int count = tour::randint(1, 100);
    std::scoped_lock with(con);
    balance = balance + count;
    tour::print("%s put %d balance: %d\n", name().c_str(), count, balance);
    con.notify();
  }

  // Whether the take ended; false if it waited in vain for a put.
  bool take() {
    std::scoped_lock with(con);
    int count = tour::randint(1, 100);
    if (balance < count) {
      tour::print("%s wants %d, balance: %d, so wait() for a put\n",
                  name().c_str(), count, balance);
      if (!con.wait(tour::scaled(1s))) {
        tour::print(
            "No notify after 1 s: put() would send it, but put() is to run"
            " next on this thread, which is waiting. The seed waits here for"
            " ever.\n");
        return false;
      }
    } else {
      balance -= count;
      tour::print("%s take %d balance: %d\n", name().c_str(), count, balance);
      con.notify();
    }
    return true;
  }
};

int main() {
  Account taker("taker");
  Account putter("putter");
  for (int round = 1; round <= 10; ++round) {
    if (!taker.take()) return 0;
    putter.put();
  }
  tour::print(
      "10 rounds, and test()'s while(True) goes on: it ends only in the"
      " wait() of the first take larger than the balance.\n");
}
