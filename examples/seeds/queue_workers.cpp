// queue-workers — five worker threads take items from one Queue and call
// task_done(); the main thread's join() waits until every item is done.
//
// Ports the task_done/join program of seed 004:
//
//     def worker():
//         while True:
//             item = q.get()
//             if item is None:
//                 break
//             print(current_thread().name +' worker get :'+ item+ '\n')
//             sleep(0.1)
//             q.task_done()
//     q = Queue()
//     for item in ['A','B','C','D','E','F']:
//         q.put(item)
//     threads = []
//     for i in range(5):
//         t = Thread(target=worker)
//         t.start()
//         threads.append(t)
//     q.join() # blocks until every item has been processed
//     # for i in range(5): # put None to stop the workers
//     #     q.put(None)
//     for t in threads:
//         t.join()
//     print('thread %s ended.' % current_thread().name)
//
// Every put() adds one unfinished task and every task_done() removes one;
// join() returns when none is left. It does not stop the workers: they are
// still blocked in get(). The seed comments out the loop that sends them
// each a None, so its final t.join() waits for ever; the port keeps that
// loop (None is an empty std::optional) and prints when q.join() returns.
#include <optional>
#include <string>
#include <vector>

#include "concur/queue.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Thread;

concur::queue::Queue<std::optional<std::string>> q;

void worker() {
  for (;;) {
    std::optional<std::string> item = q.get();
    if (!item) break;
    tour::print("%s worker get :%s\n", current_thread().name().c_str(),
                item->c_str());
    tour::sleep(100ms);
    q.task_done();
  }
}

int main() {
  for (const char* item : {"A", "B", "C", "D", "E", "F"}) q.put(item);
  std::vector<Thread> threads;
  for (int i = 0; i < 5; ++i) {
    Thread t(worker);
    t.start();
    threads.push_back(t);
  }
  q.join();  // blocks until every item has been processed
  tour::print("q.join() returned: all 6 items done, %zu unfinished\n",
              q.unfinished_tasks());
  for (int i = 0; i < 5; ++i) q.put(std::nullopt);  // stops the workers
  for (Thread& t : threads) t.join();
  tour::print("thread %s ended.\n", current_thread().name().c_str());
}
