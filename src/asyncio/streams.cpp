// Streams: the connection state (Stream), its reader and writer, opening
// connections, and servers. Python's asyncio/streams.py and the selector
// transport beneath it, rule for rule where a user can tell.
#include "concur/asyncio/streams.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/loop_registry.hpp"
#include "asyncio/stream.hpp"
#include "asyncio/tls.hpp"
#include "concur/asyncio/events.hpp"
#include "concur/asyncio/tasks.hpp"
#include "sys/socket.hpp"

namespace concur::asyncio {

IncompleteReadError::IncompleteReadError(std::string partial,
                                         std::optional<std::size_t> expected)
    : EOFError(std::to_string(partial.size()) + " bytes read on a total of " +
               (expected ? std::to_string(*expected) : "undefined") +
               " expected bytes"),
      partial_(std::move(partial)),
      expected_(expected) {}

}  // namespace concur::asyncio

namespace concur::asyncio_detail {

namespace {

using asyncio::Task;

void check_port(int port) {
  if (port < 0 || port > 65535) throw ValueError("port must be 0-65535.");
}

}  // namespace

// --- FdReady -----------------------------------------------------------------

bool FdReady::await_suspend(std::coroutine_handle<> /*unused*/) {
  task_ = &current_task_or_throw();
  if (task_->cancel_pending()) return false;
  auto wake = [this] {
    unregister();
    task_->resume_waiting();
  };
  if (readiness_ == Channel::Blocked::kWritable) {
    loop_.add_writer(fd_, wake);
  } else {
    loop_.add_reader(fd_, wake);
  }
  registered_ = true;
  (void)task_->suspend_on(this);
  return true;
}

void FdReady::unregister() noexcept {
  if (!registered_) return;
  registered_ = false;
  try {
    if (readiness_ == Channel::Blocked::kWritable) {
      loop_.remove_writer(fd_);
    } else {
      loop_.remove_reader(fd_);
    }
  } catch (...) {
    // Only a closed loop refuses; it has let go of the descriptor.
  }
}

// --- Stream ------------------------------------------------------------------

Stream::Stream(asyncio::EventLoop& loop, std::unique_ptr<Channel> channel,
               std::size_t limit, Halves halves)
    : loop_(&loop),
      channel_(std::move(channel)),
      limit_(limit),
      halves_(halves) {
  if (limit_ == 0) throw ValueError("Limit cannot be <= 0");
  if (halves_ == Halves::kWriteOnly) {
    eof_ = true;  // nothing to read, ever
  } else {
    start_reading();
  }
}

Stream::~Stream() {
  if (lost()) return;
  if (loop_alive(loop_) && !loop_->is_closed()) {
    stop_reading();
    if (writing_) loop_->remove_writer(channel_->fd());
  }
}

std::string Stream::take(std::size_t n) {
  n = std::min(n, rtail_ - rhead_);
  std::string out(rbuf_.get() + rhead_, n);
  drop(n);
  return out;
}

void Stream::drop(std::size_t n) noexcept {
  rhead_ += std::min(n, rtail_ - rhead_);
  if (rhead_ == rtail_) rhead_ = rtail_ = 0;
  maybe_resume_reading();
}

void Stream::start_reading() {
  if (reading_ || eof_ || lost()) return;
  loop_->add_reader(channel_->fd(), [this] { on_readable(); });
  reading_ = true;
}

void Stream::stop_reading() {
  // A send waiting for readability keeps the reader (TLS).
  if (!reading_ || send_wants_readable_) return;
  reading_ = false;
  loop_->remove_reader(channel_->fd());
}

void Stream::maybe_resume_reading() {
  if (!reading_ && rtail_ - rhead_ <= limit_) start_reading();
}

void Stream::on_readable() {
  if (send_wants_readable_) {
    send_wants_readable_ = false;
    on_writable();
    if (lost()) return;
  }
  // A loop callback: the reader runs now, in this pass, as a timer's
  // sleeper does (saving a pass, and its poll, per read).
  if (receive()) readers_.resume_first();
}

namespace {
// Free room below which the read buffer grows, and the least it grows by.
constexpr std::size_t kReadRoom = std::size_t{16} * 1024;
constexpr std::size_t kReadGrowth = std::size_t{64} * 1024;
}  // namespace

void Stream::make_room() {
  if (rcapacity_ - rtail_ >= kReadRoom) return;
  if (rhead_ > 0) {
    std::memmove(rbuf_.get(), rbuf_.get() + rhead_, rtail_ - rhead_);
    rtail_ -= rhead_;
    rhead_ = 0;
  }
  if (rcapacity_ - rtail_ < kReadRoom) {
    // Not zeroed: the kernel fills what it uses, and a fresh connection's
    // buffer costs no page it does not touch.
    const std::size_t bigger = std::max(rcapacity_ * 2, rtail_ + kReadGrowth);
    std::unique_ptr<char[]> grown(new char[bigger]);
    if (rtail_ > 0) std::memcpy(grown.get(), rbuf_.get(), rtail_);
    rbuf_ = std::move(grown);
    rcapacity_ = bigger;
  }
}

bool Stream::receive() {
  if (lost() || eof_) return false;
  bool got = false;
  do {
    make_room();
    std::ptrdiff_t n = 0;
    try {
      n = channel_->receive(rbuf_.get() + rtail_, rcapacity_ - rtail_);
    } catch (const std::exception&) {
      connection_lost(std::current_exception());
      return true;
    }
    if (n == 0) {
      // The peer's end of stream: reads end; writing may go on
      // (half-close).
      eof_ = true;
      stop_reading();
      return true;
    }
    if (n < 0) {
      if (channel_->blocked() == Channel::Blocked::kWritable) {
        receive_wants_writable_ = true;
        update_writer();
      }
      break;
    }
    rtail_ += static_cast<std::size_t>(n);
    got = true;
    // Records TLS has decrypted raise no readiness: take them now.
  } while (channel_->holds_input());
  // Back-pressure: past twice the limit, the peer waits for the reads.
  if (rtail_ - rhead_ > 2 * limit_) stop_reading();
  return got;
}

void Stream::write(std::string_view data) {
  if (closing_) throw RuntimeError("write() after close()");
  if (eof_requested_)
    throw RuntimeError("Cannot call write() after write_eof()");
  if (halves_ == Halves::kReadOnly) {
    throw RuntimeError("write() on the reading end of a pipe");
  }
  if (lost() || data.empty())
    return;  // as Python, a write after a reset is dropped
  if (write_buffered() == 0 && !send_wants_readable_) {
    std::ptrdiff_t n = 0;
    try {
      n = channel_->send(data.data(), data.size());
    } catch (const std::exception&) {
      connection_lost(std::current_exception());
      return;
    }
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      if (data.empty()) return;
    } else if (n < 0 && channel_->blocked() == Channel::Blocked::kReadable) {
      send_wants_readable_ = true;
      start_reading();
    }
  }
  wbuf_.append(data);
  update_writer();
}

