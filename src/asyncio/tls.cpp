// TLS through OpenSSL: SSLContext (concur/ssl.hpp), the channel of TLS
// records the streams read and write, and the handshake.
//
// OpenSSL works on the non-blocking socket itself; a call that needs the
// socket to be readable or writable says so (SSL_ERROR_WANT_READ/WRITE)
// and the loop waits for that readiness, whichever direction the call was.
#include "asyncio/tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <optional>
#include <string>
#include <utility>

#include "asyncio/stream.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/asyncio/timeouts.hpp"

namespace concur::ssl_detail {

struct ContextState {
  SSL_CTX* ctx = nullptr;
  bool check_hostname = false;

  ContextState() = default;
  ContextState(const ContextState&) = delete;
  ContextState& operator=(const ContextState&) = delete;
  ~ContextState() { SSL_CTX_free(ctx); }
};

namespace {

// Python's form: "[SSL: WRONG_VERSION_NUMBER] wrong version number". The
// bracketed name is OpenSSL's reason code, which is its text upper-cased.
std::string describe(unsigned long code) {
  const char* text = ERR_reason_error_string(code);
  std::string reason = text != nullptr ? text : "unknown error";
  std::string name = reason;
  for (char& c : name) {
    c = c == ' '
            ? '_'
            : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return "[SSL: " + name + "] " + reason;
}

// The error OpenSSL queued for the call that failed, as SSLError; the
// queue is left empty for the next call.
[[noreturn]] void throw_queued(const char* fallback) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) throw ssl::SSLError(fallback);
  throw ssl::SSLError(describe(code));
}

void require_file(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) throw_os_error(errno, path);
}

int verify_flags(ssl::VerifyMode mode) {
  switch (mode) {
    case ssl::VerifyMode::kNone:
      return SSL_VERIFY_NONE;
    case ssl::VerifyMode::kOptional:
      return SSL_VERIFY_PEER;
    case ssl::VerifyMode::kRequired:
      break;
  }
  return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
}

bool is_address(const std::string& host) {
  unsigned char bytes[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), bytes) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

}  // namespace

}  // namespace concur::ssl_detail

