// hello-coroutines — two hello() coroutines sleep 2 s at once, on one
// thread: the pair takes one sleep, not two.
//
// Ports seed 001's two asyncio programs, the generator-based coroutine and
// the async/await one:
//
//     @asyncio.coroutine
//     def hello():
//         print('%s: hello, world!' % threading.current_thread())
//         yield from asyncio.sleep(2)
//         print('%s: goodbye, world!' % threading.current_thread())
//
//     async def hello():
//         print('%s: hello, world!' % threading.current_thread())
//         await asyncio.sleep(2)
//         print('%s: goodbye, world!' % threading.current_thread())
//
//     loop = asyncio.get_event_loop()
//     tasks = [hello(), hello()]
//     loop.run_until_complete(asyncio.wait(tasks))
//     loop.close()
//
// C++ has one kind of coroutine. The old style's `yield from` delegated to
// another generator-based coroutine; its C++ spelling is co_await of a
// Task, which runs in the awaiting task as the delegate did. The seed ran
// in Jupyter, whose own loop was already running, and failed with "This
// event loop is already running"; here the loop is the program's own.
#include <vector>

#include "concur/asyncio.hpp"
#include "tour.hpp"

using namespace std::chrono_literals;
namespace asyncio = concur::asyncio;

// The old style: hello() delegates its sleep to another coroutine, as
// `yield from asyncio.sleep(2)` delegated to sleep's generator.
asyncio::Task<void> sleep_for_seed(std::chrono::duration<double> seconds) {
  co_await asyncio::sleep(tour::scaled(seconds));
}

asyncio::Task<void> hello_generator_style() {
  tour::print("<_MainThread(%s)>: hello, world!\n",
              concur::threading::current_thread().name().c_str());
  co_await sleep_for_seed(2s);
  tour::print("<_MainThread(%s)>: goodbye, world!\n",
              concur::threading::current_thread().name().c_str());
}

asyncio::Task<void> hello() {
  tour::print("<_MainThread(%s)>: hello, world!\n",
              concur::threading::current_thread().name().c_str());
  co_await asyncio::sleep(tour::scaled(2s));
  tour::print("<_MainThread(%s)>: goodbye, world!\n",
              concur::threading::current_thread().name().c_str());
}

int main() {
  asyncio::EventLoop& loop = asyncio::get_event_loop();
  tour::Stopwatch start;
  std::vector<asyncio::Task<void>> tasks{hello_generator_style(),
                                         hello_generator_style()};
  loop.run_until_complete(asyncio::wait(std::move(tasks)));
  tour::print("game over! (%.2f s)\n", start.seconds());

  tour::Stopwatch again;
  tasks = {hello(), hello()};
  loop.run_until_complete(asyncio::wait(std::move(tasks)));
  tour::print("both said goodbye after %.2f s\n", again.seconds());
  loop.close();
  tour::report(start);
}
