#!/usr/bin/env python3
"""Python's asyncio on the workloads of bench/asyncio_bench.cpp.

asyncio_gather_sleep0 gathers 100,000 tasks that each sleep(0), per task;
asyncio_sleep0 is one task's sleep(0); asyncio_create_task creates a task
and awaits it; asyncio_await_coroutine awaits a coroutine that returns at
once; asyncio_call_soon is one call_soon callback; asyncio_queue is one
item through a Queue(64) between two tasks. asyncio_idle_task_bytes is the
memory of a task waiting on an Event (tracemalloc), reported as ns_per_op
for the harness's format and as bytes_per_task. asyncio_echo_1 and _100
are bench/peers/echo_workloads.hpp's: a server and 1 or 100 clients on one
loop over loopback TCP, 64-byte messages, per round trip.
asyncio_http_hello is bench/peers/http_workloads.hpp's: a keep-alive
"hello" server on the loop under `wrk -t1 -c100 -d1s`, started by the loop
itself, 1 / wrk's requests per second (uvloop_peer.py runs the echo and
HTTP workloads on uvloop).

Prints one JSON object on stdout, in the format of threading_peer.py.
"""

import asyncio
import time
import tracemalloc

import peer_harness

GATHERED = 100_000


def in_loop(make):
    def run(n):
        return asyncio.run(make(n))
    return run


async def gather_sleep0(n):
    rounds = max(1, n // GATHERED)

    async def one_pass():
        await asyncio.sleep(0)

    start = time.perf_counter_ns()
    for _ in range(rounds):
        await asyncio.gather(*[one_pass() for _ in range(GATHERED)])
    return time.perf_counter_ns() - start, rounds * GATHERED


async def sleep0(n):
    start = time.perf_counter_ns()
    for _ in range(n):
        await asyncio.sleep(0)
    return time.perf_counter_ns() - start, n


async def child():
    return 1


async def create_task(n):
    start = time.perf_counter_ns()
    for _ in range(n):
        await asyncio.create_task(child())
    return time.perf_counter_ns() - start, n


async def await_coroutine(n):
    start = time.perf_counter_ns()
    for _ in range(n):
        await child()
    return time.perf_counter_ns() - start, n


async def call_soon(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = n

    def callback():
        nonlocal left
        left -= 1
        if left == 0:
            done.set_result(None)

    start = time.perf_counter_ns()
    for _ in range(n):
        loop.call_soon(callback)
    await done
    return time.perf_counter_ns() - start, n


async def queue(n):
    q = asyncio.Queue(64)

    async def consume():
        for _ in range(n):
            await q.get()

    start = time.perf_counter_ns()
    consumer = asyncio.create_task(consume())
    for i in range(n):
        await q.put(i)
    await consumer
    return time.perf_counter_ns() - start, n


async def idle_bytes(n):
    event = asyncio.Event()

    async def idle():
        await event.wait()

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(idle()) for _ in range(n)]
    await asyncio.sleep(0)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    event.set()
    await asyncio.gather(*tasks)
    # The harness divides elapsed by operations: report bytes that way.
    return (after - before), n


MESSAGE = b"m" * 64


async def echo_session(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def echo_client(port, rounds):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for _ in range(rounds):
        writer.write(MESSAGE)
        await reader.readexactly(len(MESSAGE))
    writer.close()
    await writer.wait_closed()


def echo(connections):
    async def run(n):
        rounds = max(1, n // connections)
        server = await asyncio.start_server(echo_session, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        start = time.perf_counter_ns()
        await asyncio.gather(*[echo_client(port, rounds)
                               for _ in range(connections)])
        elapsed = time.perf_counter_ns() - start
        server.close()
        await server.wait_closed()
        return elapsed, rounds * connections
    return run


# bench/peers/http_workloads.hpp's answer and wrk command line.
HTTP_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 5\r\n\r\nhello")
WRK = ["wrk", "-t1", "-c100", "-d1s"]


async def hello_session(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(HTTP_RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # wrk closed or reset the connection as it stopped
    writer.close()


def parse_wrk(report):
    """(requests, seconds) from wrk's report, as http_workloads.hpp's
    parse_wrk reads it; errors in the run raise."""
    if "Socket errors" in report or "Non-2xx" in report:
        raise RuntimeError("wrk: " + report)
    requests = per_second = None
    for line in report.splitlines():
        words = line.split()
        if " requests in " in line:
            requests = float(words[0])
        elif line.startswith("Requests/sec:"):
            per_second = float(words[1])
    if not requests or not per_second:
        raise RuntimeError("wrk: " + report)
    return requests, requests / per_second


async def http_hello(_):
    """One wrk run, whatever the operation count: wrk sets the length."""
    server = await asyncio.start_server(hello_session, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    wrk = await asyncio.create_subprocess_exec(
        *WRK, f"http://127.0.0.1:{port}/", stdout=asyncio.subprocess.PIPE)
    report, _ = await wrk.communicate()
    server.close()
    await server.wait_closed()
    requests, seconds = parse_wrk(report.decode())
    return seconds * 1e9, requests


STREAM_WORKLOADS = {
    "asyncio_echo_1": (in_loop(echo(1)), 20_000),
    "asyncio_echo_100": (in_loop(echo(100)), 20_000),
    "asyncio_http_hello": (in_loop(http_hello), 1),
}

WORKLOADS = {
    "asyncio_gather_sleep0": (in_loop(gather_sleep0), GATHERED),
    "asyncio_sleep0": (in_loop(sleep0), 500_000),
    "asyncio_create_task": (in_loop(create_task), 200_000),
    "asyncio_await_coroutine": (in_loop(await_coroutine), 1_000_000),
    "asyncio_call_soon": (in_loop(call_soon), 500_000),
    "asyncio_queue": (in_loop(queue), 200_000),
    "asyncio_idle_task_bytes": (in_loop(idle_bytes), 20_000),
    **STREAM_WORKLOADS,
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS)
