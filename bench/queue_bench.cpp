// Benchmarks for concur::queue beside the best C++ peer doing the same work:
// moodycamel::BlockingConcurrentQueue (Debian's libconcurrentqueue-dev),
// used as its documentation shows, without producer or consumer tokens,
// since concur's queues have none either. The peer is compiled in only
// where its header is installed.
//
// Every workload moves integers from P producer threads to C consumer
// threads through one queue; consumers block in get() when it is empty. One
// iteration is one item, so the time per iteration is wall-clock time per
// item: 1 / throughput. Names are "<workload>/<implementation>", which
// bench/peers/run.py pairs with bench/peers/python/queue_peer.py.
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/queue.hpp"

#if __has_include(<concurrentqueue/blockingconcurrentqueue.h>)
#include <concurrentqueue/blockingconcurrentqueue.h>
#define CONCUR_BENCH_MOODYCAMEL 1
#endif

namespace {

namespace queue = concur::queue;

// Items per timed batch: large enough that starting and joining the threads
// (outside the clock) and the first touches of a new queue are noise.
constexpr std::int64_t kBatch = std::int64_t{1} << 20;

// Each batch runs on a new queue and new threads, created while the clock
// is paused and released together; the clock runs from their release until
// the last of them is joined, so that the time includes draining the queue.
template <class Adapter, int kProducers, int kConsumers>
void transfer(benchmark::State& state) {
  std::int64_t checksum = 0;
  while (state.KeepRunningBatch(kBatch)) {
    state.PauseTiming();
    auto channel = std::make_unique<Adapter>();
    std::atomic<bool> go{false};
    std::atomic<std::int64_t> sum{0};
    std::vector<std::thread> threads;
    threads.reserve(kProducers + kConsumers);
    for (int p = 0; p < kProducers; ++p) {
      threads.emplace_back([&] {
        go.wait(false);
        for (std::int64_t i = 0; i < kBatch / kProducers; ++i) {
          channel->put(static_cast<int>(i));
        }
      });
    }
    for (int c = 0; c < kConsumers; ++c) {
      threads.emplace_back([&] {
        go.wait(false);
        std::int64_t local = 0;
        for (std::int64_t i = 0; i < kBatch / kConsumers; ++i) {
          local += channel->get();
        }
        sum.fetch_add(local, std::memory_order_relaxed);
      });
    }
    state.ResumeTiming();
    go.store(true);
    go.notify_all();
    for (auto& thread : threads) thread.join();
    checksum += sum.load(std::memory_order_relaxed);
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(state.iterations());
}

struct ConcurQueue {
  void put(int item) { q.put(item); }
  int get() { return q.get(); }
  queue::Queue<int> q;
};

struct ConcurSimpleQueue {
  void put(int item) { q.put(item); }
  int get() { return q.get(); }
  queue::SimpleQueue<int> q;
};

BENCHMARK(transfer<ConcurQueue, 1, 1>)
    ->Name("queue_1p1c/concur")
    ->UseRealTime();
BENCHMARK(transfer<ConcurQueue, 2, 2>)
    ->Name("queue_2p2c/concur")
    ->UseRealTime();
BENCHMARK(transfer<ConcurSimpleQueue, 1, 1>)
    ->Name("simple_queue_1p1c/concur")
    ->UseRealTime();
BENCHMARK(transfer<ConcurSimpleQueue, 2, 2>)
    ->Name("simple_queue_2p2c/concur")
    ->UseRealTime();

#ifdef CONCUR_BENCH_MOODYCAMEL
struct Moodycamel {
  void put(int item) { q.enqueue(item); }
  int get() {
    int item;
    q.wait_dequeue(item);
    return item;
  }
  moodycamel::BlockingConcurrentQueue<int> q;
};

// One peer for both concur queues: the workload is the same.
BENCHMARK(transfer<Moodycamel, 1, 1>)
    ->Name("queue_1p1c/moodycamel")
    ->UseRealTime();
BENCHMARK(transfer<Moodycamel, 2, 2>)
    ->Name("queue_2p2c/moodycamel")
    ->UseRealTime();
#endif

}  // namespace
