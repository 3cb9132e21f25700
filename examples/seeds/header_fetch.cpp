// header-fetch — the response headers of three web sites, fetched at once
// by three coroutines on one thread.
//
// Ports seed 001's asyncio program:
//
//     async def wget(host):
//         print('wget %s...' % host)
//         connect = asyncio.open_connection(host, 80)
//         reader, writer = await connect
//         header = 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host
//         writer.write(header.encode('utf-8'))
//         await writer.drain()
//         while True:
//             line = await reader.readline()
//             if line == b'\r\n':
//                 break
//             print('%s header > %s' % (host, line.decode('utf-8').rstrip()))
//         writer.close()
//
//     loop = asyncio.get_event_loop()
//     hosts_list = ['www.sina.com.cn', 'www.sohu.com', 'www.163.com']
//     tasks = [wget(host) for host in hosts_list]
//     loop.run_until_complete(asyncio.wait(tasks))
//     loop.close()
//
// The tour needs no network: by default the program starts three small
// HTTP servers of its own on loopback, one per seed host, each answering
// after one second of seed time, so the three fetches visibly overlap
// (the total is one second, not three). Named on the command line
// (`seed_header_fetch example.com example.org:443`), real hosts are
// fetched on port 80, as the seed does, or on the port named; port 443
// goes over TLS, with the server's certificate checked against the
// system's trusted ones.
#include <optional>
#include <string>
#include <vector>

#include "concur/asyncio.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
namespace asyncio = concur::asyncio;

// A loopback stand-in for one of the seed's hosts.
asyncio::Task<void> answer(asyncio::StreamReader reader,
                           asyncio::StreamWriter writer, std::string name) {
  std::string request = co_await reader.readuntil("\r\n\r\n");
  (void)request;
  co_await asyncio::sleep(tour::scaled(1s));  // a slow server
  writer.write(
      "HTTP/1.0 200 OK\r\nServer: concur-tour\r\nContent-Type: "
      "text/html\r\nX-Stands-For: " +
      name + "\r\n\r\n<html></html>");
  co_await writer.drain();
  writer.close();
}

asyncio::Task<void> wget(std::string host, std::string address, int port,
                         const concur::ssl::SSLContext* tls) {
  tour::print("wget %s...\n", host.c_str());
  asyncio::Connection c =
      co_await asyncio::open_connection(address, port, {.ssl = tls});
  c.writer.write("GET / HTTP/1.0\r\nHost: " + host + "\r\n\r\n");
  co_await c.writer.drain();
  for (;;) {
    std::string line = co_await c.reader.readline();
    if (line == "\r\n" || line.empty()) break;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
      line.pop_back();
    }
    tour::print("%s header > %s\n", host.c_str(), line.c_str());
  }
  c.writer.close();
}

// The servers' handlers know which host they stand for.
asyncio::Task<std::vector<asyncio::Server>> start_stand_ins(
    std::vector<std::string> names) {
  std::vector<asyncio::Server> servers;
  for (const std::string& name : names) {
    // Made apart from the co_await (see concur/asyncio.hpp).
    asyncio::ClientConnected handler = [name](asyncio::StreamReader r,
                                              asyncio::StreamWriter w) {
      return answer(std::move(r), std::move(w), name);
    };
    auto starting = asyncio::start_server(handler, "127.0.0.1", 0);
    asyncio::Server server = co_await starting;
    servers.push_back(server);
  }
  co_return servers;
}

int main(int argc, char** argv) {
  asyncio::EventLoop& loop = asyncio::get_event_loop();
  std::vector<std::string> hosts_list{"www.sina.com.cn", "www.sohu.com",
                                      "www.163.com"};
  std::vector<asyncio::Server> servers;
  if (argc > 1) {
    hosts_list.assign(argv + 1, argv + argc);
  } else {
    servers = loop.run_until_complete(start_stand_ins(hosts_list));
  }
  std::optional<concur::ssl::SSLContext> tls;
  if (servers.empty()) tls = concur::ssl::SSLContext::create_default_context();
  tour::Stopwatch start;
  std::vector<asyncio::Task<void>> tasks;
  for (std::size_t i = 0; i < hosts_list.size(); ++i) {
    if (servers.empty()) {
      // "host" or "host:port".
      std::string host = hosts_list[i];
      int port = 80;
      if (const auto colon = host.rfind(':'); colon != std::string::npos) {
        port = std::stoi(host.substr(colon + 1));
        host.resize(colon);
      }
      tasks.push_back(
          wget(host, host, port, port == 443 ? &tls.value() : nullptr));
    } else {
      tasks.push_back(wget(hosts_list[i], "127.0.0.1",
                           servers[i].sockets().at(0).port, nullptr));
    }
  }
  auto outcome = loop.run_until_complete(asyncio::wait(std::move(tasks)));
  for (auto& t : outcome.done) {
    if (auto error = t.exception()) {
      try {
        std::rethrow_exception(error);
      } catch (const concur::Error& e) {
        tour::print("a fetch failed: %s: %s\n", e.type_name(), e.what());
      }
    }
  }
  tour::print("all headers in %.2f s\n", start.seconds());
  for (auto& s : servers) s.close();
  loop.close();
  tour::report(start);
}
