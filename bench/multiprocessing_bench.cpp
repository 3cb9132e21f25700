// Benchmarks for concur::multiprocessing beside the same work done through
// a raw pipe and raw fork (here) and Boost.Interprocess's message_queue
// (peers/interprocess_bench.cpp); the workloads are in
// peers/process_workloads.hpp. Names are "<workload>/<implementation>",
// which bench/peers/run.py pairs with
// bench/peers/python/multiprocessing_peer.py.
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/multiprocessing.hpp"
#include "peers/process_workloads.hpp"

namespace {

namespace mp = concur::multiprocessing;
using concur_bench::blocks;
using concur_bench::transfer;

struct ConcurQueue {
  void put(int item) { q.put(item); }
  int get() { return q.get(); }
  mp::Queue<int> q;
};

BENCHMARK(transfer<ConcurQueue, 1, 1>)
    ->Name("mp_queue_1p1c/concur")
    ->UseRealTime();
BENCHMARK(transfer<ConcurQueue, 2, 2>)
    ->Name("mp_queue_2p2c/concur")
    ->UseRealTime();

// 64 KiB items through a Queue: each get makes the item's vector, as a
// Python get makes its bytes object.
struct ConcurQueueBlocks {
  void sender() {}
  void receiver() {}
  void parent() {}
  void send(const std::byte* data, std::size_t n) {
    q.put(std::vector<std::byte>(data, data + n));
  }
  std::size_t receive(std::byte* data, std::size_t n) {
    const std::vector<std::byte> item = q.get();
    const std::size_t m = std::min(n, item.size());
    std::copy_n(item.data(), m, data);
    return item.size();
  }
  mp::Queue<std::vector<std::byte>> q;
};

BENCHMARK(blocks<ConcurQueueBlocks>)
    ->Name("mp_queue_64k/concur")
    ->UseRealTime();

// A one-way Pipe: send_bytes and recv_bytes_into, the bytes framed by a
// length.
struct ConcurPipe {
  ConcurPipe() : ends(mp::Pipe(false)) {}
  void sender() { ends.first.close(); }
  void receiver() { ends.second.close(); }
  void parent() {}
  void send(const std::byte* data, std::size_t n) {
    ends.second.send_bytes(std::span(data, n));
  }
  std::size_t receive(std::byte* data, std::size_t n) {
    return ends.first.recv_bytes_into(std::span(data, n));
  }
  std::pair<mp::Connection, mp::Connection> ends;
};

BENCHMARK(blocks<ConcurPipe>)->Name("pipe_64k/concur")->UseRealTime();
BENCHMARK(blocks<concur_bench::RawPipe>)
    ->Name("pipe_64k/raw_pipe")
    ->UseRealTime();
BENCHMARK(blocks<concur_bench::RawPipe>)
    ->Name("mp_queue_64k/raw_pipe")
    ->UseRealTime();

// Start and join one process that does nothing.
void process_start_concur(benchmark::State& state) {
  for (auto _ : state) {
    mp::Process p([] {});
    p.start();
    p.join();
    if (p.exitcode() != 0) state.SkipWithError("the child failed");
  }
}
BENCHMARK(process_start_concur)->Name("process_start/concur")->UseRealTime();

void process_start_fork(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (status != 0) state.SkipWithError("the child failed");
  }
}
BENCHMARK(process_start_fork)->Name("process_start/fork")->UseRealTime();

// forkserver_start_1g: a child from the forkserver while this process
// holds 1 GiB of memory it has written (so a fork would copy its page
// tables), beside the same without the memory and a fork with it.
constexpr std::size_t kTouched = std::size_t{1} << 30;

void forkserver_noop() {}

template <bool kWithMemory>
void forkserver_start(benchmark::State& state) {
  std::vector<unsigned char> memory;
  if (kWithMemory) memory.assign(kTouched, 1);
  const mp::Context forkserver = mp::get_context("forkserver");
  auto start_join = [&] {
    mp::Process p = forkserver.Process(&forkserver_noop);
    p.start();
    p.join();
    if (p.exitcode() != 0) state.SkipWithError("the child failed");
  };
  start_join();  // the server is up before the clock starts
  for (auto _ : state) start_join();
}
BENCHMARK(forkserver_start<true>)
    ->Name("forkserver_start_1g/concur")
    ->UseRealTime();
BENCHMARK(forkserver_start<false>)
    ->Name("forkserver_start_1g/no_memory")
    ->UseRealTime();

void fork_start_with_memory(benchmark::State& state) {
  std::vector<unsigned char> memory(kTouched, 1);
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(memory[kTouched / 2] == 1 ? 0 : 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (status != 0) state.SkipWithError("the child failed");
  }
}
BENCHMARK(fork_start_with_memory)
    ->Name("forkserver_start_1g/fork")
    ->UseRealTime();

// pool_map_1m: Pool(2).map over a million ints with Python's default
// chunking (four chunks a worker), as the seeds' `pool.map(f, items)`; one
// operation is one item.
constexpr int kMapItems = 1'000'000;

int identity(int x) { return x; }

void pool_map_concur(benchmark::State& state) {
  mp::Pool pool(2);
  std::vector<int> items(kMapItems);
  for (int i = 0; i < kMapItems; ++i) items[static_cast<std::size_t>(i)] = i;
  static_cast<void>(pool.map(identity, items));
  for (auto _ : state) {
    const std::vector<int> out = pool.map(identity, items);
    if (out.size() != items.size() || out.back() != kMapItems - 1) {
      state.SkipWithError("wrong results");
    }
  }
  state.counters["ops_per_iteration"] = kMapItems;
}
BENCHMARK(pool_map_concur)->Name("pool_map_1m/concur")->UseRealTime();

}  // namespace
