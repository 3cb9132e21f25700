// How a stream moves its bytes: recv/send on a socket, read/write on a
// pipe, or TLS records over a socket. The Stream above it does the
// buffering, the waiting and the back-pressure, the same for all three.
#pragma once

#include <cstddef>
#include <memory>

#include "sys/fd.hpp"

namespace concur::asyncio_detail {

class Channel {
 public:
  // The readiness a transfer that moved nothing waits for. TLS may need
  // the other direction's (a read that must first send a record).
  enum class Blocked { kReadable, kWritable };

  explicit Channel(sys::FileDescriptor fd) noexcept : fd_(std::move(fd)) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  virtual ~Channel() = default;

  int fd() const noexcept { return fd_.get(); }
  bool closed() const noexcept { return fd_.get() < 0; }
  Blocked blocked() const noexcept { return blocked_; }

  // Bytes received (> 0), 0 at the end of the stream, or -1 when none can
  // be had now (blocked() says what to wait for). Throws OSError (or
  // ssl::SSLError) when the connection fails.
  virtual std::ptrdiff_t receive(char* into, std::size_t size) = 0;
  // Bytes sent (>= 0), or -1 as for receive(). Throws as receive().
  virtual std::ptrdiff_t send(const char* from, std::size_t size) = 0;
  // Bytes receive() gives without the descriptor becoming readable.
  virtual bool holds_input() const noexcept { return false; }
  // Whether the channel can end its sending half alone (TLS cannot).
  virtual bool can_shutdown_write() const noexcept { return true; }
  virtual void shutdown_write() noexcept;
  // Ends the connection: TLS says close_notify first. Idempotent.
  virtual void close() noexcept { fd_.reset(); }

 protected:
  sys::FileDescriptor fd_;
  Blocked blocked_ = Blocked::kReadable;
};

// A connected stream socket (TCP or Unix).
std::unique_ptr<Channel> socket_channel(sys::FileDescriptor fd);
// One end of a pipe, non-blocking: the reading or the writing end. A write
// to a pipe whose reader has gone raises BrokenPipeError (SIGPIPE is
// ignored, as Python does, unless the program chose its own handling).
std::unique_ptr<Channel> pipe_channel(sys::FileDescriptor fd);

}  // namespace concur::asyncio_detail
