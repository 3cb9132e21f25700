#!/usr/bin/env python3
"""Python's subprocess on the workloads of bench/subprocess_bench.cpp.

spawn_true: subprocess.run(["/bin/true"]), the time per run; spawn_true_1g:
the same while this process holds 1 GiB of written memory;
communicate_100m: 100 MiB through cat with Popen.communicate, the time per
MiB. Every workload runs a few times; the median is reported.

Prints one JSON object on stdout, in the format of threading_peer.py.
"""

import subprocess
import time

import peer_harness


def spawn(count):
    start = time.perf_counter_ns()
    for _ in range(count):
        subprocess.run(["/bin/true"], check=True)
    return time.perf_counter_ns() - start, count


def spawn_with_memory(count):
    memory = bytearray(b"\x01") * (1 << 30)  # every page written
    result = spawn(count)
    del memory
    return result


def communicate(mebibytes):
    data = b"x" * (mebibytes << 20)
    start = time.perf_counter_ns()
    with subprocess.Popen(["cat"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as p:
        out, _ = p.communicate(data)
    elapsed = time.perf_counter_ns() - start
    assert len(out) == len(data)
    return elapsed, mebibytes


WORKLOADS = {
    "spawn_true": (spawn, 300),
    "spawn_true_1g": (spawn_with_memory, 100),
    "communicate_100m": (communicate, 100),
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS)
