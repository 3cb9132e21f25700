// concur/asyncio.hpp — Python's asyncio for C++20: an event loop on epoll,
// tasks on C++20 coroutines, cancellation and timeouts, task groups, and
// the locks and queues of tasks.
//
//   asyncio::Task<int> answer() {
//     co_await asyncio::sleep(10ms);
//     co_return 42;
//   }
//   int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
//
// The headers follow Python's modules: events (the loop), futures, tasks,
// timeouts, taskgroups, runners, locks, queues, streams, subprocess.
//
// Rules of C++ coroutines that Python has no need of, for g++ 12 (the
// compiler of Debian 12) in particular:
//   * no coroutine lambdas with captures: g++ 12 miscompiles them (write a
//     function taking the state as parameters instead); nor a capturing
//     lambda in the full-expression of a co_await (`co_await
//     to_thread([x] { ... })` frees the lambda twice): make the awaitable
//     first, `auto f = to_thread([x] { ... }); co_await f;`;
//   * one co_await per full-expression, bound to a named local
//     (`int v = co_await f();`), not inside braced initializers, ternaries
//     or function arguments, where g++ 12 mishandles the temporaries;
//   * parameters of a coroutine by value: a reference parameter refers to
//     the caller's object, which a task started later may outlive.
#pragma once

#include "concur/asyncio/events.hpp"
#include "concur/asyncio/futures.hpp"
#include "concur/asyncio/locks.hpp"
#include "concur/asyncio/queues.hpp"
#include "concur/asyncio/runners.hpp"
#include "concur/asyncio/streams.hpp"
#include "concur/asyncio/subprocess.hpp"
#include "concur/asyncio/taskgroups.hpp"
#include "concur/asyncio/tasks.hpp"
#include "concur/asyncio/timeouts.hpp"
