#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "concur/multiprocessing.hpp"
#include "sys/fd.hpp"

namespace concur::multiprocessing {

namespace cd = concur::detail;

namespace {

// A frame is an 8-byte little-endian length, then that many bytes.
constexpr std::size_t kHeader = 8;
// What a receive allocates before the bytes arrive: a header that claims
// more (a corrupt or hostile one) gets memory only as its bytes come.
constexpr std::size_t kFirstChunk = std::size_t{1} << 20;

void encode_length(std::uint64_t n, std::byte (&out)[kHeader]) noexcept {
  for (std::size_t i = 0; i < kHeader; ++i) {
    out[i] = static_cast<std::byte>(n >> (8 * i));
  }
}

std::uint64_t decode_length(const std::byte (&in)[kHeader]) noexcept {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < kHeader; ++i) {
    n |= std::uint64_t{std::to_integer<std::uint8_t>(in[i])} << (8 * i);
  }
  return n;
}

[[noreturn]] void closed_error() { throw OSError("handle is closed"); }

}  // namespace

// Separate sends and receives, so that one thread may send while another
// waits for a message; the receive buffer is reused by every message.
struct Connection::Locks {
  threading::Lock send;
  threading::Lock recv;
  std::vector<std::byte> buffer CONCUR_GUARDED_BY(recv);
};

Connection::Connection() noexcept = default;

Connection::Connection(int fd, bool readable, bool writable)
    : fd_(fd),
      readable_(readable),
      writable_(writable),
      locks_(std::make_unique<Locks>()) {
  if (fd < 0) throw ValueError("invalid handle");
  if (!readable && !writable) {
    throw ValueError("at least one of `readable` and `writable` must be True");
  }
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      readable_(other.readable_),
      writable_(other.writable_),
      broken_(other.broken_),
      locks_(std::move(other.locks_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    readable_ = other.readable_;
    writable_ = other.writable_;
    broken_ = other.broken_;
    locks_ = std::move(other.locks_);
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
  if (fd_ >= 0) sys::FileDescriptor(std::exchange(fd_, -1));
}

int Connection::fileno() const {
  if (fd_ < 0) closed_error();
  return fd_;
}

void Connection::check(bool readable_side) const {
  if (fd_ < 0) closed_error();
  if (readable_side && !readable_) throw OSError("connection is write-only");
  if (!readable_side && !writable_) throw OSError("connection is read-only");
}

void Connection::send_bytes(std::span<const std::byte> data) {
  check(false);
  std::byte header[kHeader];
  encode_length(data.size(), header);
  concur::ScopedLock guard(locks_->send);
  sys::write_all(fd_, header, data);
}

std::uint64_t Connection::read_header(std::size_t maxlength) {
  if (broken_) throw OSError("bad message length");
  std::byte header[kHeader];
  const std::size_t got = sys::read_full(fd_, header);
  if (got == 0) throw EOFError("the peer closed the connection");
  if (got < kHeader) {
    broken_ = true;
    throw OSError("got end of file during message");
  }
  const std::uint64_t length = decode_length(header);
  if (length > maxlength) {
    broken_ = true;
    throw OSError("bad message length");
  }
  return length;
}

void Connection::read_payload(std::span<std::byte> into) {
  if (sys::read_full(fd_, into) < into.size()) {
    broken_ = true;
    throw OSError("got end of file during message");
  }
}

void Connection::read_payload(std::uint64_t length,
                              std::vector<std::byte>& into) {
  // Grows with the bytes that arrive, never ahead of them by more than
  // kFirstChunk or what has come so far.
  std::size_t done = 0;
  while (done < length) {
    const auto want = static_cast<std::size_t>(
        std::min<std::uint64_t>(length, std::max(kFirstChunk, 2 * done)));
    if (into.size() < want) into.resize(want);
    read_payload(std::span(into).subspan(done, want - done));
    done = want;
  }
}

void Connection::receive_with(void (*consume)(void*,
                                              std::span<const std::byte>),
                              void* context) {
  check(true);
  concur::ScopedLock guard(locks_->recv);
  const std::uint64_t length = read_header(kUnlimited);
  read_payload(length, locks_->buffer);
  consume(context,
          std::span(locks_->buffer.data(), static_cast<std::size_t>(length)));
}

std::vector<std::byte> Connection::recv_bytes(std::size_t maxlength) {
  check(true);
  concur::ScopedLock guard(locks_->recv);
  std::vector<std::byte> out;
  const std::uint64_t length = read_header(maxlength);
  read_payload(length, out);
  out.resize(static_cast<std::size_t>(length));
  return out;
}

std::size_t Connection::recv_bytes_into(std::span<std::byte> buffer) {
  check(true);
  concur::ScopedLock guard(locks_->recv);
  const std::uint64_t length = read_header(kUnlimited);
  if (length <= buffer.size()) {
    const auto n = static_cast<std::size_t>(length);
    read_payload(buffer.first(n));
    return n;
  }
  std::vector<std::byte> message;
  read_payload(length, message);
  message.resize(static_cast<std::size_t>(length));
  throw BufferTooShort(std::move(message));
}

bool Connection::poll_until(const sys::Deadline& deadline) {
  check(true);
  return sys::wait_readable(fd_, deadline);
}

std::pair<Connection, Connection> Pipe(bool duplex) {
  sys::ignore_sigpipe();
  if (duplex) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      throw_os_error(errno);
    }
    return {Connection(fds[0], true, true), Connection(fds[1], true, true)};
  }
  sys::Pipe p = sys::make_pipe();
  // A framed message of 64 KiB does not fit a pipe of the default 64 KiB:
  // each would take the reader two wake-ups.
  sys::grow_pipe(p.write.get());
  return {Connection(p.read.release(), true, false),
          Connection(p.write.release(), false, true)};
}

namespace connection {

namespace {
sys::Deadline deadline_of(std::optional<std::chrono::nanoseconds> timeout) {
  return timeout ? sys::Deadline::after(*timeout) : sys::Deadline::never();
}
}  // namespace

std::vector<Connection*> wait(std::span<Connection* const> connections,
                              std::optional<std::chrono::nanoseconds> timeout) {
  const sys::Deadline deadline = deadline_of(timeout);
  std::vector<int> fds;
  fds.reserve(connections.size());
  for (Connection* c : connections) fds.push_back(c->fileno());
  std::vector<Connection*> ready;
  for (std::size_t i : sys::wait_any_readable(fds, deadline)) {
    ready.push_back(connections[i]);
  }
  return ready;
}

std::vector<int> wait(std::span<const int> fds,
                      std::optional<std::chrono::nanoseconds> timeout) {
  std::vector<int> ready;
  for (std::size_t i : sys::wait_any_readable(fds, deadline_of(timeout))) {
    ready.push_back(fds[i]);
  }
  return ready;
}

}  // namespace connection

}  // namespace concur::multiprocessing

namespace concur::multiprocessing_detail {

void Transfer<multiprocessing::Connection>::send(
    codec::Writer& w, Outbox& out, const multiprocessing::Connection& value) {
  codec::encode(w, out.add(value.fileno()));
  codec::encode(w, value.readable());
  codec::encode(w, value.writable());
}

multiprocessing::Connection Transfer<multiprocessing::Connection>::receive(
    codec::Reader& r, Inbox& in) {
  const int fd = in.take(codec::decode<std::uint32_t>(r));
  const bool readable = codec::decode<bool>(r);
  const bool writable = codec::decode<bool>(r);
  return multiprocessing::Connection(fd, readable, writable);
}

}  // namespace concur::multiprocessing_detail
