#!/usr/bin/env python3
"""Python's concurrent.futures on the workloads of bench/futures_bench.cpp.

Each workload is the same work as its C++ twin, written as a Python
programmer would write it, and timed with time.perf_counter_ns. Every
workload runs a few times; the median time per operation is reported.

  pool_submit_1m  ThreadPoolExecutor(2): submit 20,000 calls of a function
                  that returns its argument, then result() of each; one
                  operation is one task (C++ does a million).
  as_completed_200k, wait_200k
                  the same 20,000 calls read through as_completed() or
                  wait() (C++ does 200,000).
  process_pool_submit
                  the same with ProcessPoolExecutor(2), 2,000 calls (C++
                  does 100,000).
  primes_pool     the seeds' is_prime of the first five PRIMES of the
                  concurrent.futures documentation, with
                  ThreadPoolExecutor(2).map; one operation is the five
                  checks. The sequential loop is reported beside it
                  ("sequential_ns_per_op"): under the GIL threads do not
                  speed it up.
  primes_process_pool_start
                  the same with ProcessPoolExecutor(2).map, the pool made
                  inside the clock.
  sum_1e8         sum() of a list of 1 .. 10^7 built beforehand (the seed
                  sums a prebuilt list; C++ sums 10^8 int64); one operation
                  is one element.

fib_forkjoin and skynet have no Python twin: a task of a ThreadPoolExecutor
that waits on a future it submitted to the same pool of two workers
deadlocks in Python once both workers wait, so the work cannot be written
with it at all.

Prints one JSON object on stdout:
  {"python": "3.11.7 (CPython)",
   "workloads": {"pool_submit_1m": {"ns_per_op": 25000.0, "ops": 20000,
                                    "samples_ns_per_op": [...]}, ...}}
"""

import concurrent.futures
import math
import statistics
import time

import peer_harness

WORKERS = 2

# The first five of the documentation's six PRIMES (all prime).
PRIMES = [
    112272535095293,
    112582705942171,
    112272535095293,
    115280095190773,
    115797848077099,
]


def identity(i):
    return i


def submit_and_read(executor_class, n):
    """Submit n trivial calls to a pool of two, then result() of each."""
    with executor_class(max_workers=WORKERS) as pool:
        # Start the workers before the clock, as the C++ twin warms its pool.
        pool.submit(identity, 0).result()
        start = time.perf_counter_ns()
        futures = [pool.submit(identity, i) for i in range(n)]
        total = sum(f.result() for f in futures)
        elapsed = time.perf_counter_ns() - start
    assert total == n * (n - 1) // 2
    return elapsed, n


def pool_submit_1m(n):
    return submit_and_read(concurrent.futures.ThreadPoolExecutor, n)


def process_pool_submit(n):
    """The same on ProcessPoolExecutor(2): each call pickled to a worker
    process and its result back."""
    return submit_and_read(concurrent.futures.ProcessPoolExecutor, n)


def read_completed(n, read):
    """Submit n trivial calls to a pool of two, then read them with read."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        pool.submit(identity, 0).result()
        start = time.perf_counter_ns()
        futures = [pool.submit(identity, i) for i in range(n)]
        total = read(futures)
        elapsed = time.perf_counter_ns() - start
    assert total == n * (n - 1) // 2
    return elapsed, n


def as_completed_200k(n):
    return read_completed(
        n, lambda fs: sum(f.result()
                          for f in concurrent.futures.as_completed(fs)))


def wait_200k(n):
    return read_completed(
        n, lambda fs: sum(f.result() for f in concurrent.futures.wait(fs).done))


def is_prime(n):
    """The seeds' is_prime, as in Python's documentation."""
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


def primes_sequential():
    start = time.perf_counter_ns()
    found = sum(is_prime(n) for n in PRIMES)
    elapsed = time.perf_counter_ns() - start
    assert found == len(PRIMES)
    return elapsed, 1


def primes_on(executor_class):
    """The five checks with executor_class(2).map; the pool is made inside
    the clock, as the seed makes it in its `with` block."""
    start = time.perf_counter_ns()
    with executor_class(max_workers=WORKERS) as pool:
        found = sum(pool.map(is_prime, PRIMES))
    elapsed = time.perf_counter_ns() - start
    assert found == len(PRIMES)
    return elapsed, 1


def primes_pool(_):
    return primes_on(concurrent.futures.ThreadPoolExecutor)


def primes_process_pool(_):
    """The seed's own program: processes run the checks in parallel."""
    return primes_on(concurrent.futures.ProcessPoolExecutor)


def sum_1e8(n):
    """sum() of a list of 1 .. n built before the clock starts."""
    numbers = list(range(1, n + 1))
    start = time.perf_counter_ns()
    total = sum(numbers)
    elapsed = time.perf_counter_ns() - start
    assert total == n * (n + 1) // 2
    return elapsed, n


# (function, operations per sample, samples). Samples take 0.1-1.5 s each
# on a current x86 core; primes_pool is one fixed piece of work (about a
# second), so it gets fewer samples.
WORKLOADS = {
    "pool_submit_1m": (pool_submit_1m, 20_000, 5),
    "as_completed_200k": (as_completed_200k, 20_000, 5),
    "wait_200k": (wait_200k, 20_000, 5),
    "process_pool_submit": (process_pool_submit, 2_000, 5),
    "primes_pool": (primes_pool, 1, 3),
    "primes_process_pool_start": (primes_process_pool, 1, 3),
    "sum_1e8": (sum_1e8, 10_000_000, 5),
}
# Reported beside a workload, not as it: {workload: (key, function)}.
EXTRAS = {
    "primes_pool": ("sequential_ns_per_op", primes_sequential),
}


def main():
    args = peer_harness.parse_args(__doc__.splitlines()[0], WORKLOADS)
    scale = 0.25 if args.quick else 1.0
    results = {}
    for name in args.only or WORKLOADS:
        function, ops, samples = WORKLOADS[name]
        ops = max(1, int(ops * scale))
        samples = 1 if args.quick and ops == 1 else \
            min(samples, 3) if args.quick else samples
        # A single-operation workload is too big to warm up.
        warm_up = max(1, ops // 100) if ops > 1 else 0
        results[name] = peer_harness.measure(function, ops, samples, warm_up)
        if name in EXTRAS:
            key, extra = EXTRAS[name]
            times = [extra()[0] for _ in range(samples)]
            results[name][key] = statistics.median(times)
    peer_harness.emit(results)


if __name__ == "__main__":
    main()
