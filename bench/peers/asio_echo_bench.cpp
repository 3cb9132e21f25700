// Asio's C++20 coroutines on the echo workloads (peers/echo_workloads.hpp):
// the peer of bench/asyncio_bench.cpp's asyncio_echo_1 and _100. A server
// and its clients on one io_context, one thread, over loopback TCP: the
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
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <chrono>
#include <string>

#include "benchmark/benchmark.h"
#include "echo_workloads.hpp"

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

awaitable<void> listen(tcp::acceptor& acceptor) {
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
  asio::co_spawn(io, listen(acceptor), asio::detached);
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

}  // namespace