namespace concur::ssl {

using ssl_detail::require_file;
using ssl_detail::throw_queued;

SSLContext SSLContext::create_default_context(Purpose purpose,
                                              const std::string& cafile) {
  auto s = std::make_shared<ssl_detail::ContextState>();
  s->ctx = SSL_CTX_new(TLS_method());
  if (s->ctx == nullptr) throw_queued("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
  // A peer that closes without close_notify ends the stream (as Python's
  // asyncio treats it); renegotiation, which TLS 1.3 dropped, stays off.
  SSL_CTX_set_options(s->ctx, SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_IGNORE_UNEXPECTED_EOF |
                                  SSL_OP_NO_COMPRESSION);
  // A send may take part of the buffer, and is retried from wherever the
  // stream's buffer has since moved: the contract of send(2).
  SSL_CTX_set_mode(s->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                               SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSLContext context(std::move(s));
  if (purpose == Purpose::kServerAuth) {
    context.set_check_hostname(true);
    if (cafile.empty()) {
      context.load_default_certs();
    } else {
      context.load_verify_locations(cafile);
    }
  } else {
    context.set_verify_mode(VerifyMode::kNone);
    if (!cafile.empty()) context.load_verify_locations(cafile);
  }
  return context;
}

void SSLContext::load_cert_chain(const std::string& certfile,
                                 const std::string& keyfile) {
  const std::string& key = keyfile.empty() ? certfile : keyfile;
  require_file(certfile);
  require_file(key);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(s_->ctx, certfile.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(s_->ctx, key.c_str(), SSL_FILETYPE_PEM) !=
          1 ||
      SSL_CTX_check_private_key(s_->ctx) != 1) {
    throw_queued("the certificate or key does not load");
  }
}

void SSLContext::load_verify_locations(const std::string& cafile) {
  require_file(cafile);
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(s_->ctx, cafile.c_str(), nullptr) != 1) {
    throw_queued("the CA file does not load");
  }
}

void SSLContext::load_default_certs() {
  ERR_clear_error();
  if (SSL_CTX_set_default_verify_paths(s_->ctx) != 1) {
    throw_queued("the system's certificates do not load");
  }
}

bool SSLContext::check_hostname() const noexcept { return s_->check_hostname; }

void SSLContext::set_check_hostname(bool on) {
  if (on && verify_mode() == VerifyMode::kNone) {
    set_verify_mode(VerifyMode::kRequired);
  }
  s_->check_hostname = on;
}

VerifyMode SSLContext::verify_mode() const noexcept {
  const int flags = SSL_CTX_get_verify_mode(s_->ctx);
  if ((flags & SSL_VERIFY_PEER) == 0) return VerifyMode::kNone;
  return (flags & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) != 0 ? VerifyMode::kRequired
                                                        : VerifyMode::kOptional;
}

void SSLContext::set_verify_mode(VerifyMode mode) {
  if (mode == VerifyMode::kNone && s_->check_hostname) {
    throw ValueError(
        "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
  }
  SSL_CTX_set_verify(s_->ctx, ssl_detail::verify_flags(mode), nullptr);
}

}  // namespace concur::ssl

namespace concur::asyncio_detail {

namespace {

class TlsChannel final : public Channel {
 public:
  TlsChannel(sys::FileDescriptor fd, const ssl_detail::ContextState& context,
             const std::string& server_hostname, bool server)
      : Channel(std::move(fd)), ssl_(SSL_new(context.ctx)) {
    if (ssl_ == nullptr) ssl_detail::throw_queued("SSL_new failed");
    ERR_clear_error();
    if (SSL_set_fd(ssl_, fd_.get()) != 1) {
      ssl_detail::throw_queued("SSL_set_fd failed");
    }
    if (server) {
      SSL_set_accept_state(ssl_);
      return;
    }
    SSL_set_connect_state(ssl_);
    if (server_hostname.empty()) return;
    const bool address = ssl_detail::is_address(server_hostname);
    // Server name indication carries names only, never addresses.
    if (!address &&
        SSL_set_tlsext_host_name(ssl_, server_hostname.c_str()) != 1) {
      ssl_detail::throw_queued("the server name is refused");
    }
    if (context.check_hostname) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
      X509_VERIFY_PARAM_set_hostflags(param,
                                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set =
          address
              ? X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str())
              : X509_VERIFY_PARAM_set1_host(param, server_hostname.c_str(), 0);
      if (set != 1) ssl_detail::throw_queued("the server name is refused");
    }
  }
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;
  ~TlsChannel() override { SSL_free(ssl_); }

  // One step of the handshake: nothing when it is done, else the
  // readiness to wait for before the next step.
  std::optional<Blocked> handshake() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return std::nullopt;
    if (stalled(r)) return blocked_;
    fail(r, "the TLS handshake failed");
  }

  std::ptrdiff_t receive(char* into, std::size_t size) override {
    ERR_clear_error();
    const int n = SSL_read(ssl_, into, clamp(size));
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_ZERO_RETURN) return 0;
    if (stalled(n, error)) return -1;
    fail(n, "the TLS read failed", error);
  }

  std::ptrdiff_t send(const char* from, std::size_t size) override {
    ERR_clear_error();
    const int n = SSL_write(ssl_, from, clamp(size));
    if (n > 0) return n;
    if (stalled(n)) return -1;
    fail(n, "the TLS write failed");
  }

  bool holds_input() const noexcept override { return SSL_pending(ssl_) > 0; }
  bool can_shutdown_write() const noexcept override { return false; }

  void close() noexcept override {
    if (closed()) return;
    // One close_notify, without waiting for the peer's (Python's asyncio
    // waits; a peer gets the same end of stream either way).
    if (!failed_ && SSL_is_init_finished(ssl_) == 1) {
      ERR_clear_error();
      (void)SSL_shutdown(ssl_);
    }
    ERR_clear_error();
    fd_.reset();
  }

 private:
  static int clamp(std::size_t size) noexcept {
    return static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  }

  bool stalled(int r) { return stalled(r, SSL_get_error(ssl_, r)); }
  bool stalled(int /*r*/, int error) {
    if (error == SSL_ERROR_WANT_READ) {
      blocked_ = Blocked::kReadable;
      return true;
    }
    if (error == SSL_ERROR_WANT_WRITE) {
      blocked_ = Blocked::kWritable;
      return true;
    }
    return false;
  }

  [[noreturn]] void fail(int r, const char* what) {
    fail(r, what, SSL_get_error(ssl_, r));
  }
  [[noreturn]] void fail(int /*r*/, const char* what, int error) {
    const int saved = errno;
    failed_ = true;
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      ERR_clear_error();
      if (saved != 0 && saved != EAGAIN) throw_os_error(saved);
      throw ssl::SSLError(
          "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of "
          "protocol");
    }
    if (error == SSL_ERROR_ZERO_RETURN) {
      throw ssl::SSLError(
          "[SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of "
          "protocol");
    }
    const long verified = SSL_get_verify_result(ssl_);
    if (verified != X509_V_OK) {
      ERR_clear_error();
      throw ssl::SSLCertVerificationError(
          std::string("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
                      "failed: ") +
          X509_verify_cert_error_string(verified));
    }
    ssl_detail::throw_queued(what);
  }

  SSL* ssl_;
  bool failed_ = false;
};

asyncio::Task<std::unique_ptr<Channel>> handshake_steps(
    std::unique_ptr<TlsChannel> channel) {
  asyncio::EventLoop& loop = asyncio::get_running_loop();
  while (std::optional<Channel::Blocked> wait = channel->handshake()) {
    co_await FdReady(loop, channel->fd(), *wait);
  }
  co_return std::unique_ptr<Channel>(std::move(channel));
}

}  // namespace

void check_handshake_timeout(std::chrono::duration<double> timeout) {
  if (!(timeout.count() > 0)) {
    throw ValueError("ssl_handshake_timeout should be a positive number");
  }
}

asyncio::Task<std::unique_ptr<Channel>> tls_handshake(
    sys::FileDescriptor fd, ssl::SSLContext context,
    std::string server_hostname, bool server,
    std::chrono::duration<double> timeout) {
  // OpenSSL writes to the socket with write(2): a peer gone must give
  // EPIPE, not SIGPIPE (Python ignores SIGPIPE from the start).
  sys::ignore_sigpipe();
  auto channel = std::make_unique<TlsChannel>(std::move(fd), *context.state(),
                                              server_hostname, server);
  asyncio::Task<std::unique_ptr<Channel>> steps =
      handshake_steps(std::move(channel));
  asyncio::Timeout scope = asyncio::timeout(timeout);
  asyncio::Task<std::unique_ptr<Channel>> bounded = scope.run(std::move(steps));
  std::unique_ptr<Channel> done = co_await std::move(bounded);
  co_return done;
}

}  // namespace concur::asyncio_detail
