#!/usr/bin/env python3
"""Python's multiprocessing on the workloads of bench/multiprocessing_bench.cpp.

mp_queue_*: integers from P producer processes to C consumer processes
through one multiprocessing.Queue; mp_queue_64k and pipe_64k: 64 KiB bytes
objects from one process to another through a Queue and through a one-way
Pipe (send_bytes / recv_bytes); process_start: start and join a process
that does nothing; forkserver_start_1g: the same from the forkserver while
this process holds 1 GiB of touched memory. Processes are forked (the
"fork" context, as concur's Process, but for the forkserver row), and wait on a Barrier so that the clock starts when all are
ready; it stops when the last is joined. Times are per item, per block or
per process. Every workload runs a few times; the median is reported.

Prints one JSON object on stdout, in the format of threading_peer.py.
"""

import multiprocessing
import time

import peer_harness

CTX = multiprocessing.get_context("fork")
BLOCK = bytes(range(256)) * 256  # 64 KiB


def _produce(q, ready, n):
    ready.wait()
    put = q.put
    for i in range(n):
        put(i)


def _consume(q, ready, n):
    ready.wait()
    get = q.get
    for _ in range(n):
        get()


def transfer(producers, consumers, items):
    q = CTX.Queue()
    ready = CTX.Barrier(producers + consumers + 1)
    procs = [CTX.Process(target=_produce, args=(q, ready, items // producers))
             for _ in range(producers)]
    procs += [CTX.Process(target=_consume, args=(q, ready, items // consumers))
              for _ in range(consumers)]
    return peer_harness.time_joins(procs, ready), items


def _send_blocks(send, ready, n):
    ready.wait()
    for _ in range(n):
        send(BLOCK)


def _receive_blocks(receive, ready, n):
    ready.wait()
    for _ in range(n):
        assert len(receive()) == len(BLOCK)


def move_blocks(send, receive, blocks):
    """BLOCK `blocks` times from a process calling send to one calling
    receive (bound methods: the forked children inherit their objects)."""
    ready = CTX.Barrier(3)
    procs = [CTX.Process(target=_send_blocks, args=(send, ready, blocks)),
             CTX.Process(target=_receive_blocks,
                         args=(receive, ready, blocks))]
    return peer_harness.time_joins(procs, ready), blocks


def queue_blocks(blocks):
    q = CTX.Queue()
    return move_blocks(q.put, q.get, blocks)


def pipe_blocks(blocks):
    reader, writer = CTX.Pipe(duplex=False)
    return move_blocks(writer.send_bytes, reader.recv_bytes, blocks)


def _nothing():
    pass


def process_start(count):
    return peer_harness.start_join(CTX.Process, _nothing, count)


def forkserver_start_1g(count):
    ctx = multiprocessing.get_context("forkserver")
    memory = bytearray(b"\x01") * (1 << 30)  # every page written
    peer_harness.start_join(ctx.Process, _nothing, 1)  # the server is up
    result = peer_harness.start_join(ctx.Process, _nothing, count)
    del memory
    return result


def _identity(x):
    return x


def pool_map(items):
    """Pool(2).map over `items` ints (a list built before the clock) with
    the default chunking."""
    numbers = list(range(items))
    with CTX.Pool(2) as pool:
        pool.map(_identity, range(100))
        start = time.perf_counter_ns()
        out = pool.map(_identity, numbers)
        elapsed = time.perf_counter_ns() - start
    assert out[-1] == items - 1
    return elapsed, items


# Operations per sample, for 0.1-0.5 s a sample here (a Queue moves about
# 100k items/s between processes).
WORKLOADS = {
    "mp_queue_1p1c": (lambda n: transfer(1, 1, n), 40_000),
    "mp_queue_2p2c": (lambda n: transfer(2, 2, n), 40_000),
    "mp_queue_64k": (queue_blocks, 2_000),
    "pipe_64k": (pipe_blocks, 4_000),
    "process_start": (process_start, 200),
    "forkserver_start_1g": (forkserver_start_1g, 40),
    "pool_map_1m": (pool_map, 1_000_000),
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS, ops_multiple=4)
