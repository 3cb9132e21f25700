// libFuzzer target for the message framing of multiprocessing::Connection:
// the input is what a peer wrote on the stream (its first byte picks how
// the receiver reads). Every input ends in messages received and then a
// defined error (EOFError at the end, OSError for a torn or oversized
// frame, TypeError/ValueError/EOFError for a bad value), never a crash, a
// hang, a leak or an allocation beyond what the input justifies.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "concur/errors.hpp"
#include "concur/multiprocessing.hpp"

namespace {

namespace mp = concur::multiprocessing;

using Value = std::tuple<int, std::string, std::vector<double>>;

// Reads messages until the connection refuses one.
void drain(mp::Connection& in, std::uint8_t mode) {
  std::byte room[64];
  for (;;) {
    try {
      switch (mode % 4) {
        case 0:
          static_cast<void>(in.recv_bytes());
          break;
        case 1:
          static_cast<void>(in.recv_bytes(32));
          break;
        case 2:
          static_cast<void>(in.recv_bytes_into(room));
          break;
        default:
          static_cast<void>(in.recv<Value>());
          break;
      }
    } catch (const concur::EOFError&) {
      return;
    } catch (const mp::BufferTooShort&) {
      continue;
    } catch (const concur::TypeError&) {
      continue;
    } catch (const concur::ValueError&) {
      continue;
    } catch (const concur::OSError&) {
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size == 0) return 0;
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) return 0;
  // libFuzzer's inputs (4 KiB by default) fit in the socket's buffer, so
  // the whole stream is written before the receiver starts.
  const auto stream = std::as_bytes(std::span(data + 1, size - 1));
  std::size_t written = 0;
  while (written < stream.size()) {
    const ssize_t n =
        ::write(fds[1], stream.data() + written, stream.size() - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  ::close(fds[1]);
  mp::Connection in(fds[0], true, false);
  drain(in, data[0]);
  return 0;
}
