// Streams over TCP and Unix sockets, against concur itself and real peers
// started by the tests: curl, a Python asyncio client, Python's
// http.server; a peer that resets, one that goes away, 10,000 connections
// at once, and no descriptor left behind (Python's test_streams is the
// checklist).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/open_fds.hpp"
#include "concur/asyncio.hpp"
#include "concur/multiprocessing.hpp"
#include "concur/subprocess.hpp"

namespace asyncio = concur::asyncio;
namespace sp = concur::subprocess;
using namespace std::chrono_literals;

namespace {

// Echoes every line back until the end of the stream.
asyncio::Task<void> echo_lines(asyncio::StreamReader reader,
                               asyncio::StreamWriter writer) {
  for (;;) {
    std::optional<std::string> line = co_await reader.next_line();
    if (!line) break;
    writer.write(*line);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

int port_of(const asyncio::Server& server) {
  return server.sockets().at(0).port;
}

asyncio::Task<void> echo_round_trip() {
  asyncio::Server server =
      co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
  EXPECT_TRUE(server.is_serving());
  const int port = port_of(server);
  EXPECT_GT(port, 0);
  asyncio::Connection c = co_await asyncio::open_connection("127.0.0.1", port);
  auto peer = c.writer.get_extra_info("peername");
  EXPECT_TRUE(peer.has_value());
  if (!peer) co_return;
  EXPECT_EQ(peer->host, "127.0.0.1");
  EXPECT_EQ(peer->port, port);
  EXPECT_FALSE(c.writer.get_extra_info("nonsense").has_value());
  c.writer.write("hello\n");
  c.writer.writelines({"two ", "parts\n"});
  std::string one = co_await c.reader.readline();
  std::string two = co_await c.reader.readline();
  EXPECT_EQ(one, "hello\n");
  EXPECT_EQ(two, "two parts\n");
  c.writer.write("tail without newline");
  c.writer.write_eof();
  std::string rest = co_await c.reader.read();
  EXPECT_EQ(rest, "tail without newline");
  EXPECT_TRUE(c.reader.at_eof());
  std::string after = co_await c.reader.readline();
  EXPECT_EQ(after, "");
  c.writer.close();
  co_await c.writer.wait_closed();
  EXPECT_TRUE(c.writer.is_closing());
  server.close();
  co_await server.wait_closed();
  EXPECT_FALSE(server.is_serving());
}

TEST(Streams, EchoOverTcpInOneLoop) { asyncio::run(echo_round_trip()); }

// Sends a fixed script of bytes, then closes.
asyncio::Task<void> send_script(asyncio::StreamReader,
                                asyncio::StreamWriter writer) {
  writer.write("line one\nsecond line with more\nxyz--end--rest");
  co_await writer.drain();
  writer.close();
}

asyncio::Task<void> read_forms() {
  asyncio::Server server =
      co_await asyncio::start_server(send_script, "127.0.0.1", 0);
  asyncio::Connection c = co_await asyncio::open_connection(
      "127.0.0.1", port_of(server), {.limit = 16});
  std::string first = co_await c.reader.readexactly(5);
  EXPECT_EQ(first, "line ");
  std::string until = co_await c.reader.readuntil("\n");
  EXPECT_EQ(until, "one\n");
  // "second line with more\n" is 22 bytes: past the limit of 16.
  EXPECT_THROW(co_await c.reader.readline(), concur::ValueError);
  std::string sep = co_await c.reader.readuntil("--end--");
  EXPECT_EQ(sep, "xyz--end--");
  std::string incomplete_text;
  try {
    co_await c.reader.readexactly(36);
  } catch (const asyncio::IncompleteReadError& e) {
    incomplete_text = e.what();
    EXPECT_EQ(e.partial(), "rest");
    EXPECT_EQ(e.expected(), 36u);
  }
  EXPECT_EQ(incomplete_text, "4 bytes read on a total of 36 expected bytes");
  EXPECT_THROW(co_await c.reader.readexactly(-1), concur::ValueError);
  EXPECT_THROW(co_await c.reader.readuntil(""), concur::ValueError);
  std::string empty = co_await c.reader.read(10);
  EXPECT_EQ(empty, "");
  server.close();
  co_await server.wait_closed();
}

TEST(Streams, ReadFormsAndTheirErrors) { asyncio::run(read_forms()); }

TEST(Streams, IncompleteReadErrorReadsAsPythons) {
  asyncio::IncompleteReadError e(std::string(18, 'x'), 36);
  EXPECT_STREQ(e.what(), "18 bytes read on a total of 36 expected bytes");
  asyncio::IncompleteReadError none("ab", std::nullopt);
  EXPECT_STREQ(none.what(),
               "2 bytes read on a total of undefined expected bytes");
}

asyncio::Task<void> limit_overrun() {
  asyncio::Server server =
      co_await asyncio::start_server(send_script, "127.0.0.1", 0);
  asyncio::Connection c = co_await asyncio::open_connection(
      "127.0.0.1", port_of(server), {.limit = 4});
  bool overrun = false;
  try {
    co_await c.reader.readuntil("--end--");
  } catch (const asyncio::LimitOverrunError& e) {
    overrun = e.consumed() > 4;
  }
  EXPECT_TRUE(overrun);
  // The data stays in the buffer.
  std::string first = co_await c.reader.readexactly(4);
  EXPECT_EQ(first, "line");
  server.close();
}

TEST(Streams, ReaduntilPastTheLimitRaisesLimitOverrunError) {
  asyncio::run(limit_overrun());
}

// A minimal HTTP server: one response per connection.
asyncio::Task<void> hello_http(asyncio::StreamReader reader,
                               asyncio::StreamWriter writer) {
  std::string request = co_await reader.readuntil("\r\n\r\n");
  const bool get = request.rfind("GET / HTTP/1.1\r\n", 0) == 0;
  writer.write(get ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: "
                     "close\r\n\r\nhello"
                   : "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Task<std::string> curl_it() {
  asyncio::Server server =
      co_await asyncio::start_server(hello_http, "127.0.0.1", 0);
  const std::string url =
      "http://127.0.0.1:" + std::to_string(port_of(server)) + "/";
  // The lambda outside the co_await's expression (g++ 12 miscompiles a
  // capturing lambda beside a co_await).
  auto curl = asyncio::to_thread([url] {
    return sp::run({"curl", "-s", "--max-time", "20", url},
                   {.capture_output = true});
  });
  sp::CompletedProcess done = co_await curl;
  EXPECT_EQ(done.returncode, 0) << done.stderr;
  server.close();
  co_await server.wait_closed();
  co_return done.stdout;
}

TEST(Streams, AConcurServerHitByCurl) {
  EXPECT_EQ(asyncio::run(curl_it()), "hello");
}

constexpr const char* kPythonClient = R"(
import asyncio, sys
async def main(port):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    got = []
    for i in range(100):
        writer.write(f'line {i}\n'.encode())
        await writer.drain()
        got.append((await reader.readline()).decode())
    writer.close()
    await writer.wait_closed()
    print(sum(1 for i, g in enumerate(got) if g == f'line {i}\n'))
asyncio.run(main(int(sys.argv[1])))
)";

asyncio::Task<std::string> python_client() {
  asyncio::Server server =
      co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
  const std::string port = std::to_string(port_of(server));
  auto client = asyncio::to_thread([port] {
    return sp::run({"python3", "-c", kPythonClient, port},
                   {.capture_output = true, .timeout = 60s});
  });
  sp::CompletedProcess done = co_await client;
  EXPECT_EQ(done.returncode, 0) << done.stderr;
  server.close();
  co_await server.wait_closed();
  co_return done.stdout;
}

TEST(Streams, AConcurServerAndAPythonAsyncioClient) {
  EXPECT_EQ(asyncio::run(python_client()), "100\n");
}

// Python's http.server on a port of its choosing; the port is read from
// the line it prints.
asyncio::Task<std::string> against_http_server() {
  sp::Popen server(
      {"python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1"},
      {.stdout = sp::PIPE, .stderr = sp::DEVNULL, .cwd = "/"});
  auto first_line = asyncio::to_thread([&server] {
    for (const std::string& line : server.lines()) return line;
    return std::string();
  });
  std::string banner = co_await first_line;
  // "Serving HTTP on 127.0.0.1 port 40603 (http://127.0.0.1:40603/) ..."
  const auto at = banner.find(" port ");
  EXPECT_NE(at, std::string::npos) << banner;
  const int port = std::atoi(banner.c_str() + at + 6);
  asyncio::Connection c = co_await asyncio::open_connection("127.0.0.1", port);
  c.writer.write("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
  std::string status = co_await c.reader.readline();
  std::string rest = co_await c.reader.read();
  EXPECT_FALSE(rest.empty());
  c.writer.close();
  server.kill();
  (void)server.wait();
  co_return status;
}

TEST(Streams, AConcurClientAgainstPythonsHttpServer) {
  std::string status = asyncio::run(against_http_server());
  EXPECT_EQ(status.rfind("HTTP/1.0 200", 0), 0u) << status;
}

// Connects with a plain blocking socket and resets the connection (an
// RST, through SO_LINGER 0) after a partial line.
void reset_after_partial(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  ASSERT_EQ(::write(fd, "partial", 7), 7);
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

struct ResetSeen {
  bool reset = false;
  asyncio::Event done;
};

asyncio::Task<void> read_until_reset(asyncio::StreamReader reader,
                                     asyncio::StreamWriter writer,
                                     ResetSeen* seen) {
  try {
    co_await reader.readexactly(100);
  } catch (const concur::ConnectionResetError&) {
    seen->reset = true;
  } catch (const asyncio::IncompleteReadError&) {
    // The data came and then the end: some kernels report the RST as EOF.
    seen->reset = true;
  }
  writer.close();
  seen->done.set();
}

asyncio::Task<bool> reset_mid_stream() {
  ResetSeen seen;
  // Made apart from the co_await (see concur/asyncio.hpp).
  asyncio::ClientConnected handler = [&seen](asyncio::StreamReader r,
                                             asyncio::StreamWriter w) {
    return read_until_reset(std::move(r), std::move(w), &seen);
  };
  auto starting = asyncio::start_server(handler, "127.0.0.1", 0);
  asyncio::Server server = co_await starting;
  reset_after_partial(port_of(server));
  co_await seen.done.wait();
  server.close();
  co_await server.wait_closed();
  co_return seen.reset;
}

TEST(Streams, APeerThatResetsMidStreamGivesADefinedError) {
  EXPECT_TRUE(asyncio::run(reset_mid_stream()));
}

asyncio::Task<void> flood(asyncio::StreamReader, asyncio::StreamWriter writer,
                          std::string* outcome) {
  const std::string chunk(64 * 1024, 'z');
  try {
    for (int i = 0; i < 100000; ++i) {
      writer.write(chunk);
      co_await writer.drain();
    }
    *outcome = "never raised";
  } catch (const concur::ConnectionError& e) {
    *outcome = e.type_name();
  }
}

asyncio::Task<std::string> drain_to_gone_peer() {
  std::string outcome;
  // Made apart from the co_await (see concur/asyncio.hpp).
  asyncio::ClientConnected handler = [&outcome](asyncio::StreamReader r,
                                                asyncio::StreamWriter w) {
    return flood(std::move(r), std::move(w), &outcome);
  };
  auto starting = asyncio::start_server(handler, "127.0.0.1", 0);
  asyncio::Server server = co_await starting;
  {
    asyncio::Connection c =
        co_await asyncio::open_connection("127.0.0.1", port_of(server));
    std::string some = co_await c.reader.readexactly(1000);
    EXPECT_EQ(some.size(), 1000u);
    c.writer.close();  // unread data: the kernel resets the connection
  }
  server.close();
  co_await server.wait_closed();
  co_return outcome;
}

TEST(Streams, DrainToAPeerThatHasGoneRaisesAConnectionError) {
  const std::string outcome = asyncio::run(drain_to_gone_peer());
  EXPECT_TRUE(outcome == "ConnectionResetError" || outcome == "BrokenPipeError")
      << outcome;
}

asyncio::Task<void> unix_round_trip(std::string path) {
  asyncio::Server server =
      co_await asyncio::start_unix_server(echo_lines, path);
  EXPECT_EQ(server.sockets().at(0).path, path);
  asyncio::Connection c = co_await asyncio::open_unix_connection(path);
  c.writer.write("over unix\n");
  std::string line = co_await c.reader.readline();
  EXPECT_EQ(line, "over unix\n");
  c.writer.close();
  server.close();
  co_await server.wait_closed();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the socket file is gone
}

TEST(Streams, UnixSocketsAndTheirFileRemovedOnClose) {
  const std::string path =
      "/tmp/concur-streams-" + std::to_string(::getpid()) + ".sock";
  asyncio::run(unix_round_trip(path));
}

asyncio::Task<void> misuse() {
  EXPECT_THROW(co_await asyncio::start_server(echo_lines, "", 0),
               concur::ValueError);
  EXPECT_THROW(co_await asyncio::start_server(echo_lines, "127.0.0.1", 70000),
               concur::ValueError);
  EXPECT_THROW(co_await asyncio::start_server(nullptr, "127.0.0.1", 0),
               concur::ValueError);
  EXPECT_THROW(co_await asyncio::open_connection("", 1), concur::ValueError);
  asyncio::Server server =
      co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
  const int port = port_of(server);
  server.close();
  co_await server.wait_closed();
  EXPECT_THROW(co_await asyncio::open_connection("127.0.0.1", port),
               concur::ConnectionRefusedError);
  EXPECT_THROW(co_await asyncio::open_connection("no-such-host.invalid", 80),
               concur::OSError);
  asyncio::Server again =
      co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
  EXPECT_THROW(
      co_await asyncio::start_server(echo_lines, "127.0.0.1", port_of(again)),
      concur::OSError);  // EADDRINUSE
  asyncio::Connection c =
      co_await asyncio::open_connection("127.0.0.1", port_of(again));
  auto first = asyncio::create_task(c.reader.readline());
  co_await asyncio::sleep(0s);
  EXPECT_THROW(co_await c.reader.readline(),
               concur::RuntimeError);  // two readers
  c.writer.write("x\n");
  std::string line = co_await first;
  EXPECT_EQ(line, "x\n");
  c.writer.close();
  EXPECT_THROW(c.writer.write("late"), concur::RuntimeError);
  again.close();
  co_await again.wait_closed();
}

TEST(Streams, MisuseAndFailuresRaiseTypedErrors) { asyncio::run(misuse()); }

asyncio::Task<void> serve_then_cancel() {
  asyncio::Server server =
      co_await asyncio::start_server(echo_lines, "127.0.0.1", 0);
  auto forever = asyncio::create_task(server.serve_forever());
  co_await asyncio::sleep(1ms);
  forever.cancel();
  EXPECT_THROW(co_await forever, asyncio::CancelledError);
  EXPECT_FALSE(server.is_serving());
}

TEST(Streams, CancellingServeForeverClosesTheServer) {
  asyncio::run(serve_then_cancel());
}

asyncio::Task<void> ipv6_round_trip() {
  asyncio::Server server = co_await asyncio::start_server(echo_lines, "::1", 0);
  asyncio::Connection c =
      co_await asyncio::open_connection("::1", port_of(server));
  c.writer.write("six\n");
  std::string line = co_await c.reader.readline();
  EXPECT_EQ(line, "six\n");
  EXPECT_EQ(c.writer.get_extra_info("sockname")->host, "::1");
  c.writer.close();
  server.close();
  co_await server.wait_closed();
}

TEST(Streams, Ipv6Loopback) {
  const int probe = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (probe < 0) GTEST_SKIP() << "no IPv6 on this machine";
  ::close(probe);
  try {
    asyncio::run(ipv6_round_trip());
  } catch (const concur::OSError& e) {
    if (e.errnum() == EADDRNOTAVAIL) GTEST_SKIP() << "no ::1 on this machine";
    throw;
  }
}

// --- many connections, and descriptors
// -----------------------------------------

asyncio::Task<asyncio::Connection> one_client(int port, int id,
                                              asyncio::Semaphore* connecting) {
  // At most a backlog's worth of connects at once: past the listen queue,
  // the kernel drops SYNs and the client retries a second later.
  co_await connecting->acquire();
  asyncio::Connection c = co_await asyncio::open_connection("127.0.0.1", port);
  connecting->release();
  const std::string line = "client " + std::to_string(id) + "\n";
  c.writer.write(line);
  std::string back = co_await c.reader.readline();
  if (back != line) throw concur::ValueError("wrong echo: " + back);
  co_return c;
}

// Every client connects and gets its echo; only then do all close, so the
// server holds them all at once.
asyncio::Task<void> many_clients(int port, int n) {
  asyncio::Semaphore connecting(1000);
  std::vector<asyncio::Task<asyncio::Connection>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(one_client(port, i, &connecting));
  std::vector<asyncio::Connection> all =
      co_await asyncio::gather(std::move(tasks));
  for (auto& c : all) c.writer.close();
  for (auto& c : all) co_await c.writer.wait_closed();
}

// The clients' loop, in a process of its own (each process may hold only
// so many descriptors).
void run_clients(int port, int n) { asyncio::run(many_clients(port, n)); }

struct Held {
  int open = 0;
  int most = 0;
};

asyncio::Task<void> count_and_echo(asyncio::StreamReader reader,
                                   asyncio::StreamWriter writer, Held* held) {
  held->most = std::max(held->most, ++held->open);
  std::string line = co_await reader.readline();
  writer.write(line);
  co_await writer.drain();
  std::string end = co_await reader.read();
  --held->open;
  writer.close();
}

asyncio::Task<int> ten_thousand(int n) {
  Held held;
  // Made apart from the co_await (see concur/asyncio.hpp).
  asyncio::ClientConnected handler = [&held](asyncio::StreamReader r,
                                             asyncio::StreamWriter w) {
    return count_and_echo(std::move(r), std::move(w), &held);
  };
  auto starting =
      asyncio::start_server(handler, "127.0.0.1", 0, {.backlog = 4096});
  asyncio::Server server = co_await starting;
  concur::multiprocessing::Process clients(run_clients, port_of(server), n);
  clients.start();
  auto joined = asyncio::to_thread([&clients] {
    clients.join();
    return clients.exitcode().value_or(-1);
  });
  int exitcode = co_await joined;
  EXPECT_EQ(exitcode, 0);
  server.close();
  co_await server.wait_closed();
  EXPECT_EQ(held.open, 0);
  co_return held.most;
}

TEST(Streams, TenThousandConcurrentConnections) {
  const auto before = concur::testing::open_fds();
  const int most = asyncio::run(ten_thousand(10'000));
  EXPECT_EQ(most, 10'000);
  EXPECT_EQ(concur::testing::open_fds(), before);
}

}  // namespace
