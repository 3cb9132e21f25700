// concur/asyncio/streams.hpp — TCP and Unix-socket streams (Python's
// asyncio.streams): open_connection, start_server, StreamReader,
// StreamWriter, Server.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concur/asyncio/tasks.hpp"
#include "concur/errors.hpp"
#include "concur/ssl.hpp"

namespace concur::asyncio_detail {
class Stream;
struct ServerState;
}  // namespace concur::asyncio_detail

namespace concur::asyncio {

// readexactly() met the end of the stream first (Python's
// IncompleteReadError, an EOFError): partial() is what was read.
class IncompleteReadError : public EOFError {
 public:
  IncompleteReadError(std::string partial, std::optional<std::size_t> expected);
  CONCUR_ERROR_TYPE_NAME(IncompleteReadError)
  const std::string& partial() const noexcept { return partial_; }
  // The bytes asked for; none for readuntil().
  std::optional<std::size_t> expected() const noexcept { return expected_; }

 private:
  std::string partial_;
  std::optional<std::size_t> expected_;
};

// readuntil() found no separator within the buffer's limit (Python's
// LimitOverrunError): consumed() bytes would have to be read first.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& message, std::size_t consumed)
      : Error(message), consumed_(consumed) {}
  CONCUR_ERROR_TYPE_NAME(LimitOverrunError)
  std::size_t consumed() const noexcept { return consumed_; }

 private:
  std::size_t consumed_;
};

// A socket's address (Python's "peername" and "sockname" tuples): host and
// port for TCP, path for a Unix socket.
struct SocketAddress {
  std::string host;
  int port = 0;
  std::string path;
  friend bool operator==(const SocketAddress&, const SocketAddress&) = default;
};

// The buffer limit of a stream (Python's limit=2**16): the longest line
// readline() takes, and the high-water mark of reading.
inline constexpr std::size_t kDefaultStreamLimit = std::size_t{64} * 1024;

// Python's ssl_handshake_timeout: a TLS handshake that takes longer fails
// with TimeoutError.
inline constexpr std::chrono::seconds kDefaultHandshakeTimeout{60};

// The option structs hold what they refer to by pointer and view, so that
// they stay trivially destructible: g++ 12 destroys a temporary of a
// co_await expression twice, which is harmless only for such types. What
// they point to need only outlive the call that takes them.
struct StreamOptions {
  std::size_t limit = kDefaultStreamLimit;
  // TLS (Python's ssl=): none for plain TCP; for a server's certificate
  // checked against the system's trusted ones, a context made by
  // ssl::SSLContext::create_default_context(). The connection keeps its
  // own reference.
  const ssl::SSLContext* ssl = nullptr;
  // The name sent to the server (SNI) and checked against its certificate;
  // empty: the host connected to. Needs ssl; required for a Unix socket.
  std::string_view server_hostname{};
  std::chrono::duration<double> ssl_handshake_timeout =
      kDefaultHandshakeTimeout;
};
static_assert(std::is_trivially_destructible_v<StreamOptions>);

// ---------------------------------------------------------------------------
// StreamReader — the reading half of a connection (Python's StreamReader).
//
// The loop reads the socket as data comes, into a buffer of up to twice
// the limit (then it stops reading until the buffer drains: back-pressure
// on the peer). Reads take from the buffer and wait only when it lacks
// what they need. One task at a time may wait on a reader (RuntimeError
// otherwise, as in Python). A connection reset or another socket error is
// raised by the reads once the buffer is empty. Handles: copies share the
// stream; the connection closes when the last handle of both halves goes.
// Belongs to the loop's thread.
class StreamReader {
 public:
  StreamReader() = default;
  explicit StreamReader(std::shared_ptr<asyncio_detail::Stream> s)
      : s_(std::move(s)) {}

  // Up to n bytes (at least one, unless at the end: then ""); n < 0 reads
  // to the end of the stream.
  Task<std::string> read(std::ptrdiff_t n = -1);
  // One line with its "\n" (the rest of the stream at its end, "" after
  // it); ValueError for a line longer than the limit (the line is dropped).
  Task<std::string> readline();
  // Exactly n bytes, or IncompleteReadError at the end of the stream.
  // ValueError for a negative n.
  Task<std::string> readexactly(std::ptrdiff_t n);
  // Up to and including `separator`: IncompleteReadError at the end of the
  // stream, LimitOverrunError past the limit (the data stays in the
  // buffer). ValueError for an empty separator.
  Task<std::string> readuntil(std::string separator = "\n");
  // The next line, or nullopt at the end (Python's `async for line in
  // reader`).
  Task<std::optional<std::string>> next_line();
  // The stream has ended and the buffer is empty.
  bool at_eof() const noexcept;
  // The error the reads will raise (a reset), null if none.
  std::exception_ptr exception() const noexcept;