void Stream::update_writer() {
  const bool want = receive_wants_writable_ ||
                    (write_buffered() > 0 && !send_wants_readable_);
  if (want == writing_ || lost()) return;
  writing_ = want;
  if (want) {
    loop_->add_writer(channel_->fd(), [this] { on_writable(); });
  } else {
    loop_->remove_writer(channel_->fd());
  }
}

bool Stream::flush() {
  while (whead_ < wbuf_.size()) {
    std::ptrdiff_t n = 0;
    try {
      n = channel_->send(wbuf_.data() + whead_, wbuf_.size() - whead_);
    } catch (const std::exception&) {
      connection_lost(std::current_exception());
      return false;
    }
    if (n < 0) {
      if (channel_->blocked() == Channel::Blocked::kReadable) {
        send_wants_readable_ = true;
        start_reading();
      }
      break;
    }
    whead_ += static_cast<std::size_t>(n);
  }
  if (whead_ == wbuf_.size()) {
    wbuf_.clear();
    whead_ = 0;
  } else if (whead_ > wbuf_.size() / 2) {
    wbuf_.erase(0, whead_);
    whead_ = 0;
  }
  return true;
}

void Stream::on_writable() {
  if (receive_wants_writable_) {
    receive_wants_writable_ = false;
    if (receive()) readers_.resume_first();
    if (lost()) return;
  }
  if (write_buffered() > 0 && !send_wants_readable_) {
    if (!flush()) return;
    if (write_buffered() <= kLowWater) drainers_.wake_up_to(drainers_.size());
    if (write_buffered() == 0) {
      update_writer();
      finish_writes();
      return;
    }
  }
  update_writer();
}

