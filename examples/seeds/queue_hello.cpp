// queue-hello — a child puts "hello" on a multiprocessing Queue; the parent
// gets it.
//
// Ports seed 004's queuecommu1.py:
//
//     def fun(q):
//         print('(%s) 进程向队列中写入数据...'% os.getpid())
//         q.put('hello')
//
//     def main():
//         q = Queue()
//         p = Process(target=fun,args=(q,))
//         p.start()
//         print('(%s) 进程开始从队列这读取数据...' % os.getpid())
//         print(q.get())
//         p.join()
//
// The child's memory is a copy: a variable it sets stays in the child. A
// multiprocessing::Queue lives in shared memory, made when the queue is and
// inherited by every child forked after that, so the item the child puts
// is the one the parent gets. get() waits until it is there, so the parent
// may ask before the child has put it. The queue's item type is fixed:
// Queue<std::string>. (The seed also imports Pipes, a name multiprocessing
// does not have: as printed, it stops at an ImportError before it starts.)
#include <unistd.h>

#include <string>

#include "concur/multiprocessing.hpp"
#include "tour.hpp"

using concur::multiprocessing::Process;
using concur::multiprocessing::Queue;

void fun(Queue<std::string> q) {
  tour::print("(%d) process writes data to the queue...\n",
              static_cast<int>(::getpid()));
  q.put("hello");
}

int main() {
  Queue<std::string> q;
  Process p(fun, q);
  p.start();
  tour::print("(%d) process starts reading data from the queue...\n",
              static_cast<int>(::getpid()));
  tour::print("%s\n", q.get().c_str());
  p.join();
}
