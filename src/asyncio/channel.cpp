// The plain channels of the streams: sockets and pipes.
#include "asyncio/channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "concur/errors.hpp"

namespace concur::asyncio_detail {

void Channel::shutdown_write() noexcept {
  if (!closed()) (void)::shutdown(fd_.get(), SHUT_WR);
}

namespace {

// The outcome of a read(2)-like call: bytes, 0 at the end, -1 when it
// would block (EINTR too: the loop calls again on the next readiness).
std::ptrdiff_t moved(ssize_t n) {
  if (n >= 0 || errno == EAGAIN || errno == EINTR) return n < 0 ? -1 : n;
  throw_os_error(errno);
}

class SocketChannel final : public Channel {
 public:
  using Channel::Channel;
  std::ptrdiff_t receive(char* into, std::size_t size) override {
    blocked_ = Blocked::kReadable;
    return moved(::recv(fd_.get(), into, size, 0));
  }
  std::ptrdiff_t send(const char* from, std::size_t size) override {
    blocked_ = Blocked::kWritable;
    return moved(::send(fd_.get(), from, size, MSG_NOSIGNAL | MSG_DONTWAIT));
  }
};

class PipeChannel final : public Channel {
 public:
  explicit PipeChannel(sys::FileDescriptor fd) : Channel(std::move(fd)) {
    sys::ignore_sigpipe();
    sys::set_nonblocking(fd_.get(), true);
  }
  std::ptrdiff_t receive(char* into, std::size_t size) override {
    blocked_ = Blocked::kReadable;
    return moved(::read(fd_.get(), into, size));
  }
  std::ptrdiff_t send(const char* from, std::size_t size) override {
    blocked_ = Blocked::kWritable;
    return moved(::write(fd_.get(), from, size));
  }
};

}  // namespace

std::unique_ptr<Channel> socket_channel(sys::FileDescriptor fd) {
  return std::make_unique<SocketChannel>(std::move(fd));
}

std::unique_ptr<Channel> pipe_channel(sys::FileDescriptor fd) {
  return std::make_unique<PipeChannel>(std::move(fd));
}

}  // namespace concur::asyncio_detail
