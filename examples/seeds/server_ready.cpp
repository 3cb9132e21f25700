// server-ready — worker threads wait on an Event until the main thread has
// "connected to the server"; then the same with logging and wait timeouts.
//
// Ports the Event programs of seed 004. First:
//
//     def worker(event):
//         print(current_thread().name, 'waiting for server\n')
//         event.wait()
//         print(current_thread().name, 'server is ready\n ')
//         sleep(1)
//
//     server_ready = Event()
//     for i in range(3):
//         Thread(target=worker, args=(server_ready,)).start()
//     print(current_thread().name, "connecting server\n")
//     sleep(3)
//     server_ready.set()
//
// Then with logging.basicConfig(format='(%(threadName)-10s) %(message)s'):
//
//     def worker(event):
//         while not event.is_set():
//             logging.debug('Waiting for redis ready...')
//             event.wait(1)
//             logging.debug('Redis ready, [%s]', time.ctime())
//         time.sleep(1)
//
// The seed logs "Redis ready" after every wait(1), even one that timed out.
// Event.wait returns whether the flag is set (false on timeout), so this
// port says which happened.
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "tour.hpp"

using namespace std::chrono_literals;
using concur::threading::current_thread;
using concur::threading::Event;
using concur::threading::Thread;

void worker(Event& event) {
  tour::print("%s waiting for server\n", current_thread().name().c_str());
  event.wait();
  tour::print("%s server is ready\n", current_thread().name().c_str());
  tour::sleep(1s);
}

// logging.debug with the seed's format: the thread's name, padded to 10.
// logging writes to stderr; this writes to stdout, like the rest of the
// tour, so that the lines stay in order when the output is piped.
[[gnu::format(printf, 1, 2)]] void debug(const char* format, ...) {
  char message[256];
  std::va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  tour::print("(%-10s) %s\n", current_thread().name().c_str(), message);
}

// time.ctime(): "Sat May 25 14:04:09 2019".
std::string ctime() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%a %b %e %H:%M:%S %Y", &local);
  return text;
}

void redis_worker(Event& event) {
  while (!event.is_set()) {
    debug("Waiting for redis ready...");
    if (event.wait(tour::scaled(1s))) {
      debug("Redis ready, [%s]", ctime().c_str());
    } else {
      debug("Redis not ready after 1 s");
    }
  }
  tour::sleep(1s);
}

// Starts three threads running `target` on one Event, sets it after 3 s,
// and waits for them.
void three_workers(void (*target)(Event&), void (*announce)()) {
  Event ready;
  std::vector<Thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back(target, std::ref(ready));
    threads.back().start();
  }
  announce();
  tour::sleep(3s);
  ready.set();
  for (Thread& t : threads) t.join();
}

int main() {
  three_workers(worker, [] {
    tour::print("%s connecting server\n", current_thread().name().c_str());
  });
  three_workers(redis_worker, [] {
    debug(
        "first of all, check redis server, make sure it is OK, "
        "and then trigger the redis ready event");
  });
}