 private:
  std::shared_ptr<asyncio_detail::Stream> s_;
};

// ---------------------------------------------------------------------------
// StreamWriter — the writing half (Python's StreamWriter).
//
// write() sends at once what the socket takes and buffers the rest, which
// the loop sends as the socket drains; drain() waits while more than the
// high-water mark (64 KiB) is buffered, until it is under the low-water
// mark (16 KiB), and raises the connection's error once the peer has gone
// (ConnectionResetError "Connection lost" if none more precise). close()
// sends what is buffered, then closes; wait_closed() waits for that.
// Belongs to the loop's thread.
//
// Differences from Python: write() after close() or write_eof() raises
// RuntimeError (Python drops the data, or raises only after write_eof).
class StreamWriter {
 public:
  StreamWriter() = default;
  explicit StreamWriter(std::shared_ptr<asyncio_detail::Stream> s)
      : s_(std::move(s)) {}

  void write(std::string_view data);
  void writelines(const std::vector<std::string>& lines);
  Task<void> drain();
  // Half-closes the connection once the buffer is sent (Python's
  // write_eof); the peer reads the end of the stream. Over TLS, which
  // cannot half-close, RuntimeError (Python raises NotImplementedError, a
  // RuntimeError).
  void write_eof();
  bool can_write_eof() const noexcept;
  void close();
  bool is_closing() const noexcept;
  Task<void> wait_closed();
  // "peername" or "sockname", as Python's get_extra_info; nullopt for
  // other names.
  std::optional<SocketAddress> get_extra_info(std::string_view name) const;
  // The bytes buffered, not yet taken by the socket.
  std::size_t buffer_size() const noexcept;

 private:
  std::shared_ptr<asyncio_detail::Stream> s_;
};

struct Connection {
  StreamReader reader;
  StreamWriter writer;
};

// Connects over TCP (IPv4 or IPv6; a name is resolved on the default
// executor's thread, off the loop) and gives the two halves. Tries each
// address in turn; raises the last failure (ConnectionRefusedError, …).
// With options.ssl, the TLS handshake is done before it returns:
// ssl::SSLCertVerificationError for a certificate that does not verify,
// ssl::SSLError for other refusals, TimeoutError past the handshake
// timeout.
Task<Connection> open_connection(std::string host, int port,
                                 StreamOptions options = {});
Task<Connection> open_unix_connection(const std::string& path,
                                      StreamOptions options = {});

// ---------------------------------------------------------------------------
// Server — listening sockets and the tasks of their connections (Python's
// asyncio.Server). Every accepted connection runs handler(reader, writer)
// as a task of its own; an exception escaping a handler is reported by
// the loop's exception handler. close() stops listening (connections go
// on); wait_closed() waits until it has closed and every connection's
// handler has ended. A handle: copies refer to one server.
class Server {
 public:
  Server() = default;
  explicit Server(std::shared_ptr<asyncio_detail::ServerState> s)
      : s_(std::move(s)) {}

  void close();
  Task<void> wait_closed();
  // Waits until the server is closed; a cancel of the task closes it.
  Task<void> serve_forever();
  bool is_serving() const noexcept;
  // The addresses listened on (the port the system chose for port 0).
  std::vector<SocketAddress> sockets() const;

 private:
  std::shared_ptr<asyncio_detail::ServerState> s_;
};

using ClientConnected = std::function<Task<void>(StreamReader, StreamWriter)>;

struct ServerOptions {
  std::size_t limit = kDefaultStreamLimit;
  int backlog = 100;
  // SO_REUSEPORT: several sockets, one per loop and core, on one port.
  bool reuse_port = false;
  // TLS: a context with the server's certificate, e.g.
  // create_default_context(ssl::Purpose::kClientAuth) then
  // load_cert_chain(). A client whose handshake fails or times out is
  // dropped before the handler runs (Python logs it only in debug mode).
  // The server keeps its own reference.
  const ssl::SSLContext* ssl = nullptr;
  std::chrono::duration<double> ssl_handshake_timeout =
      kDefaultHandshakeTimeout;
};
static_assert(std::is_trivially_destructible_v<ServerOptions>);

// Listens on `host` (which must be given: "0.0.0.0" or "::" to listen on
// every interface, as a server never does by default) and `port` (0: one
// the system picks). ValueError for an empty host or a port outside
// 0..65535.
Task<Server> start_server(ClientConnected handler, std::string host, int port,
                          ServerOptions options = {});
Task<Server> start_unix_server(ClientConnected handler, std::string path,
                               ServerOptions options = {});

}  // namespace concur::asyncio
