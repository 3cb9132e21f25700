#include "sys/socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "concur/errors.hpp"

namespace concur::sys {

namespace {

[[noreturn]] void fail() { throw_os_error(errno); }

Endpoint endpoint_of(const sockaddr* sa, socklen_t length) {
  Endpoint e;
  e.family = sa->sa_family;
  std::memcpy(&e.address, sa, length);
  e.length = length;
  return e;
}

asyncio::SocketAddress describe(const sockaddr_storage& ss, socklen_t length) {
  asyncio::SocketAddress out;
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    out.host = text;
    out.port = ntohs(in.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
    out.host = text;
    out.port = ntohs(in6.sin6_port);
  } else if (ss.ss_family == AF_UNIX) {
    const auto& un = reinterpret_cast<const sockaddr_un&>(ss);
    const std::size_t max = length > offsetof(sockaddr_un, sun_path)
                                ? length - offsetof(sockaddr_un, sun_path)
                                : 0;
    out.path.assign(un.sun_path, ::strnlen(un.sun_path, max));
  }
  return out;
}

}  // namespace

std::vector<Endpoint> numeric_endpoints(const std::string& host, int port) {
  std::vector<Endpoint> out;
  sockaddr_in in{};
  if (::inet_pton(AF_INET, host.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<std::uint16_t>(port));
    out.push_back(endpoint_of(reinterpret_cast<sockaddr*>(&in), sizeof in));
    return out;
  }
  sockaddr_in6 in6{};
  if (::inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<std::uint16_t>(port));
    out.push_back(endpoint_of(reinterpret_cast<sockaddr*>(&in6), sizeof in6));
  }
  return out;
}

std::vector<Endpoint> resolve(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) fail();
    // Python's socket.gaierror: "[Errno -2] Name or service not known".
    throw OSError("[Errno " + std::to_string(rc) + "] " + ::gai_strerror(rc) +
                  ": '" + host + "'");
  }
  std::vector<Endpoint> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    out.push_back(endpoint_of(a->ai_addr, a->ai_addrlen));
  }
  ::freeaddrinfo(found);
  return out;
}

Endpoint unix_endpoint(const std::string& path) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path) {
    throw ValueError("a Unix socket path must have 1 to " +
                     std::to_string(sizeof un.sun_path - 1) + " bytes");
  }
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  return endpoint_of(reinterpret_cast<sockaddr*>(&un),
                     static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                            path.size() + 1));
}

FileDescriptor stream_socket(int family) {
  const int fd =
      ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail();
  return FileDescriptor(fd);
}

FileDescriptor listen_on(const Endpoint& at, int backlog, bool reuse_port) {
  FileDescriptor fd = stream_socket(at.family);
  const int one = 1;
  if (at.family != AF_UNIX) {
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) !=
        0) {
      fail();
    }
    if (reuse_port && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one,
                                   sizeof one) != 0) {
      fail();
    }
  }
  if (at.family == AF_INET6 && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY,
                                            &one, sizeof one) != 0) {
    fail();
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&at.address),
             at.length) != 0) {
    fail();
  }
  if (::listen(fd.get(), backlog) != 0) fail();
  return fd;
}

FileDescriptor accept_one(int listener) {
  for (;;) {
    const int fd =
        ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return FileDescriptor(fd);
    switch (errno) {
      case EAGAIN:
        return FileDescriptor();
      case EINTR:
      case ECONNABORTED:
      case EPROTO:
        continue;  // that connection is gone; the next may be there
      default:
        fail();
    }
  }
}

bool connect_start(int fd, const Endpoint& to) {
  for (;;) {
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to.address),
                  to.length) == 0) {
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) return false;
    fail();
  }
}

int connect_result(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return errno;
  }
  return error;
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

asyncio::SocketAddress socket_name(int fd) {
  sockaddr_storage ss{};
  socklen_t length = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &length) != 0) {
    fail();
  }
  return describe(ss, length);
}

asyncio::SocketAddress peer_name(int fd) {
  sockaddr_storage ss{};
  socklen_t length = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &length) != 0) {
    fail();
  }
  return describe(ss, length);
}

}  // namespace concur::sys
