// TLS streams: a concur server and client with a certificate made by the
// openssl command at test time, curl against a concur server, a concur
// client against openssl s_server; verification failures; misuse.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/open_fds.hpp"
#include "concur/asyncio.hpp"
#include "concur/ssl.hpp"
#include "concur/subprocess.hpp"

namespace asyncio = concur::asyncio;
namespace ssl = concur::ssl;
namespace sp = concur::subprocess;

namespace {

// A self-signed certificate for "localhost" and 127.0.0.1, in a fresh
// directory removed at the end.
class Certificate {
 public:
  Certificate() {
    // mkdtemp's template: six characters it replaces.
    std::string name = "/tmp/concur-tls-" + std::string(6, 'X');
    if (::mkdtemp(name.data()) == nullptr) concur::throw_os_error(errno);
    dir_ = name;
    sp::check_call({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                    key(), "-out", cert()},
                   {.stdout = sp::DEVNULL, .stderr = sp::DEVNULL});
  }
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;
  ~Certificate() { std::filesystem::remove_all(dir_); }
  std::string cert() const { return dir_ + "/cert.pem"; }
  std::string key() const { return dir_ + "/key.pem"; }

 private:
  std::string dir_;
};

ssl::SSLContext server_context(const Certificate& c) {
  ssl::SSLContext context =
      ssl::SSLContext::create_default_context(ssl::Purpose::kClientAuth);
  context.load_cert_chain(c.cert(), c.key());
  return context;
}

// Echoes until the end of the stream.
asyncio::Task<void> echo_all(asyncio::StreamReader reader,
                             asyncio::StreamWriter writer) {
  for (;;) {
    std::string block = co_await reader.read(65536);
    if (block.empty()) break;
    writer.write(block);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Task<void> echo_over_tls(const Certificate& c) {
  const ssl::SSLContext served = server_context(c);
  asyncio::Server server = co_await asyncio::start_server(echo_all, "127.0.0.1",
                                                          0, {.ssl = &served});
  const int port = server.sockets().at(0).port;
  const ssl::SSLContext trusting = ssl::SSLContext::create_default_context(
      ssl::Purpose::kServerAuth, c.cert());
  asyncio::Connection conn =
      co_await asyncio::open_connection("localhost", port, {.ssl = &trusting});
  EXPECT_FALSE(conn.writer.can_write_eof());
  EXPECT_THROW(conn.writer.write_eof(), concur::RuntimeError);
  conn.writer.write("hello\n");
  std::string line = co_await conn.reader.readline();
  EXPECT_EQ(line, "hello\n");
  // Past the high-water mark both ways: back-pressure over TLS records.
  std::string big(std::size_t{1} << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>('a' + i % 26);
  }
  conn.writer.write(big);
  std::string back;
  while (back.size() < big.size()) {
    std::string block = co_await conn.reader.read(65536);
    if (block.empty()) break;
    back += block;
    co_await conn.writer.drain();
  }
  EXPECT_EQ(back.size(), big.size());
  EXPECT_TRUE(back == big);
  conn.writer.close();
  co_await conn.writer.wait_closed();
  server.close();
  co_await server.wait_closed();
}

TEST(Tls, EchoBetweenAConcurServerAndClient) {
  Certificate c;
  const auto before = concur::testing::open_fds();
  asyncio::run(echo_over_tls(c));
  EXPECT_EQ(concur::testing::open_fds(), before);
}

asyncio::Task<void> refused(const Certificate& c, const ssl::SSLContext& client,
                            const char* host) {
  const ssl::SSLContext served = server_context(c);
  asyncio::Server server = co_await asyncio::start_server(echo_all, "127.0.0.1",
                                                          0, {.ssl = &served});
  const int port = server.sockets().at(0).port;
  try {
    asyncio::Connection conn = co_await asyncio::open_connection(
        "127.0.0.1", port, {.ssl = &client, .server_hostname = host});
    ADD_FAILURE() << "the handshake should have failed";
  } catch (const ssl::SSLCertVerificationError& e) {
    EXPECT_NE(std::string(e.what()).find("CERTIFICATE_VERIFY_FAILED"),
              std::string::npos)
        << e.what();
  }
  server.close();
  co_await server.wait_closed();
}

TEST(Tls, AnUntrustedCertificateFailsVerification) {
  Certificate c;
  const ssl::SSLContext system_trust =
      ssl::SSLContext::create_default_context();
  const auto before = concur::testing::open_fds();
  asyncio::run(refused(c, system_trust, "localhost"));
  EXPECT_EQ(concur::testing::open_fds(), before);
}

TEST(Tls, ACertificateForAnotherNameFailsVerification) {
  Certificate c;
  const ssl::SSLContext trusting = ssl::SSLContext::create_default_context(
      ssl::Purpose::kServerAuth, c.cert());
  asyncio::run(refused(c, trusting, "other.example"));
}

asyncio::Task<void> plain_client_of_a_tls_server(const Certificate& c) {
  const ssl::SSLContext served = server_context(c);
  asyncio::Server server = co_await asyncio::start_server(echo_all, "127.0.0.1",
                                                          0, {.ssl = &served});
  const int port = server.sockets().at(0).port;
  asyncio::Connection conn =
      co_await asyncio::open_connection("127.0.0.1", port);
  conn.writer.write("GET / HTTP/1.0\r\n\r\n");
  // The server drops a client whose handshake fails (with an alert, then
  // a reset for the bytes it left unread); it goes on serving.
  bool ended = false;
  try {
    std::string rest = co_await conn.reader.read();
    ended = true;
  } catch (const concur::ConnectionResetError&) {
    ended = true;
  }
  EXPECT_TRUE(ended);
  EXPECT_TRUE(server.is_serving());
  conn.writer.close();
  server.close();
  co_await server.wait_closed();
}

TEST(Tls, APlainClientOfATlsServerIsDropped) {
  Certificate c;
  asyncio::run(plain_client_of_a_tls_server(c));
}

// Answers one HTTP request with "hello".
asyncio::Task<void> hello_http(asyncio::StreamReader reader,
                               asyncio::StreamWriter writer) {
  (void)co_await reader.readuntil("\r\n\r\n");
  writer.write(
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
  co_await writer.drain();
  writer.close();
  co_await writer.wait_closed();
}

asyncio::Task<sp::CompletedProcess> curl_over_tls(const Certificate& c) {
  const ssl::SSLContext served = server_context(c);
  asyncio::Server server = co_await asyncio::start_server(
      hello_http, "127.0.0.1", 0, {.ssl = &served});
  const std::string port = std::to_string(server.sockets().at(0).port);
  const std::string ca = c.cert();
  // The name "localhost" pinned to 127.0.0.1, so that curl checks it
  // against the certificate. The lambda outside the co_await's expression
  // (the g++ 12 rule).
  auto curl = asyncio::to_thread([port, ca] {
    return sp::run(
        {"curl", "-s", "-S", "--max-time", "20", "--cacert", ca, "--resolve",
         "localhost:" + port + ":127.0.0.1", "https://localhost:" + port + "/"},
        {.capture_output = true});
  });
  sp::CompletedProcess done = co_await curl;
  server.close();
  co_await server.wait_closed();
  co_return done;
}

TEST(Tls, AConcurTlsServerHitByCurlWithTheCertificateChecked) {
  Certificate c;
  const sp::CompletedProcess done = asyncio::run(curl_over_tls(c));
  EXPECT_EQ(done.returncode, 0) << done.stderr;
  EXPECT_EQ(done.stdout, "hello");
}

// openssl s_server on a port of its choosing ("ACCEPT 127.0.0.1:PORT" is
// its first line on stdout), answering with its -www status page.
asyncio::Task<std::string> against_openssl_s_server(const Certificate& c) {
  sp::Popen server({"openssl", "s_server", "-accept", "127.0.0.1:0", "-cert",
                    c.cert(), "-key", c.key(), "-www", "-naccept", "1"},
                   {.stdout = sp::PIPE, .stderr = sp::DEVNULL});
  auto accept_line = asyncio::to_thread([&server] {
    for (const std::string& line : server.lines()) {
      if (line.rfind("ACCEPT", 0) == 0) return line;
    }
    return std::string();
  });
  const std::string banner = co_await accept_line;
  const auto colon = banner.rfind(':');
  EXPECT_NE(colon, std::string::npos) << banner;
  const int port = std::atoi(banner.c_str() + colon + 1);
  const ssl::SSLContext trusting = ssl::SSLContext::create_default_context(
      ssl::Purpose::kServerAuth, c.cert());
  asyncio::Connection conn = co_await asyncio::open_connection(
      "127.0.0.1", port, {.ssl = &trusting, .server_hostname = "localhost"});
  conn.writer.write("GET / HTTP/1.0\r\n\r\n");
  std::string status = co_await conn.reader.readline();
  std::string page = co_await conn.reader.read();
  EXPECT_NE(page.find("Ciphers"), std::string::npos) << page;
  conn.writer.close();
  co_await conn.writer.wait_closed();
  server.kill();
  (void)server.wait();
  co_return status;
}

TEST(Tls, AConcurClientAgainstOpensslSServer) {
  Certificate c;
  const auto before = concur::testing::open_fds();
  const std::string status = asyncio::run(against_openssl_s_server(c));
  EXPECT_EQ(status.rfind("HTTP/1.0 200", 0), 0u) << status;
  EXPECT_EQ(concur::testing::open_fds(), before);
}

TEST(Tls, MisuseRaisesTypedErrors) {
  ssl::SSLContext context = ssl::SSLContext::create_default_context();
  EXPECT_TRUE(context.check_hostname());
  EXPECT_EQ(context.verify_mode(), ssl::VerifyMode::kRequired);
  EXPECT_THROW(context.set_verify_mode(ssl::VerifyMode::kNone),
               concur::ValueError);
  context.set_check_hostname(false);
  context.set_verify_mode(ssl::VerifyMode::kNone);
  EXPECT_EQ(context.verify_mode(), ssl::VerifyMode::kNone);
  EXPECT_THROW(context.load_cert_chain("/nonexistent/cert.pem"),
               concur::FileNotFoundError);
  EXPECT_THROW(context.load_verify_locations("/nonexistent/ca.pem"),
               concur::FileNotFoundError);
  EXPECT_THROW((void)asyncio::open_connection("127.0.0.1", 1,
                                              {.server_hostname = "localhost"}),
               concur::ValueError);
  EXPECT_THROW((void)asyncio::open_unix_connection("/tmp/x", {.ssl = &context}),
               concur::ValueError);
  EXPECT_THROW(
      (void)asyncio::open_connection(
          "127.0.0.1", 1,
          {.ssl = &context, .ssl_handshake_timeout = std::chrono::seconds(0)}),
      concur::ValueError);
}

}  // namespace
