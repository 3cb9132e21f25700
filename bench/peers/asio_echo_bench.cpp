// Asio's C++20 coroutines on the echo workloads (peers/echo_workloads.hpp)
// and the HTTP "hello" workload (peers/http_workloads.hpp): the peer of
// bench/asyncio_bench.cpp's asyncio_echo_1, _100 and asyncio_http_hello. A
// server and its clients on one io_context, one thread, over loopback TCP: the
// server session reads what is there (async_read_some) and writes it back
// (async_write); each client writes its message and reads it back whole
// (async_read), with TCP_NODELAY as concur and Python set it. Standalone
// Asio (Debian: libasio-dev); built with g++ only, since Asio 1.22 turns
// its coroutine support off under clang 14 with libstdc++.
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "benchmark/benchmark.h"
#include "echo_workloads.hpp"
#include "http_workloads.hpp"

namespace {

namespace ew = concur_bench::echo_workloads;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

awaitable<void> session(tcp::socket socket) {
  std::array<char, 64 * 1024> data;
  asio::error_code ec;
  for (;;) {
    const std::size_t n = co_await socket.async_read_some(
        asio::buffer(data), asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    co_await asio::async_write(socket, asio::buffer(data.data(), n),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
}

using Session = awaitable<void> (*)(tcp::socket);

awaitable<void> listen(tcp::acceptor& acceptor, Session session) {
  asio::error_code ec;
  for (;;) {
    tcp::socket socket =
        co_await acceptor.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), session(std::move(socket)),
                   asio::detached);
  }
}

awaitable<void> client(tcp::endpoint to, int rounds, int* left,
                       asio::io_context* io) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(to, use_awaitable);
  socket.set_option(tcp::no_delay(true));
  const std::string message(ew::kMessageBytes, 'm');
  std::string back(ew::kMessageBytes, '\0');
  for (int i = 0; i < rounds; ++i) {
    co_await asio::async_write(socket, asio::buffer(message), use_awaitable);
    co_await asio::async_read(socket, asio::buffer(back), use_awaitable);
    benchmark::DoNotOptimize(back.data());
  }
  socket.close();
  if (--*left == 0) io->stop();
}

void echo(benchmark::State& state, int connections, int rounds) {
  asio::io_context io(1);
  tcp::acceptor acceptor(io,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const tcp::endpoint to = acceptor.local_endpoint();
  asio::co_spawn(io, listen(acceptor, session), asio::detached);
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    int left = connections;
    for (int i = 0; i < connections; ++i) {
      asio::co_spawn(io, client(to, rounds, &left, &io), asio::detached);
    }
    io.restart();
    io.run();
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  state.counters["ops_per_iteration"] = connections * rounds;
}

void asyncio_echo_1(benchmark::State& state) { echo(state, 1, ew::kRoundsOne); }
BENCHMARK(asyncio_echo_1)
    ->Name("asyncio_echo_1/asio")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void asyncio_echo_100(benchmark::State& state) {
  echo(state, ew::kConnections, ew::kRoundsEach);
}
BENCHMARK(asyncio_echo_100)
    ->Name("asyncio_echo_100/asio")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// --- HTTP "hello": a session reads each request's head
// (async_read_until) and writes the answer (async_write).

namespace hw = concur_bench::http_workloads;

awaitable<void> hello_session(tcp::socket socket) {
  std::string buffer;
  asio::error_code ec;
  for (;;) {
    const std::size_t n = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(buffer), "\r\n\r\n",
        asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    buffer.erase(0, n);
    co_await asio::async_write(socket, asio::buffer(hw::kResponse),
                               asio::redirect_error(use_awaitable, ec));
    if (ec) break;
  }
}

// wrk's report (its stdout), through popen: the arguments need no quoting.
std::string run_wrk(int port) {
  std::string command;
  for (const std::string& arg : hw::wrk_args(port)) command += arg + " ";
  std::string report;
  if (FILE* wrk = ::popen(command.c_str(), "r")) {
    char chunk[4096];
    std::size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, wrk)) > 0) {
      report.append(chunk, n);
    }
    ::pclose(wrk);
  }
  return report;
}

void asyncio_http_hello(benchmark::State& state) {
  asio::io_context io(1);
  tcp::acceptor acceptor(io,
                         tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  asio::co_spawn(io, listen(acceptor, hello_session), asio::detached);
  double requests = 0;
  for (auto _ : state) {
    std::string report;
    // wrk runs beside the loop; its end stops the loop.
    std::thread wrk([&report, &io, port] {
      report = run_wrk(port);
      asio::post(io, [&io] { io.stop(); });
    });
    io.restart();
    io.run();
    wrk.join();
    try {
      const hw::WrkResult r = hw::parse_wrk(report);
      state.SetIterationTime(r.seconds);
      requests = r.requests;
    } catch (const std::exception& e) {
      state.SkipWithError(e.what());
      break;
    }
  }
  state.counters["ops_per_iteration"] = requests;
}
BENCHMARK(asyncio_http_hello)
    ->Name("asyncio_http_hello/asio")
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
