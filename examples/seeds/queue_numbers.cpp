// queue-numbers — Ping and Pong processes take the numbers 1 to 10 from one
// Queue(10); a 0 for each tells it to stop.
//
// Ports seed 001's sub_task(string, q):
//
//     def sub_task(string, q):
//         number = q.get()
//         while number:
//             print('%d: %s' % (number, string))
//             sleep(0.001)
//             number = q.get()
//
//     def main():
//         q = Queue(10)
//         for number in range(1, 11):
//             q.put(number)
//         Process(target=sub_task, args=('Ping', q)).start()
//         Process(target=sub_task, args=('Pong', q)).start()
//
// The two children share the queue, so each number is printed once, by
// whichever child took it: unlike a copied counter, a queue is shared.
// Ping, started first, often takes most of them before Pong runs. The
// seed's loop ends only on a number that is false, 0, which never comes:
// once the ten are taken both children wait in q.get() for ever, and since
// Python joins its children at exit, the program never ends. The port puts
// two 0s after the ten, one for each child (a child that got its 0 takes
// no more, so the other gets the second). (A get with a timeout,
// q.get(1s), would end them too, with a queue::Empty to catch.)
//
// The queue holds 10 items, as the seed's does, and the ten numbers fill
// it: an eleventh put before the children start would wait for ever for
// room that nobody makes. So the parent puts the 0s after starting them;
// each put waits until the children have taken enough. (A Queue(12) would
// take all twelve before the starts.) main() returns then, and the
// children are joined at exit.
#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::multiprocessing::Process;
using concur::multiprocessing::Queue;

void sub_task(const char* string, Queue<int> q) {
  int number = q.get();
  while (number != 0) {
    tour::print("%d: %s\n", number, string);
    tour::sleep(1ms);
    number = q.get();
  }
}

int main() {
  Queue<int> q(10);
  for (int number = 1; number <= 10; ++number) q.put(number);
  Process(sub_task, "Ping", q).start();
  Process(sub_task, "Pong", q).start();
  q.put(0);  // one for each child: the end of its loop
  q.put(0);
}