void Stream::finish_writes() {
  if (closing_) {
    connection_lost(nullptr);
  } else if (eof_requested_ && !eof_sent_) {
    eof_sent_ = true;
    // A pipe's writer ends the stream by closing its end.
    if (halves_ == Halves::kWriteOnly) {
      connection_lost(nullptr);
    } else {
      channel_->shutdown_write();
    }
  }
}

void Stream::write_eof() {
  if (!channel_->can_shutdown_write()) {
    throw RuntimeError("SSL doesn't support half-closes");
  }
  if (closing_ || eof_requested_) return;
  eof_requested_ = true;
  if (write_buffered() == 0 && !lost()) finish_writes();
}

void Stream::close() {
  if (closing_) return;
  closing_ = true;
  if (lost()) return;
  stop_reading();
  if (write_buffered() == 0) connection_lost(nullptr);
}

void Stream::connection_lost(const std::exception_ptr& error) {
  if (lost()) return;
  send_wants_readable_ = false;
  receive_wants_writable_ = false;
  stop_reading();
  if (writing_) {
    writing_ = false;
    loop_->remove_writer(channel_->fd());
  }
  channel_->close();
  eof_ = true;
  if (error != nullptr) {
    if (error_ == nullptr) error_ = error;
    lost_error_ = error;
  }
  wbuf_.clear();
  whead_ = 0;
  // Unlinked as they are woken, so that the descriptor's callback, which
  // may have called here, finds no reader left to resume.
  while (readers_.pop_first()) {
  }
  drainers_.wake_up_to(drainers_.size());
  closers_.wake_up_to(closers_.size());
}

bool Stream::DataWait::await_ready() const noexcept {
  return s_.eof_ || s_.error_ != nullptr;
}

bool Stream::DataWait::await_suspend(std::coroutine_handle<> /*unused*/) {
  if (!s_.readers_.empty()) {
    throw RuntimeError(std::string(caller_) +
                       "() called while another coroutine is already waiting "
                       "for incoming data");
  }
  task_ = &current_task_or_throw();
  s_.start_reading();  // a read that needs more resumes a paused stream
  return s_.readers_.enqueue(waiter_, *task_);
}

void Stream::DataWait::await_resume() {
  if (task_ == nullptr) return;
  s_.readers_.leave(waiter_);
  task_->throw_if_cancelled();
}

