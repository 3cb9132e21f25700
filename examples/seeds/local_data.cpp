// local-data — two named threads add up numbers in one threading.local:
// each thread sees its own.
//
// Ports the first program of seed 004's Thread-Local Data section:
//
//     local_data = threading.local()
//     def fun(n):
//         for i in range(n):
//             try:
//                 local_data.num += i
//             except:
//                 local_data.num = i
//             time.sleep(0.1)
//             print('\n%s local_data is : %s' % (current_thread().name,
//                                               local_data.num))
//     t1 = Thread(target=fun,name='Thread1',args=(5,))
//     t2 = Thread(target=fun,name='Thread2',args=(5,))
//     # both started, then both joined
//
// local_data is one global name, but each thread that touches it gets its
// own value: both threads print 0, 1, 3, 6, 10, where one shared number
// would reach 20. In Python the first `+=` of a thread raises
// AttributeError (its local has no num yet) and the `except` sets it; a
// concur local<int> starts each thread's value at 0, which is what the
// `except` sets too. The seed's leading '\n' kept Python's lines apart;
// tour::print writes whole.
#include <vector>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Thread;
using concur::threading::ThreadOptions;

// One int per thread, each starting at 0.
concur::threading::local<int> local_data;

void fun(int n) {
  for (int i = 0; i < n; ++i) {
    *local_data += i;
    tour::sleep(100ms);
    tour::print("%s local_data is : %d\n", current_thread().name().c_str(),
                *local_data);
  }
}

int main() {
  std::vector<Thread> threads{Thread(ThreadOptions{.name = "Thread1"}, fun, 5),
                              Thread(ThreadOptions{.name = "Thread2"}, fun, 5)};
  for (Thread& t : threads) t.start();
  for (Thread& t : threads) t.join();
}
