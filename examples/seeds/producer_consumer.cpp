// producer-consumer — two Putters and three Takers share a count, and wait
// on a Condition for the thresholds that let them act.
//
// Ports the Condition programs of seed 004:
//
//     class Putter(Thread):
//         def run(self):
//             global count
//             while True:
//                 with con:
//                     if count > 100:     # produce while count <= 100
//                         con.wait()
//                     else:
//                         count = count + 50
//                         print(self.name+' produce 50, count=' + str(count))
//                         con.notify()
//
//     class Taker(Thread):   # consumes 20 while count >= 100, then sleeps 1 s
//
//     count = 200
//     con = Condition()
//     # two Putter('Putter') and three Taker('Taker') threads, started
//
// Two changes make the port run steadily. The seed acts only when a wait()
// returns without re-checking the count, and notify() wakes one waiter,
// which may be of the wrong kind (a Putter woken for a Taker's sake), so
// all five threads can end up waiting for a notify() that none of them will
// send. Here every thread waits with wait_for(predicate), which re-checks
// after each wake-up, as Python's documentation advises, and notifies all.
// The seed loops for ever; this port stops its threads after 5 s.
#include <mutex>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Condition;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

Condition con;
int count = 200;       // guarded by con
bool closing = false;  // guarded by con: main() asks the threads to stop

class Putter : public Thread {
 public:
  Putter() : Thread(ThreadOptions{.name = "Putter"}) {}

 protected:
  void run() override {
    for (;;) {
      std::scoped_lock with(con);
      con.wait_for([] { return count <= 100 || closing; });
      if (closing) return;
      count += 50;
      tour::print("%s produce 50, count=%d\n", name().c_str(), count);
      con.notify_all();
    }
  }
};

class Taker : public Thread {
 public:
  Taker() : Thread(ThreadOptions{.name = "Taker"}) {}

 protected:
  void run() override {
    for (;;) {
      {
        std::scoped_lock with(con);
        con.wait_for([] { return count >= 100 || closing; });
        if (closing) return;
        count -= 20;
        tour::print("%s consume 20, count=%d\n", name().c_str(), count);
        con.notify_all();
      }
      tour::sleep(1s);
    }
  }
};

int main() {
  Putter putters[2];
  Taker takers[3];
  for (Putter& p : putters) p.start();
  for (Taker& t : takers) t.start();
  tour::sleep(5s);
  {
    std::scoped_lock with(con);
    closing = true;
    con.notify_all();
  }
  for (Putter& p : putters) p.join();
  for (Taker& t : takers) t.join();
  tour::print("stopped after 5 s, count=%d\n", count);
}