namespace {

std::shared_ptr<Stream> checked(const std::shared_ptr<Stream>& s) {
  if (s == nullptr) throw ValueError("an empty StreamReader or StreamWriter");
  return s;
}

Task<std::string> readuntil_impl(std::shared_ptr<Stream> s,
                                 std::string separator) {
  if (separator.empty()) {
    throw ValueError("Separator should be at least one-byte string");
  }
  if (s->error()) std::rethrow_exception(s->error());
  std::size_t offset = 0;
  std::size_t found = std::string_view::npos;
  for (;;) {
    const std::string_view data = s->buffered();
    if (data.size() >= offset + separator.size()) {
      found = data.find(separator, offset);
      if (found != std::string_view::npos) break;
      offset = data.size() + 1 - separator.size();
      if (offset > s->limit()) {
        throw asyncio::LimitOverrunError(
            "Separator is not found, and chunk exceed the limit", offset);
      }
    }
    if (s->eof()) {
      if (s->error()) std::rethrow_exception(s->error());
      throw asyncio::IncompleteReadError(s->take(data.size()), std::nullopt);
    }
    co_await s->wait_for_data("readuntil");
  }
  if (found > s->limit()) {
    throw asyncio::LimitOverrunError(
        "Separator is found, but chunk is longer than limit", found);
  }
  co_return s->take(found + separator.size());
}

Task<std::string> readline_impl(std::shared_ptr<Stream> s) {
  try {
    std::string line = co_await readuntil_impl(s, "\n");
    co_return line;
  } catch (const asyncio::IncompleteReadError& e) {
    co_return e.partial();
  } catch (const asyncio::LimitOverrunError& e) {
    const std::string_view data = s->buffered();
    if (data.substr(e.consumed(), 1) == "\n") {
      s->drop(e.consumed() + 1);
    } else {
      s->drop(data.size());
    }
    throw ValueError(e.what());
  }
}

Task<std::string> read_impl(std::shared_ptr<Stream> s, std::ptrdiff_t n) {
  if (s->error()) std::rethrow_exception(s->error());
  if (n == 0) co_return std::string();
  if (n < 0) {
    std::string all;
    for (;;) {
      std::string block =
          co_await read_impl(s, static_cast<std::ptrdiff_t>(s->limit()));
      if (block.empty()) break;
      all += block;
    }
    co_return all;
  }
  if (s->buffered().empty() && !s->eof()) {
    co_await s->wait_for_data("read");
  }
  if (s->buffered().empty() && s->error()) std::rethrow_exception(s->error());
  co_return s->take(static_cast<std::size_t>(n));
}

Task<std::string> readexactly_impl(std::shared_ptr<Stream> s,
                                   std::ptrdiff_t n) {
  if (n < 0) throw ValueError("readexactly size can not be less than zero");
  if (s->error()) std::rethrow_exception(s->error());
  const auto want = static_cast<std::size_t>(n);
  while (s->buffered().size() < want) {
    if (s->eof()) {
      if (s->error()) std::rethrow_exception(s->error());
      throw asyncio::IncompleteReadError(s->take(s->buffered().size()), want);
    }
    co_await s->wait_for_data("readexactly");
  }
  co_return s->take(want);
}

Task<std::optional<std::string>> next_line_impl(std::shared_ptr<Stream> s) {
  std::string line = co_await readline_impl(s);
  if (line.empty()) co_return std::nullopt;
  co_return std::optional<std::string>(std::move(line));
}

Task<void> drain_impl(std::shared_ptr<Stream> s) {
  if (s->error()) std::rethrow_exception(s->error());
  if (s->closing() && !s->lost()) {
    // Let the close finish, so that its error (if any) is the one raised.
    co_await asyncio::sleep(std::chrono::seconds(0));
  }
  while (s->over_high_water() && !s->lost()) {
    co_await ListWait(s->drainers());
  }
  if (s->lost() && (s->lost_error() != nullptr || !s->closing())) {
    if (s->lost_error() != nullptr) std::rethrow_exception(s->lost_error());
    throw ConnectionResetError("Connection lost");
  }
}

Task<void> wait_closed_impl(std::shared_ptr<Stream> s) {
  while (!s->lost()) {
    co_await ListWait(s->closers());
  }
}

asyncio::Connection connection_of(asyncio::EventLoop& loop,
                                  std::unique_ptr<Channel> channel,
                                  std::size_t limit) {
  asyncio::SocketAddress sock;
  asyncio::SocketAddress peer;
  try {
    sock = sys::socket_name(channel->fd());
    peer = sys::peer_name(channel->fd());
  } catch (const OSError&) {
    // A peer already gone: the first read reports it.
  }
  if (sock.path.empty()) sys::set_nodelay(channel->fd());
  auto s = std::make_shared<Stream>(loop, std::move(channel), limit);
  s->sock = std::move(sock);
  s->peer = std::move(peer);
  return {asyncio::StreamReader(s), asyncio::StreamWriter(s)};
}

// What a client's TLS needs, none of it set for plain TCP.
struct ClientTls {
  std::optional<ssl::SSLContext> context;
  std::string server_hostname;
  std::chrono::duration<double> timeout{};
};

ClientTls client_tls(const asyncio::StreamOptions& options,
                     std::string server_hostname) {
  ClientTls tls;
  if (options.ssl != nullptr) {
    tls = {*options.ssl, std::move(server_hostname),
           options.ssl_handshake_timeout};
  }
  return tls;
}

Task<asyncio::Connection> connect_to(std::vector<sys::Endpoint> endpoints,
                                     std::size_t limit, ClientTls tls) {
  asyncio::EventLoop& loop = asyncio::get_running_loop();
  sys::FileDescriptor connected;
  std::exception_ptr last;
  for (const sys::Endpoint& to : endpoints) {
    try {
      sys::FileDescriptor fd = sys::stream_socket(to.family);
      if (!sys::connect_start(fd.get(), to)) {
        co_await FdReady(loop, fd.get(), Channel::Blocked::kWritable);
        if (const int err = sys::connect_result(fd.get()); err != 0) {
          throw_os_error(err);
        }
      }
      connected = std::move(fd);
      break;
    } catch (const OSError&) {
      last = std::current_exception();
    }
  }
  if (!connected) {
    if (last == nullptr) throw OSError("no address to connect to");
    std::rethrow_exception(last);
  }
  std::unique_ptr<Channel> channel;
  if (tls.context) {
    Task<std::unique_ptr<Channel>> handshake =
        tls_handshake(std::move(connected), *tls.context,
                      std::move(tls.server_hostname), false, tls.timeout);
    std::unique_ptr<Channel> done = co_await std::move(handshake);
    channel = std::move(done);
  } else {
    channel = socket_channel(std::move(connected));
  }
  co_return connection_of(loop, std::move(channel), limit);
}

Task<std::vector<sys::Endpoint>> endpoints_of(std::string host, int port);

Task<asyncio::Connection> open_tcp(std::string host, int port,
                                   std::size_t limit, ClientTls tls) {
  std::vector<sys::Endpoint> endpoints = co_await endpoints_of(host, port);
  Task<asyncio::Connection> connecting =
      connect_to(std::move(endpoints), limit, std::move(tls));
  asyncio::Connection c = co_await std::move(connecting);
  co_return c;
}

Task<std::vector<sys::Endpoint>> endpoints_of(std::string host, int port) {
  std::vector<sys::Endpoint> found = sys::numeric_endpoints(host, port);
  if (found.empty()) {
    // Off the loop's thread: getaddrinfo may block for seconds.
    std::vector<sys::Endpoint> resolved =
        co_await asyncio::to_thread(&sys::resolve, host, port);
    found = std::move(resolved);
  }
  co_return found;
}

}  // namespace

