#!/usr/bin/env python3
"""Python's threading module on the workloads of bench/threading_bench.cpp.

Each workload is the same protocol as its C++ twin, written as a Python
programmer would write it, and timed with time.perf_counter_ns. Every
workload runs a few times; the median time per operation is reported.

Prints one JSON object on stdout:
  {"python": "3.11.7 (CPython)",
   "workloads": {"lock_uncontended": {"ns_per_op": 41.2, "ops": 1000000,
                                      "samples_ns_per_op": [...]}, ...}}
"""

import threading
import time

import peer_harness


def lock_uncontended(n):
    """One acquire+release pair on one thread."""
    lock = threading.Lock()
    start = time.perf_counter_ns()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return time.perf_counter_ns() - start, n


def lock_contended(n):
    """Two threads take the lock, count one, release, until they counted n.

    The batch ends when the pair has done n, not when each has done half,
    as in the C++ twin.
    """
    lock = threading.Lock()
    counter = [0]
    # The main thread is the third party, so that the clock starts when both
    # workers are running, not while the second one is being created.
    ready = threading.Barrier(3)

    def work():
        ready.wait()
        while True:
            lock.acquire()
            if counter[0] == n:
                lock.release()
                return
            counter[0] += 1
            lock.release()

    workers = [threading.Thread(target=work) for _ in range(2)]
    return peer_harness.time_joins(workers, ready), n


def _pingpong(n, game):
    """Times n round trips of game.round_trip against game.serve."""
    server = threading.Thread(target=game.serve)
    server.start()
    start = time.perf_counter_ns()
    for _ in range(n):
        game.round_trip()
    elapsed = time.perf_counter_ns() - start
    game.stop()
    server.join()
    return elapsed, n


class EventPingPong:
    """Two Events: set the other's, wait on one's own, clear it."""

    def __init__(self):
        self.ping = threading.Event()
        self.pong = threading.Event()
        self.stopping = False

    def round_trip(self):
        self.ping.set()
        self.pong.wait()
        self.pong.clear()

    def serve(self):
        while True:
            self.ping.wait()
            self.ping.clear()
            if self.stopping:
                return
            self.pong.set()

    def stop(self):
        self.stopping = True
        self.ping.set()


CLIENT, SERVER, STOP = range(3)


class ConditionPingPong:
    """One Condition over a Lock and the turn it guards."""

    def __init__(self):
        self.condition = threading.Condition(threading.Lock())
        self.turn = CLIENT

    def round_trip(self):
        with self.condition:
            self.turn = SERVER
            self.condition.notify()
            self.condition.wait_for(lambda: self.turn == CLIENT)

    def serve(self):
        with self.condition:
            while True:
                self.condition.wait_for(lambda: self.turn != CLIENT)
                if self.turn == STOP:
                    return
                self.turn = CLIENT
                self.condition.notify()

    def stop(self):
        with self.condition:
            self.turn = STOP
            self.condition.notify()


def pingpong_event(n):
    return _pingpong(n, EventPingPong())


def pingpong_condition(n):
    return _pingpong(n, ConditionPingPong())


def thread_start_join(n):
    """Create a thread with an empty target, start it, join it."""

    def nothing():
        pass

    return peer_harness.start_join(threading.Thread, nothing, n)


# Operations per sample, chosen so that each sample takes 0.1-0.2 s on a
# current x86 core.
WORKLOADS = {
    "lock_uncontended": (lock_uncontended, 1_000_000),
    "lock_contended": (lock_contended, 1_000_000),
    "pingpong_event": (pingpong_event, 5_000),
    "pingpong_condition": (pingpong_condition, 2_000),
    "thread_start_join": (thread_start_join, 1_000),
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS)
