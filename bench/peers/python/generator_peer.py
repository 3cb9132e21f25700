#!/usr/bin/env python3
"""Python's generators on the workloads of bench/generator_bench.cpp.

generator_next takes values from a counting generator with next();
generator_range_for with a for loop; generator_yield_from_1 and _100 take
them through chains of 1 and 100 generators delegating with `yield from`.
Reported per value.

Prints one JSON object on stdout, in the format of threading_peer.py.
"""

import itertools
import time

import peer_harness


def naturals():
    for i in itertools.count():
        yield i


def delegated(depth):
    if depth == 0:
        yield from naturals()
    else:
        yield from delegated(depth - 1)


def by_next(make):
    def run(n):
        gen = make()
        step = next
        start = time.perf_counter_ns()
        for _ in range(n):
            step(gen)
        return time.perf_counter_ns() - start, n
    return run


def by_for(n):
    start = time.perf_counter_ns()
    for i in naturals():
        if i == n:
            break
    return time.perf_counter_ns() - start, n


WORKLOADS = {
    "generator_next": (by_next(naturals), 2_000_000),
    "generator_range_for": (by_for, 2_000_000),
    "generator_yield_from_1": (by_next(lambda: delegated(0)), 2_000_000),
    "generator_yield_from_100": (by_next(lambda: delegated(99)), 500_000),
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS)