// --- the server --------------------------------------------------------------

struct ServerState;
// A TLS client of a server: the handshake, then the handler.
Task<void> serve_tls_client(std::shared_ptr<ServerState> state,
                            sys::FileDescriptor fd);

struct ServerState {
  asyncio::EventLoop* loop = nullptr;
  asyncio::ClientConnected handler;
  std::size_t limit = 0;
  std::optional<ssl::SSLContext> ssl;
  std::chrono::duration<double> ssl_handshake_timeout{};
  std::vector<sys::FileDescriptor> listeners;
  std::vector<asyncio::SocketAddress> addresses;
  std::string unix_path;
  bool closed = false;
  std::size_t active = 0;  // connection handlers not yet ended
  WaitList closed_waiters;
  WaitList forever_waiters;
  std::weak_ptr<ServerState> self;

  ServerState() = default;
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;
  ~ServerState() {
    if (!closed && loop_alive(loop) && !loop->is_closed()) close();
  }

  void listen() {
    for (auto& fd : listeners) {
      const int l = fd.get();
      loop->add_reader(l, [this, l] { accept_from(l); });
    }
  }

  void accept_from(int listener) {
    // As many as the backlog per wake-up, so one busy listener cannot
    // starve the loop's other work.
    for (int i = 0; i < 100 && !closed; ++i) {
      sys::FileDescriptor fd;
      try {
        fd = sys::accept_one(listener);
      } catch (const OSError&) {
        // EMFILE and the like: Python logs and goes on; the loop's handler
        // reports it.
        loop->call_exception_handler({"socket.accept() out of system resource",
                                      std::current_exception(), "<Server>"});
        return;
      }
      if (!fd) return;
      asyncio::Task<void> task;
      if (ssl) {
        task = asyncio::create_task(
            *loop, serve_tls_client(self.lock(), std::move(fd)));
      } else {
        asyncio::Connection c =
            connection_of(*loop, socket_channel(std::move(fd)), limit);
        task = asyncio::create_task(*loop, handler(c.reader, c.writer));
      }
      ++active;
      task.add_done_callback([state = self.lock()](asyncio::Task<void>& t) {
        if (!t.cancelled() && t.exception() != nullptr) {
          state->loop->call_exception_handler(
              {"Unhandled exception in client_connected_cb", t.exception(),
               t.core()->describe()});
        }
        if (--state->active == 0 && state->closed) {
          state->closed_waiters.wake_up_to(state->closed_waiters.size());
        }
      });
    }
  }

