// pool-submit — a ThreadPoolExecutor: submit and done(), the pool as a
// scoped object, and map.
//
// Ports the three ThreadPoolExecutor programs of seed 004, which share:
//
//     local_data = local()
//     def fun(n):
//         for i in range(n):
//             try:
//                 local_data.num += i
//             except:
//                 local_data.num = i
//             print('\n%s local_data is : %s' % (current_thread().name,
//                                               local_data.num))
//         return local_data.num
//
// 1. submit, then done() a second later, then shutdown():
//
//     pool = ThreadPoolExecutor(max_workers=2)
//     task1 = pool.submit(fun,5)
//     task2 = pool.submit(fun,10)
//     sleep(1)
//     print("task1:",task1.done())
//     print("task2:",task2.done())
//     pool.shutdown()
//
// 2. the same with `with ThreadPoolExecutor(max_workers=2) as pool:`, which
//    waits for the tasks as it leaves the block: done() is then True. In C++
//    the pool is a scoped object; its destructor shuts it down and waits.
//
// 3. map: `for i in pool.map(fun,(5,10)): print(i)`, results in input order.
//
// The port also prints each task's result(), which the seed only returns.
// The thread-local starts at 0 (the seed's `except` sets it to the first i,
// which is 0 too). It lives as long as the worker thread, so a worker that
// runs both tasks adds them up (10 + 45 = 55), in Python as here. The
// seed's leading '\n' kept Python's lines apart; tour::print writes whole.
#include <array>

#include "concur/futures.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
using concur::futures::Future;
using concur::futures::ThreadPoolExecutor;
using concur::threading::current_thread;

// One number per thread, each starting at 0.
concur::threading::local<int> local_data;

int fun(int n) {
  for (int i = 0; i < n; ++i) {
    *local_data += i;
    tour::print("%s local_data is : %d\n", current_thread().name().c_str(),
                *local_data);
  }
  return *local_data;
}

const char* py(bool b) { return b ? "True" : "False"; }

int main() {
  tour::print("--- submit, then done() one second later\n");
  {
    ThreadPoolExecutor pool(2);
    Future<int> task1 = pool.submit(fun, 5);
    Future<int> task2 = pool.submit(fun, 10);
    tour::sleep(1s);
    tour::print("task1: %s\n", py(task1.done()));
    tour::print("task2: %s\n", py(task2.done()));
    pool.shutdown();
  }

  tour::print("--- the pool as a scoped object (Python's `with`)\n");
  Future<int> task1;
  Future<int> task2;
  {
    ThreadPoolExecutor pool(2);
    task1 = pool.submit(fun, 5);
    task2 = pool.submit(fun, 10);
  }  // ~ThreadPoolExecutor: shutdown(wait=true)
  tour::print("task1: %s\n", py(task1.done()));
  tour::print("task2: %s\n", py(task2.done()));
  tour::print("task1.result(): %d\n", task1.result());
  tour::print("task2.result(): %d\n", task2.result());

  tour::print("--- map\n");
  ThreadPoolExecutor pool(2);
  for (int i : pool.map(fun, std::array{5, 10})) tour::print("%d\n", i);
}
