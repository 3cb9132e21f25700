// TLS for the streams: the handshake that turns a connected socket into a
// channel of TLS records (OpenSSL, non-blocking, on the loop's thread).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "asyncio/channel.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/ssl.hpp"
#include "sys/fd.hpp"

namespace concur::asyncio_detail {

// The handshake over `fd` as a client (checking `server_hostname` when the
// context says so, and sending it as SNI unless it is an address) or as a
// server. Raises ssl::SSLCertVerificationError, ssl::SSLError, OSError
// (the peer reset), or TimeoutError past `timeout`; the socket is closed
// then.
asyncio::Task<std::unique_ptr<Channel>> tls_handshake(
    sys::FileDescriptor fd, ssl::SSLContext context,
    std::string server_hostname, bool server,
    std::chrono::duration<double> timeout);

// ValueError unless the timeout is positive (Python's rule).
void check_handshake_timeout(std::chrono::duration<double> timeout);

}  // namespace concur::asyncio_detail
