// Writes the seed corpus of concur_connection_fuzz into the directory named
// on the command line: streams of well-formed frames (bytes and encoded
// values) for each way the fuzz target reads, as a Connection writes them.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "concur/multiprocessing.hpp"

namespace {

namespace mp = concur::multiprocessing;
using Value = std::tuple<int, std::string, std::vector<double>>;

// What a Connection writes for `send`: captured from a real one.
template <class Send>
std::string captured(Send send) {
  auto [a, b] = mp::Pipe();
  send(a);
  a.close();
  std::string all;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(b.fileno(), buffer, sizeof buffer)) > 0) {
    all.append(buffer, static_cast<std::size_t>(n));
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  const std::vector<std::string> streams = {
      captured([](mp::Connection& c) {
        c.send_bytes("hello");
        c.send_bytes("");
        c.send_bytes(std::string(100, 'x'));
      }),
      captured([](mp::Connection& c) {
        c.send(Value{1, "two", {3.0, 4.5}});
        c.send(Value{-7, "", {}});
        c.send(42);
      }),
  };
  int n = 0;
  for (char mode = 0; mode < 4; ++mode) {
    for (const std::string& stream : streams) {
      std::ofstream out(dir / ("seed-" + std::to_string(n++)),
                        std::ios::binary);
      out.put(mode);
      out.write(stream.data(), static_cast<std::streamsize>(stream.size()));
      if (!out) {
        std::fprintf(stderr, "connection_corpus: cannot write seeds\n");
        return 1;
      }
    }
  }
  return 0;
}
