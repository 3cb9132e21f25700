// condition-spawner — a loop that starts two looping threads per round, a
// putter and a getter of one shared list, and never stops.
//
// Ports the Accout program of seed 004's Condition section:
//
//     class Accout:
//         def __init__(self,user,count):
//             self.user = user
//             self.count = count
//         def put_money(self):
//             global temp_list
//             while(True):
//                 if con.acquire():
//                     if len(temp_list) > 1:
//                         con.wait()
//                     else:
//                         temp_list.append(self.count)
//                         print(self.user + '余额为' + str(self.count))
//                         con.notify()
//                 con.release()
//                 sleep(3)
//         def get_money(self):  # the same: prints and removes temp_list[0]
//         def put_process(self):
//             t1 = Thread(target=Accout.put_money, args=(self,))
//             t1.start()
//         def get_process(self):
//             t2 = Thread(target=Accout.get_money,args=(self,))
//             t2.start()
//     con = threading.Condition()
//     temp_list = []
//     def test():
//         while True:
//             count1 = randint(1, 100)
//             p = Accout('账号', count1)
//             p.put_process()
//             count2 = 0
//             q = Accout('账号', count2)
//             q.get_process()
//
// Nothing in it ends. test() has no pause and no exit: it starts two
// threads per round, as fast as it can, and each of them loops for ever, so
// the count of threads only grows, until the system can start no more. The
// threads themselves work, a few at a time: the list holds at most two
// amounts, so most putters wait for room and most getters for an amount.
//
// The port runs five rounds, printing how many threads are alive after
// each, lets the threads work for 4 s, then asks them to stop. Each thread
// runs on its own copy of its Accout, since p and q go out of scope at the
// end of their round (in Python the thread's reference keeps them alive).
// main() does not join the threads: like Python's, they are not daemons,
// so the program waits for them at exit. (账号 is "account"; 余额为,
// "balance is"; 取出, "took out".)
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::active_count;
using concur::threading::Condition;
using concur::threading::Thread;

Condition con;
std::vector<int> temp_list;  // guarded by con
bool closing = false;        // guarded by con: main() asks the threads to stop

class Accout {
 public:
  Accout(std::string user, int count) : user_(std::move(user)), count_(count) {}

  void put_money() {
    for (;;) {
      {
        std::scoped_lock with(con);
        if (closing) return;
        if (temp_list.size() > 1) {
          con.wait();
        } else {
          temp_list.push_back(count_);
          tour::print("%s balance is %d\n", user_.c_str(), count_);
          con.notify();
        }
      }
      tour::sleep(3s);
    }
  }

  void get_money() {
    for (;;) {
      {
        std::scoped_lock with(con);
        if (closing) return;
        if (temp_list.empty()) {
          con.wait();
        } else {
          tour::print("%s took out %d\n", user_.c_str(), temp_list.front());
          temp_list.erase(temp_list.begin());
          con.notify();
        }
      }
      tour::sleep(3s);
    }
  }

  void put_process() const {
    Thread t1(&Accout::put_money, *this);
    t1.start();
  }
  void get_process() const {
    Thread t2(&Accout::get_money, *this);
    t2.start();
  }

 private:
  std::string user_;
  int count_;
};

int main() {
  for (int round = 1; round <= 5; ++round) {
    int count1 = tour::randint(1, 100);
    Accout p("Account", count1);
    p.put_process();
    int count2 = 0;
    Accout q("Account", count2);
    q.get_process();
    tour::print("round %d: %zu threads alive\n", round, active_count());
  }
  tour::print(
      "test() would go on: two more threads each round, none of which ever"
      " ends. The port stops here and lets these ten work for 4 s.\n");
  tour::sleep(4s);
  std::scoped_lock with(con);
  closing = true;
  con.notify_all();
  tour::print(
      "main() asks them to stop; the program waits for them at exit.\n");
}
