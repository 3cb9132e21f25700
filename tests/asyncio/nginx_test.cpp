// A concur client against nginx, started by the test (through asyncio's own
// subprocess) with a configuration of its own in a fresh directory:
// keep-alive requests on one connection, a large file, the server closing
// the connection, and no descriptor or child left behind.
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "common/open_fds.hpp"
#include "common/zombie.hpp"
#include "concur/asyncio.hpp"

namespace {

using namespace std::chrono_literals;
namespace asyncio = concur::asyncio;
namespace sp = concur::subprocess;
using asyncio::Task;

constexpr std::size_t kLargeBytes = std::size_t{3} << 20;

// A port free a moment ago (the kernel's choice), for nginx to listen on.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) concur::throw_os_error(errno);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof at;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&at), &size) != 0) {
    const int error = errno;
    ::close(fd);
    concur::throw_os_error(error);
  }
  ::close(fd);
  return ntohs(at.sin_port);
}

// nginx's directory: its configuration (one process, no daemon, logs to
// stderr), a large file to serve, and its temporary files; removed at the
// end.
class NginxDir {
 public:
  explicit NginxDir(int port) {
    // mkdtemp's template: six characters it replaces.
    std::string name = "/tmp/concur-nginx-" + std::string(6, 'X');
    if (::mkdtemp(name.data()) == nullptr) concur::throw_os_error(errno);
    path_ = name;
    std::ofstream(path_ / "large.bin") << std::string(kLargeBytes, 'n');
    std::ofstream(path_ / "nginx.conf")
        << "daemon off;\n"
           "master_process off;\n"
           "error_log stderr;\n"
           "pid nginx.pid;\n"
           "events { worker_connections 64; }\n"
           "http {\n"
           "  access_log off;\n"
           "  client_body_temp_path body;\n"
           "  proxy_temp_path proxy;\n"
           "  fastcgi_temp_path fastcgi;\n"
           "  uwsgi_temp_path uwsgi;\n"
           "  scgi_temp_path scgi;\n"
           "  server {\n"
           "    listen 127.0.0.1:"
        << port
        << ";\n"
           "    root "
        << path_.string()
        << ";\n"
           "    location = /hello { return 200 \"hello from nginx\\n\"; }\n"
           "  }\n"
           "}\n";
  }
  NginxDir(const NginxDir&) = delete;
  NginxDir& operator=(const NginxDir&) = delete;
  ~NginxDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Connects once nginx listens (it tells nobody when it does).
Task<asyncio::Connection> connect_when_up(int port) {
  for (int attempt = 0;; ++attempt) {
    try {
      asyncio::Connection c =
          co_await asyncio::open_connection("127.0.0.1", port);
      co_return c;
    } catch (const concur::ConnectionRefusedError&) {
      if (attempt == 2000) throw;
    }
    co_await asyncio::sleep(5ms);
  }
}

struct Response {
  std::string status;
  std::string body;
};

// One request on `c`; the body by its Content-Length.
Task<Response> request(asyncio::Connection c, std::string path,
                       bool keep_alive) {
  c.writer.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" +
                 (keep_alive ? "" : "Connection: close\r\n") + "\r\n");
  co_await c.writer.drain();
  std::string head = co_await c.reader.readuntil("\r\n\r\n");
  Response r;
  r.status = head.substr(0, head.find("\r\n"));
  const std::string field = "Content-Length: ";
  const auto at = head.find(field);
  EXPECT_NE(at, std::string::npos) << head;
  const long length = std::atol(head.c_str() + at + field.size());
  r.body = co_await c.reader.readexactly(length);
  co_return r;
}

Task<int> against_nginx() {
  const int port = free_port();
  NginxDir dir(port);
  asyncio::Process nginx = asyncio::create_subprocess_exec(
      sp::Args({"/usr/sbin/nginx", "-p", dir.path(), "-c", "nginx.conf", "-e",
                "stderr"}),
      {.stdout = asyncio::DEVNULL, .stderr = asyncio::DEVNULL});
  Task<asyncio::Connection> connecting = connect_when_up(port);
  asyncio::Connection c = co_await std::move(connecting);
  int passed = 0;
  // Keep-alive: three requests on the one connection.
  for (int i = 0; i < 3; ++i) {
    Task<Response> asking = request(c, "/hello", true);
    Response r = co_await std::move(asking);
    EXPECT_EQ(r.status, "HTTP/1.1 200 OK");
    EXPECT_EQ(r.body, "hello from nginx\n");
    if (r.body == "hello from nginx\n") ++passed;
  }
  // A file larger than the reader's buffer limit.
  Task<Response> large = request(c, "/large.bin", true);
  Response big = co_await std::move(large);
  EXPECT_EQ(big.body.size(), kLargeBytes);
  if (big.body == std::string(kLargeBytes, 'n')) ++passed;
  // nginx closes the connection after this answer: the reader sees the end.
  Task<Response> last = request(c, "/nothing-here", false);
  Response missing = co_await std::move(last);
  EXPECT_EQ(missing.status, "HTTP/1.1 404 Not Found");
  std::string after = co_await c.reader.read();
  EXPECT_EQ(after, "");
  if (c.reader.at_eof()) ++passed;
  c.writer.close();
  co_await c.writer.wait_closed();
  nginx.terminate();
  const int code = co_await nginx.wait();
  // nginx ends on SIGTERM with its own exit (0), or by the signal.
  EXPECT_TRUE(code == 0 || code == -SIGTERM) << code;
  co_return passed;
}

TEST(Nginx, AConcurClientAgainstNginx) {
  const auto before = concur::testing::open_fds();
  EXPECT_EQ(asyncio::run(against_nginx()), 5);
  EXPECT_EQ(concur::testing::open_fds(), before);
  EXPECT_FALSE(concur::testing::has_zombie());
}

}  // namespace
