// Benchmarks for concur's asyncio: 100,000 tasks gathered, each sleeping
// one pass; the memory of an idle task; one task yielding to the loop;
// create_task and await of a task; call_soon; a Queue between two tasks.
// Python's peer is bench/peers/python/asyncio_peer.py.
//
// Names are "<workload>/<implementation>"; bench/peers/run.py pairs them.
#include <malloc.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/asyncio.hpp"
#include "peers/echo_workloads.hpp"

namespace {

namespace asyncio = concur::asyncio;
using namespace std::chrono_literals;

constexpr int kGathered = 100'000;

asyncio::Task<void> one_pass() { co_await asyncio::sleep(0s); }

asyncio::Task<void> gather_many(int n) {
  std::vector<asyncio::Task<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tasks.push_back(one_pass());
  auto results = co_await asyncio::gather(std::move(tasks));
  benchmark::DoNotOptimize(results.data());
}

void asyncio_gather_sleep0(benchmark::State& state) {
  asyncio::Runner runner;
  for (auto _ : state) runner.run(gather_many(kGathered));
  state.counters["ops_per_iteration"] = kGathered;
}
BENCHMARK(asyncio_gather_sleep0)
    ->Name("asyncio_gather_sleep0/concur")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

asyncio::Task<void> idle(asyncio::Event* event) { co_await event->wait(); }

asyncio::Task<void> measure_idle(int n, double* bytes_per_task) {
  asyncio::Event event;
  std::vector<asyncio::Task<void>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  const std::size_t before = mallinfo2().uordblks;
  for (int i = 0; i < n; ++i)
    tasks.push_back(asyncio::create_task(idle(&event)));
  co_await asyncio::sleep(0s);  // every task is now waiting on the event
  const std::size_t after = mallinfo2().uordblks;
  *bytes_per_task = static_cast<double>(after - before) / n;
  event.set();
  co_await asyncio::gather(std::move(tasks));
}

// Bytes malloc holds per task started and waiting on an Event, frame
// included, as a counter; the time is of no interest.
void asyncio_idle_task_bytes(benchmark::State& state) {
  asyncio::Runner runner;
  double bytes = 0;
  for (auto _ : state) runner.run(measure_idle(kGathered, &bytes));
  state.counters["idle_task_bytes"] = bytes;
  state.counters["task_state_bytes"] =
      sizeof(concur::asyncio_detail::TaskPromise<void>);
}
BENCHMARK(asyncio_idle_task_bytes)
    ->Name("asyncio_idle_task_bytes/concur")
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

asyncio::Task<void> yield_loop(benchmark::State* state) {
  for (auto _ : *state) co_await asyncio::sleep(0s);
}

void asyncio_sleep0(benchmark::State& state) {
  asyncio::run(yield_loop(&state));
}
BENCHMARK(asyncio_sleep0)->Name("asyncio_sleep0/concur")->UseRealTime();

asyncio::Task<int> child() { co_return 1; }

asyncio::Task<void> spawn_loop(benchmark::State* state) {
  for (auto _ : *state) {
    auto t = asyncio::create_task(child());
    int v = co_await t;
    benchmark::DoNotOptimize(v);
  }
}

void asyncio_create_task(benchmark::State& state) {
  asyncio::run(spawn_loop(&state));
}
BENCHMARK(asyncio_create_task)
    ->Name("asyncio_create_task/concur")
    ->UseRealTime();

asyncio::Task<void> inline_loop(benchmark::State* state) {
  for (auto _ : *state) {
    int v = co_await child();
    benchmark::DoNotOptimize(v);
  }
}

void asyncio_await_coroutine(benchmark::State& state) {
  asyncio::run(inline_loop(&state));
}
BENCHMARK(asyncio_await_coroutine)
    ->Name("asyncio_await_coroutine/concur")
    ->UseRealTime();

void asyncio_call_soon(benchmark::State& state) {
  asyncio::EventLoop loop;
  constexpr int kBatch = 1000;
  for (auto _ : state) {
    int left = kBatch;
    for (int i = 0; i < kBatch; ++i) {
      loop.call_soon([&] {
        if (--left == 0) loop.stop();
      });
    }
    loop.run_forever();
  }
  state.counters["ops_per_iteration"] = kBatch;
}
BENCHMARK(asyncio_call_soon)->Name("asyncio_call_soon/concur")->UseRealTime();

asyncio::Task<void> produce(asyncio::Queue<int>* q, int n) {
  for (int i = 0; i < n; ++i) co_await q->put(i);
}

asyncio::Task<void> consume(asyncio::Queue<int>* q, int n) {
  for (int i = 0; i < n; ++i) {
    int v = co_await q->get();
    benchmark::DoNotOptimize(v);
  }
}

asyncio::Task<void> queue_pair(int n) {
  asyncio::Queue<int> q(64);
  auto c = asyncio::create_task(consume(&q, n));
  co_await produce(&q, n);
  co_await c;
}

void asyncio_queue(benchmark::State& state) {
  constexpr int kItems = 10'000;
  asyncio::Runner runner;
  for (auto _ : state) runner.run(queue_pair(kItems));
  state.counters["ops_per_iteration"] = kItems;
}
BENCHMARK(asyncio_queue)->Name("asyncio_queue/concur")->UseRealTime();

}  // namespace

// --- echo over loopback TCP (peers/echo_workloads.hpp)
// -------------------------

namespace {

namespace ew = concur_bench::echo_workloads;

asyncio::Task<void> echo_session(asyncio::StreamReader reader,
                                 asyncio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
}

asyncio::Task<void> echo_client(int port, int rounds) {
  asyncio::Connection c = co_await asyncio::open_connection("127.0.0.1", port);
  const std::string message(ew::kMessageBytes, 'm');
  for (int i = 0; i < rounds; ++i) {
    c.writer.write(message);
    std::string back = co_await c.reader.readexactly(message.size());
    benchmark::DoNotOptimize(back.data());
  }
  c.writer.close();
  co_await c.writer.wait_closed();
}

asyncio::Task<void> echo_run(benchmark::State* state, int connections,
                             int rounds) {
  asyncio::Server server =
      co_await asyncio::start_server(echo_session, "127.0.0.1", 0);
  const int port = server.sockets().at(0).port;
  for (auto _ : *state) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<asyncio::Task<void>> clients;
    for (int i = 0; i < connections; ++i) {
      clients.push_back(echo_client(port, rounds));
    }
    co_await asyncio::gather(std::move(clients));
    state->SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  server.close();
  co_await server.wait_closed();
  state->counters["ops_per_iteration"] = connections * rounds;
}

void asyncio_echo_1(benchmark::State& state) {
  asyncio::run(echo_run(&state, 1, ew::kRoundsOne));
}
BENCHMARK(asyncio_echo_1)
    ->Name("asyncio_echo_1/concur")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void asyncio_echo_100(benchmark::State& state) {
  asyncio::run(echo_run(&state, ew::kConnections, ew::kRoundsEach));
}
BENCHMARK(asyncio_echo_100)
    ->Name("asyncio_echo_100/concur")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
