// queue-sentinel — a producer and a consumer on a queue::Queue; a sentinel
// tells the consumer that nothing more will come.
//
// Ports the queue.Queue producer/consumer of seed 004:
//
//     class Putter(Thread):
//         def run(self):
//             for i in range(5):
//                 sleep(2)
//                 myQueue.put(i)
//                 print(self.getName(),' put ', i, ' to queue.' + '\n')
//             myQueue.put(None)  # None: the producer is finished
//     class Taker(Thread):
//         def run(self):
//             while True:
//                 sleep(3)
//                 item = myQueue.get()
//                 if item is None:
//                     break
//                 print(self.getName(),' get ', item, ' from queue.'+ '\n')
//     myQueue = Queue()
//
// Python's None, a value of another type than the items, becomes an empty
// std::optional: the queue holds std::optional<int>. get() blocks until an
// item arrives, so the Taker needs no other signal. The Putter is faster
// (one item every 2 s against every 3 s), so items wait in the queue, and
// the Taker still gets all five, in order, before the sentinel. The seed's
// print() of several arguments put two spaces around each; one suffices.
#include <optional>

#include "concur/queue.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

concur::queue::Queue<std::optional<int>> myQueue;

class Putter : public Thread {
 public:
  Putter() : Thread(ThreadOptions{.name = "Putter"}) {}

 protected:
  void run() override {
    for (int i = 0; i < 5; ++i) {
      tour::sleep(2s);
      myQueue.put(i);
      tour::print("%s put %d to queue.\n", name().c_str(), i);
    }
    myQueue.put(std::nullopt);  // the sentinel: Python's None
  }
};

class Taker : public Thread {
 public:
  Taker() : Thread(ThreadOptions{.name = "Taker"}) {}

 protected:
  void run() override {
    for (;;) {
      tour::sleep(3s);
      std::optional<int> item = myQueue.get();
      if (!item) break;
      tour::print("%s get %d from queue.\n", name().c_str(), *item);
    }
    tour::print("%s got the sentinel: done.\n", name().c_str());
  }
};

int main() {
  Putter p;
  Taker t;
  p.start();
  t.start();
  p.join();
  t.join();
}