  void close() {
    if (closed) return;
    closed = true;
    for (auto& fd : listeners) loop->remove_reader(fd.get());
    listeners.clear();
    if (!unix_path.empty()) ::unlink(unix_path.c_str());
    forever_waiters.wake_up_to(forever_waiters.size());
    if (active == 0) closed_waiters.wake_up_to(closed_waiters.size());
  }
};

Task<void> serve_tls_client(std::shared_ptr<ServerState> state,
                            sys::FileDescriptor fd) {
  std::unique_ptr<Channel> channel;
  try {
    Task<std::unique_ptr<Channel>> handshake = tls_handshake(
        std::move(fd), *state->ssl, {}, true, state->ssl_handshake_timeout);
    std::unique_ptr<Channel> done = co_await std::move(handshake);
    channel = std::move(done);
  } catch (const OSError&) {
    // A client whose handshake failed or timed out is dropped, as Python's
    // asyncio does (it logs one in debug mode only).
    co_return;
  }
  asyncio::Connection c =
      connection_of(*state->loop, std::move(channel), state->limit);
  Task<void> handling = state->handler(c.reader, c.writer);
  co_await std::move(handling);
}

namespace {

Task<asyncio::Server> serve_on(asyncio::ClientConnected handler,
                               std::vector<sys::Endpoint> endpoints,
                               asyncio::ServerOptions options,
                               std::string unix_path) {
  auto state = std::make_shared<ServerState>();
  state->self = state;
  state->loop = &asyncio::get_running_loop();
  state->handler = std::move(handler);
  state->limit = options.limit;
  if (options.ssl != nullptr) state->ssl = *options.ssl;
  state->ssl_handshake_timeout = options.ssl_handshake_timeout;
  if (!unix_path.empty()) {
    // A stale socket file from an earlier run would fail the bind.
    if (::unlink(unix_path.c_str()) != 0 && errno != ENOENT) {
      throw_os_error(errno, unix_path);
    }
  }
  for (const sys::Endpoint& at : endpoints) {
    state->listeners.push_back(
        sys::listen_on(at, options.backlog, options.reuse_port));
    state->addresses.push_back(sys::socket_name(state->listeners.back().get()));
  }
  state->unix_path = std::move(unix_path);
  state->listen();
  co_return asyncio::Server(state);
}

Task<asyncio::Server> start_tcp(asyncio::ClientConnected handler,
                                std::string host, int port,
                                asyncio::ServerOptions options) {
  std::vector<sys::Endpoint> endpoints = co_await endpoints_of(host, port);
  asyncio::Server server =
      co_await serve_on(std::move(handler), std::move(endpoints), options, {});
  co_return server;
}

Task<void> server_wait_closed(std::shared_ptr<ServerState> s) {
  while (!(s->closed && s->active == 0)) {
    co_await ListWait(s->closed_waiters);
  }
}

Task<void> server_forever(std::shared_ptr<ServerState> s) {
  if (s->closed) throw RuntimeError("Server is closed");
  std::exception_ptr cancelled;
  try {
    while (!s->closed) {
      co_await ListWait(s->forever_waiters);
    }
  } catch (const asyncio::CancelledError&) {
    cancelled = std::current_exception();
  }
  if (cancelled != nullptr) {
    s->close();
    co_await server_wait_closed(s);
    std::rethrow_exception(cancelled);
  }
}

}  // namespace

}  // namespace concur::asyncio_detail

