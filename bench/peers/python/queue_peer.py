#!/usr/bin/env python3
"""Python's queue module on the workloads of bench/queue_bench.cpp.

Each workload moves integers from P producer threads to C consumer threads
through one queue, the consumers blocking in get() when it is empty, as its
C++ twin does: queue_* through queue.Queue, simple_queue_* through
queue.SimpleQueue. The time runs from the moment every thread is ready
until the last one is joined, and is reported per item (1 / throughput).
Every workload runs a few times; the median is reported.

Prints one JSON object on stdout, in the format of threading_peer.py:
  {"python": "3.11.7 (CPython)",
   "workloads": {"queue_1p1c": {"ns_per_op": 5880.2, "ops": 40000,
                                "samples_ns_per_op": [...]}, ...}}
"""

import queue
import threading

import peer_harness


def transfer(make_queue, producers, consumers, items):
    """Returns (elapsed ns, items moved) for one run."""
    q = make_queue()
    # The main thread is the last party, so that the clock starts when every
    # worker is running, not while the last one is being created.
    ready = threading.Barrier(producers + consumers + 1)
    per_producer = items // producers
    per_consumer = items // consumers
    sums = []

    def produce():
        put = q.put
        ready.wait()
        for i in range(per_producer):
            put(i)

    def consume():
        get = q.get
        ready.wait()
        total = 0
        for _ in range(per_consumer):
            total += get()
        sums.append(total)

    threads = [threading.Thread(target=produce) for _ in range(producers)]
    threads += [threading.Thread(target=consume) for _ in range(consumers)]
    elapsed = peer_harness.time_joins(threads, ready)
    assert sum(sums) == producers * (per_producer * (per_producer - 1) // 2)
    return elapsed, per_producer * producers


def workload(make_queue, producers, consumers):
    return lambda n: transfer(make_queue, producers, consumers, n)


# Items per sample, chosen so that each sample takes 0.1-0.3 s on a current
# x86 core (queue.Queue moves about 170k items/s, SimpleQueue several times
# more).
WORKLOADS = {
    "queue_1p1c": (workload(queue.Queue, 1, 1), 40_000),
    "queue_2p2c": (workload(queue.Queue, 2, 2), 40_000),
    "simple_queue_1p1c": (workload(queue.SimpleQueue, 1, 1), 200_000),
    "simple_queue_2p2c": (workload(queue.SimpleQueue, 2, 2), 200_000),
}


if __name__ == "__main__":
    # Multiples of 4, so that two producers and two consumers split the
    # items exactly.
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS, ops_multiple=4)
