// Boost.Interprocess's message_queue (Debian's libboost-dev) on the
// multiprocessing queue workloads of process_workloads.hpp: a queue in a
// named shared memory segment, used as its documentation shows. Its
// capacity (65536 messages of one int) is of the order of concur's ring.
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "process_workloads.hpp"

namespace {

namespace bip = boost::interprocess;

struct BoostQueue {
  BoostQueue()
      : name("concur_bench_" + std::to_string(::getpid())),
        q(bip::create_only, name.c_str(), 65536, sizeof(int)) {}
  ~BoostQueue() { bip::message_queue::remove(name.c_str()); }
  void put(int item) { q.send(&item, sizeof item, 0); }
  int get() {
    int item = 0;
    std::size_t received = 0;
    unsigned int priority = 0;
    q.receive(&item, sizeof item, received, priority);
    return item;
  }
  std::string name;
  bip::message_queue q;
};

BENCHMARK(concur_bench::transfer<BoostQueue, 1, 1>)
    ->Name("mp_queue_1p1c/boost")
    ->UseRealTime();
BENCHMARK(concur_bench::transfer<BoostQueue, 2, 2>)
    ->Name("mp_queue_2p2c/boost")
    ->UseRealTime();

}  // namespace
