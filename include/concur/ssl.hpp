// concur/ssl.hpp — the part of Python's `ssl` module that asyncio streams
// take: a TLS context (certificates, verification, the names checked) and
// its errors. TLS itself is OpenSSL's (Debian's libssl).
#pragma once

#include <memory>
#include <string>

#include "concur/errors.hpp"

namespace concur::ssl_detail {
struct ContextState;
}  // namespace concur::ssl_detail

namespace concur::ssl {

// A TLS failure: a handshake refused, a record corrupt, a certificate or
// key that does not load (Python's ssl.SSLError, an OSError). The message
// names OpenSSL's reason: "[SSL: WRONG_VERSION_NUMBER] wrong version
// number".
CONCUR_DEFINE_ERROR(SSLError, OSError);
// The peer's certificate did not verify: untrusted, expired, or not for
// the name asked for (Python's ssl.SSLCertVerificationError; Python's is a
// ValueError too, this one is not).
CONCUR_DEFINE_ERROR(SSLCertVerificationError, SSLError);

// Whom a context authenticates (Python's ssl.Purpose): a client checks
// servers (kServerAuth), a server may check clients (kClientAuth).
enum class Purpose { kServerAuth, kClientAuth };

// How the peer's certificate is checked (Python's ssl.CERT_NONE,
// CERT_OPTIONAL, CERT_REQUIRED).
enum class VerifyMode { kNone, kOptional, kRequired };

// ---------------------------------------------------------------------------
// SSLContext — TLS settings shared by many connections (Python's
// ssl.SSLContext, made by create_default_context).
//
// A handle: copies share one context, as Python's references do; the
// connections that use it keep it alive. Configure it first, then use it:
// once connections use it (from any number of loops and threads, which is
// safe), changing it is not. Versions below TLS 1.2 are refused, and
// renegotiation is off.
//
// Differences from Python: only what create_default_context() and the
// streams use is here (no wrap_socket, no ciphers or ALPN setters); a peer
// that closes without TLS's close_notify ends the stream as a plain end of
// file, as Python's asyncio does.
class SSLContext {
 public:
  // kServerAuth (for clients): the peer's certificate is required and
  // must name the host; the system's trusted certificates are loaded, or
  // only `cafile` when one is given. kClientAuth (for servers): clients
  // are not asked for a certificate; load_cert_chain() gives the server's.
  // SSLError (FileNotFoundError for a missing file) if cafile does not
  // load.
  static SSLContext create_default_context(
      Purpose purpose = Purpose::kServerAuth, const std::string& cafile = {});

  // The certificate (chain) this side presents, and its private key (in
  // certfile when keyfile is empty). FileNotFoundError for a missing
  // file, SSLError for one that does not load or a key that does not
  // match.
  void load_cert_chain(const std::string& certfile,
                       const std::string& keyfile = {});
  // Trusts the certificates in cafile (PEM), besides those already
  // trusted.
  void load_verify_locations(const std::string& cafile);
  // Trusts the system's certificates (Debian: /etc/ssl/certs).
  void load_default_certs();

  // Whether the peer's certificate must match the server name (Python's
  // check_hostname). Turning it on makes verify_mode kRequired if it was
  // kNone, as Python does.
  bool check_hostname() const noexcept;
  void set_check_hostname(bool on);
  VerifyMode verify_mode() const noexcept;
  // ValueError for kNone while check_hostname is on (Python's rule).
  void set_verify_mode(VerifyMode mode);

  // The context's state, for the streams.
  const std::shared_ptr<ssl_detail::ContextState>& state() const noexcept {
    return s_;
  }

 private:
  explicit SSLContext(std::shared_ptr<ssl_detail::ContextState> s)
      : s_(std::move(s)) {}
  std::shared_ptr<ssl_detail::ContextState> s_;
};

}  // namespace concur::ssl
