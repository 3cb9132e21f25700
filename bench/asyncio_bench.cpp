// Benchmarks for concur's asyncio: 100,000 tasks gathered, each sleeping
// one pass; the memory of an idle task; one task yielding to the loop;
// create_task and await of a task; call_soon; a Queue between two tasks;
// echo over loopback TCP; an HTTP "hello" server under wrk, and nginx on
// the same work. Python's peer is bench/peers/python/asyncio_peer.py.
//
// Names are "<workload>/<implementation>"; bench/peers/run.py pairs them.
#include <malloc.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "concur/asyncio.hpp"
#include "concur/subprocess.hpp"
#include "peers/echo_workloads.hpp"
#include "peers/http_workloads.hpp"

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

// --- HTTP "hello" under wrk (peers/http_workloads.hpp)
// ------------------------

namespace {

namespace hw = concur_bench::http_workloads;
namespace sp = concur::subprocess;

asyncio::Task<void> hello_session(asyncio::StreamReader reader,
                                  asyncio::StreamWriter writer) {
  const std::string end_of_head = "\r\n\r\n";
  try {
    for (;;) {
      auto reading = reader.readuntil(end_of_head);
      std::string head = co_await std::move(reading);
      writer.write(hw::kResponse);
      co_await writer.drain();
    }
  } catch (const asyncio::IncompleteReadError&) {
    // wrk closed the connection between requests.
  } catch (const concur::ConnectionError&) {
    // wrk's connections may end with a reset when it stops.
  }
  writer.close();
}

// Records wrk's run as one iteration of `requests` operations.
bool record(benchmark::State& state, const std::string& report,
            double& requests) {
  try {
    const hw::WrkResult r = hw::parse_wrk(report);
    state.SetIterationTime(r.seconds);
    requests = r.requests;
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
}

asyncio::Task<void> http_run(benchmark::State* state) {
  asyncio::Server server =
      co_await asyncio::start_server(hello_session, "127.0.0.1", 0);
  const int port = server.sockets().at(0).port;
  double requests = 0;
  for (auto _ : *state) {
    // The loop serves wrk's connections while it waits for wrk's report.
    asyncio::Process wrk = asyncio::create_subprocess_exec(
        sp::Args(hw::wrk_args(port)), {.stdout = asyncio::PIPE});
    auto running = wrk.communicate();
    std::pair<std::string, std::string> report = co_await std::move(running);
    if (!record(*state, report.first, requests)) break;
  }
  server.close();
  co_await server.wait_closed();
  state->counters["ops_per_iteration"] = requests;
}

void asyncio_http_hello(benchmark::State& state) {
  asyncio::run(http_run(&state));
}
BENCHMARK(asyncio_http_hello)
    ->Name("asyncio_http_hello/concur")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// A port free a moment ago, for nginx (which cannot be given port 0).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof at;
  const bool ok =
      fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size) == 0;
  if (fd >= 0) ::close(fd);
  return ok ? ntohs(at.sin_port) : -1;
}

bool listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool up = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&to),
                                       sizeof to) == 0;
  if (fd >= 0) ::close(fd);
  return up;
}

// nginx, a master and one worker process, answering kResponse's body with
// `return 200` (nginx adds its Server and Date headers).
void asyncio_http_hello_nginx(benchmark::State& state) {
  std::string dir = "/tmp/concur-bench-nginx-" + std::string(6, 'X');
  const int port = free_port();
  if (::mkdtemp(dir.data()) == nullptr || port < 0) {
    state.SkipWithError("no directory or port for nginx");
    return;
  }
  std::ofstream(dir + "/nginx.conf")
      << "daemon off;\nworker_processes 1;\nerror_log stderr;\n"
         "pid nginx.pid;\nevents { worker_connections 1024; }\n"
         "http {\n  access_log off;\n  keepalive_requests 1000000;\n"
         "  client_body_temp_path body;\n  proxy_temp_path proxy;\n"
         "  fastcgi_temp_path fastcgi;\n  uwsgi_temp_path uwsgi;\n"
         "  scgi_temp_path scgi;\n  server {\n    listen 127.0.0.1:"
      << port
      << ";\n    location / { default_type text/plain; return 200 hello; }\n"
         "  }\n}\n";
  sp::Popen nginx(
      {"/usr/sbin/nginx", "-p", dir, "-c", "nginx.conf", "-e", "stderr"},
      {.stdout = sp::DEVNULL, .stderr = sp::DEVNULL});
  // Nothing tells when nginx listens but a connection it takes.
  for (int i = 0; i < 2000 && !nginx.poll() && !listening(port); ++i) {
    ::usleep(5000);
  }
  double requests = 0;
  for (auto _ : state) {
    const sp::CompletedProcess wrk =
        sp::run(sp::Args(hw::wrk_args(port)), {.capture_output = true});
    if (!record(state, wrk.stdout, requests)) break;
  }
  nginx.terminate();
  nginx.wait();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  state.counters["ops_per_iteration"] = requests;
}
BENCHMARK(asyncio_http_hello_nginx)
    ->Name("asyncio_http_hello/nginx")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