namespace concur::asyncio {

using asyncio_detail::checked;

Task<std::string> StreamReader::read(std::ptrdiff_t n) {
  return asyncio_detail::read_impl(checked(s_), n);
}
Task<std::string> StreamReader::readline() {
  return asyncio_detail::readline_impl(checked(s_));
}
Task<std::string> StreamReader::readexactly(std::ptrdiff_t n) {
  return asyncio_detail::readexactly_impl(checked(s_), n);
}
Task<std::string> StreamReader::readuntil(std::string separator) {
  return asyncio_detail::readuntil_impl(checked(s_), std::move(separator));
}
Task<std::optional<std::string>> StreamReader::next_line() {
  return asyncio_detail::next_line_impl(checked(s_));
}
bool StreamReader::at_eof() const noexcept {
  return s_ != nullptr && s_->eof() && s_->buffered().empty();
}
std::exception_ptr StreamReader::exception() const noexcept {
  return s_ != nullptr ? s_->error() : nullptr;
}

void StreamWriter::write(std::string_view data) { checked(s_)->write(data); }
void StreamWriter::writelines(const std::vector<std::string>& lines) {
  for (const auto& line : lines) write(line);
}
Task<void> StreamWriter::drain() {
  return asyncio_detail::drain_impl(checked(s_));
}
void StreamWriter::write_eof() { checked(s_)->write_eof(); }
bool StreamWriter::can_write_eof() const noexcept {
  return s_ != nullptr && s_->can_write_eof();
}
void StreamWriter::close() { checked(s_)->close(); }
bool StreamWriter::is_closing() const noexcept {
  return s_ != nullptr && (s_->closing() || s_->lost());
}
Task<void> StreamWriter::wait_closed() {
  return asyncio_detail::wait_closed_impl(checked(s_));
}
std::optional<SocketAddress> StreamWriter::get_extra_info(
    std::string_view name) const {
  if (s_ == nullptr) return std::nullopt;
  if (name == "peername") return s_->peer;
  if (name == "sockname") return s_->sock;
  return std::nullopt;
}
std::size_t StreamWriter::buffer_size() const noexcept {
  return s_ != nullptr ? s_->write_buffered() : 0;
}

namespace {

void check_tls_options(const StreamOptions& options) {
  if (options.ssl == nullptr) {
    if (!options.server_hostname.empty()) {
      throw ValueError("server_hostname is only meaningful with ssl");
    }
    return;
  }
  asyncio_detail::check_handshake_timeout(options.ssl_handshake_timeout);
}

}  // namespace

Task<Connection> open_connection(std::string host, int port,
                                 StreamOptions options) {
  if (host.empty()) throw ValueError("open_connection() needs a host");
  asyncio_detail::check_port(port);
  check_tls_options(options);
  std::string name = options.server_hostname.empty()
                         ? host
                         : std::string(options.server_hostname);
  return asyncio_detail::open_tcp(
      std::move(host), port, options.limit,
      asyncio_detail::client_tls(options, std::move(name)));
}

Task<Connection> open_unix_connection(const std::string& path,
                                      StreamOptions options) {
  check_tls_options(options);
  if (options.ssl && options.server_hostname.empty()) {
    throw ValueError(
        "You must set server_hostname when using ssl without a host");
  }
  std::string name(options.server_hostname);
  std::vector<sys::Endpoint> endpoints{sys::unix_endpoint(path)};
  return asyncio_detail::connect_to(
      std::move(endpoints), options.limit,
      asyncio_detail::client_tls(options, std::move(name)));
}

Task<Server> start_server(ClientConnected handler, std::string host, int port,
                          ServerOptions options) {
  if (!handler) throw ValueError("start_server() needs a handler");
  if (host.empty()) {
    throw ValueError(
        "start_server() needs a host: \"0.0.0.0\" or \"::\" listens on every "
        "interface, which a server never does unless told");
  }
  asyncio_detail::check_port(port);
  if (options.ssl) {
    asyncio_detail::check_handshake_timeout(options.ssl_handshake_timeout);
  }
  return asyncio_detail::start_tcp(std::move(handler), std::move(host), port,
                                   options);
}

Task<Server> start_unix_server(ClientConnected handler, std::string path,
                               ServerOptions options) {
  if (!handler) throw ValueError("start_unix_server() needs a handler");
  if (options.ssl) {
    asyncio_detail::check_handshake_timeout(options.ssl_handshake_timeout);
  }
  std::vector<sys::Endpoint> endpoints{sys::unix_endpoint(path)};
  return asyncio_detail::serve_on(std::move(handler), std::move(endpoints),
                                  options, std::move(path));
}

void Server::close() {
  if (s_ != nullptr) s_->close();
}
Task<void> Server::wait_closed() {
  if (s_ == nullptr) throw ValueError("an empty Server");
  return asyncio_detail::server_wait_closed(s_);
}
Task<void> Server::serve_forever() {
  if (s_ == nullptr) throw ValueError("an empty Server");
  return asyncio_detail::server_forever(s_);
}
bool Server::is_serving() const noexcept {
  return s_ != nullptr && !s_->closed;
}
std::vector<SocketAddress> Server::sockets() const {
  return s_ != nullptr ? s_->addresses : std::vector<SocketAddress>{};
}

}  // namespace concur::asyncio
