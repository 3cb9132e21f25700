// The HTTP "hello" workload that concur (bench/asyncio_bench.cpp) and its
// peers (bench/peers/asio_echo_bench.cpp's Asio server, nginx with one
// worker) share: a server on one thread answers every request on a
// keep-alive connection with kResponse, under `wrk -t1 -c100` (Debian's
// wrk) for kSeconds; wrk has one core and the server the other. An
// operation is one request (1 / the requests per second wrk counts).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace concur_bench::http_workloads {

inline constexpr int kConnections = 100;
inline constexpr int kSeconds = 1;
inline constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    "\r\nhello";

// wrk's command line against a server on 127.0.0.1:port.
inline std::vector<std::string> wrk_args(int port) {
  return {"wrk", "-t1", "-c" + std::to_string(kConnections),
          "-d" + std::to_string(kSeconds) + "s",
          "http://127.0.0.1:" + std::to_string(port) + "/"};
}

struct WrkResult {
  double requests = 0;  // completed in the run
  double seconds = 0;   // requests / wrk's requests per second
};

// Reads wrk's report ("N requests in ...", "Requests/sec: R"); an error
// (socket errors, non-2xx answers) or a report it cannot read throws.
inline WrkResult parse_wrk(const std::string& report) {
  const auto count = report.find(" requests in ");
  const auto rate = report.find("Requests/sec:");
  if (count == std::string::npos || rate == std::string::npos ||
      report.find("Socket errors") != std::string::npos ||
      report.find("Non-2xx") != std::string::npos) {
    throw std::runtime_error("wrk: " + report);
  }
  const auto line = report.rfind('\n', count);
  WrkResult r;
  r.requests = std::strtod(report.c_str() + (line + 1), nullptr);
  const double per_second =
      std::strtod(report.c_str() + rate + sizeof "Requests/sec:" - 1, nullptr);
  if (r.requests <= 0 || per_second <= 0) {
    throw std::runtime_error("wrk: " + report);
  }
  r.seconds = r.requests / per_second;
  return r;
}

}  // namespace concur_bench::http_workloads
