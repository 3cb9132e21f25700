// Sockets for the event loop's streams: addresses, name resolution,
// listening, accepting and connecting. Every socket is non-blocking and
// close-on-exec; failures are the OSError subclass Python would raise.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <string>
#include <vector>

#include "concur/asyncio/streams.hpp"
#include "sys/fd.hpp"

namespace concur::sys {

// One resolved address: what socket(2) and connect(2)/bind(2) take.
struct Endpoint {
  int family = 0;
  sockaddr_storage address{};
  socklen_t length = 0;
};

// The endpoints of a numeric host ("127.0.0.1", "::1"); empty if the host
// is a name, which resolve() looks up.
std::vector<Endpoint> numeric_endpoints(const std::string& host, int port);
// getaddrinfo for TCP, blocking (the loop runs it on a thread). Throws
// OSError ("[Errno -2] Name or service not known" as Python's gaierror).
std::vector<Endpoint> resolve(const std::string& host, int port);
// The endpoint of a Unix socket path; ValueError if it is too long.
Endpoint unix_endpoint(const std::string& path);

// A listening socket bound to `at`. reuse_port sets SO_REUSEPORT, so that
// one loop per core can listen on one port; IPv6 sockets take IPv6 only.
FileDescriptor listen_on(const Endpoint& at, int backlog, bool reuse_port);
// An accepted connection, or an empty descriptor when none is waiting.
// Throws OSError for other failures than the transient ones (a connection
// reset before it was taken is skipped).
FileDescriptor accept_one(int listener);
// Starts a non-blocking connect: true if it completed at once, false if
// in progress (wait until writable, then connect_result). Throws OSError.
bool connect_start(int fd, const Endpoint& to);
// The outcome of a connect that was in progress: 0 or an errno value.
int connect_result(int fd);
// A new non-blocking stream socket of the endpoint's family.
FileDescriptor stream_socket(int family);
// TCP_NODELAY on a TCP socket, as Python's asyncio sets on every one.
void set_nodelay(int fd) noexcept;

asyncio::SocketAddress socket_name(int fd);
asyncio::SocketAddress peer_name(int fd);

}  // namespace concur::sys
