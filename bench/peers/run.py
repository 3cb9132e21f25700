#!/usr/bin/env python3
"""Runs concur's benchmarks beside their peers, in one run, and checks targets.

For every workload in WORKLOADS it measures concur, the best C++ peer (or
several) and Python doing the same work, prints one table row per peer, and
writes everything to a JSON file. A missed target is reported, never an
error: the exit status is 0 unless a benchmark crashed or could not be run.

A workload is one entry in WORKLOADS; adding one needs no other change here.
Its concur benchmark and each C++ peer name a Google Benchmark binary
(built by the `concur_bench` target into BUILD/bench) and a benchmark in it,
so a peer that needs another library (oneTBB, Boost.Asio) lives in its own
binary. Its Python peer is a script in bench/peers/python that accepts
`--only WORKLOAD` and `--quick` and prints {"workloads": {WORKLOAD:
{"ns_per_op": ...}}}.

Two peers are libraries that this project neither vendors nor downloads:
libfork and TooManyCooks, header-only C++20 coroutine runtimes. They are
optional. Given a checkout of one (--libfork DIR, --tmc DIR, or the
environment variables CONCUR_LIBFORK_DIR, CONCUR_TMC_DIR), the runner
compiles its peer source (bench/peers/libfork_bench.cpp, tmc_bench.cpp)
itself into BUILD/bench/peer_libfork_bench or peer_tmc_bench, with
clang++-19 (--peer-cxx CXX or CONCUR_PEER_CXX for another) and the flags
of concur's release build; it rebuilds only when the source, the shared
workloads header, the checkout's headers or the command changed. Without a
checkout the peer's rows say n/a and a note says how to enable it; a
compile error is reported as a failure with the compiler's first lines.

Every time is wall-clock nanoseconds per operation; for a throughput
workload that is 1 / throughput. A benchmark whose iteration is a batch of
operations says how many in a counter named ops_per_iteration. A benchmark
may report a second time in a counter whose name ends in _ns (the burst
benchmarks' 99th percentile, p99_ns); a workload reads it as
"BENCHMARK:COUNTER". A target is the largest acceptable ratio concur time /
peer time, so lower is better everywhere; a workload with an absolute limit
(max_ns) gets a row against the limit, with target 1.

Usage: run.py --build build/release [--filter REGEX] [--json PATH] [--quick]
              [--repetitions N] [--libfork DIR] [--tmc DIR] [--peer-cxx CXX]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent
PYTHON_DIR = PEERS_DIR / "python"


@dataclass(frozen=True)
class Peer:
    label: str  # what the table calls it, e.g. "std::mutex"
    benchmark: str  # Google Benchmark name, "<workload>/<implementation>"
    max_ratio: float | None  # target: concur / peer time at most this
    binary: str | None = None  # None: the workload's binary


@dataclass(frozen=True)
class Workload:
    name: str
    what: str
    binary: str  # Google Benchmark executable in BUILD/bench
    concur: str  # concur's benchmark in that binary
    peers: tuple[Peer, ...] = ()
    python: str | None = None  # peer script in bench/peers/python
    max_ns: float | None = None  # absolute limit on concur's time
    limit: str | None = None  # what the limit's row calls it
    # Target against Python: concur / Python time at most this (a row of
    # its own, "Python").
    python_max_ratio: float | None = None
    # What the numbers are: "ns" per operation, or "B" (bytes, read from a
    # counter whose name ends in _bytes; lower is better all the same).
    unit: str = "ns"


THREADING = "concur_threading_bench"
PY_THREADING = "threading_peer.py"
STD_CV = "std::condition_variable"
FUTEX = "raw futex"

FUTURES = "concur_futures_bench"
BATCH = "concur_futures_batch_bench"
PY_FUTURES = "futures_peer.py"
TBB_BENCH = "peer_tbb_bench"  # built only where oneTBB is installed
ASIO_BENCH = "peer_asio_bench"  # built only where Asio is installed
BURST = "concur_futures_burst_bench"
TBB_BURST = "peer_tbb_burst_bench"
ASIO_BURST = "peer_asio_burst_bench"
TBB_ENQUEUE = "oneTBB arena.enqueue"
ASIO_POST = "Asio post"
LIBFORK_BENCH = "peer_libfork_bench"  # built by this runner, see PEER_BUILDS
TMC_BENCH = "peer_tmc_bench"  # likewise
TBB = "oneTBB task_group"
LIBFORK = "libfork"
TMC = "TooManyCooks"
SEQUENTIAL = "sequential"
IDEAL = "ideal bound of 2 workers"
TWO_THREADS = "2 std::threads, tasks dealt out"
THREAD_POOL = "concur ThreadPoolExecutor of 2"
RESULT_LOOP = "result() of each, in order"
TWO_THREAD_LOOP = "2 std::threads, a loop each"

MULTIPROCESSING = "concur_multiprocessing_bench"
PY_MULTIPROCESSING = "multiprocessing_peer.py"
SUBPROCESS = "concur_subprocess_bench"
PY_SUBPROCESS = "subprocess_peer.py"
INTERPROCESS = "peer_interprocess_bench"  # Boost.Interprocess
BOOST_MQ = "Boost.Interprocess message_queue"
RAW_PIPE = "raw pipe(2), 64 KiB writes"

DEADLOCK = "concur_deadlock_bench"
ABSL_BENCH = "peer_absl_bench"  # built only where abseil is installed
PLAIN_LOCK = "Lock without the detector's hooks"
ABSL_DETECTING = "absl::Mutex, deadlock detection on"

ASYNCIO = "concur_asyncio_bench"
ASIO_ECHO = "peer_asio_echo_bench"  # g++ builds only
UVLOOP = "uvloop_peer.py"  # a Python peer run by Debian's python3
PY_ASYNCIO = "asyncio_peer.py"
GENERATOR = "concur_generator_bench"
PY_GENERATOR = "generator_peer.py"

QUEUE = "concur_queue_bench"
PY_QUEUE = "queue_peer.py"
MOODYCAMEL = "moodycamel::BlockingConcurrentQueue"

WORKLOADS = (
    Workload(name="lock_uncontended",
             what="acquire+release pair, one thread",
             binary=THREADING, concur="lock_uncontended/concur",
             peers=(Peer("std::mutex", "lock_uncontended/std", 1.1),),
             python=PY_THREADING),
    Workload(name="lock_contended",
             what="2 threads acquire/increment/release one lock "
                  "(1/throughput)",
             binary=THREADING, concur="lock_contended/concur",
             peers=(Peer("std::mutex", "lock_contended/std", 1.0),),
             python=PY_THREADING),
    Workload(name="lock_contended_4",
             what="the same with 4 threads on the 2 cores, two per core "
                  "(1/throughput)",
             binary=THREADING, concur="lock_contended_4/concur",
             peers=(Peer("std::mutex", "lock_contended_4/std", 1.0),)),
    Workload(name="detector_off",
             what="acquire+release pair, one thread, the deadlock detector "
                  "off",
             binary=DEADLOCK, concur="detector_off/concur",
             peers=(Peer(PLAIN_LOCK, "detector_off/plain", 1.01),
                    Peer("std::mutex", "detector_off/std", None),
                    Peer("absl::Mutex", "detector_off/absl", None,
                         ABSL_BENCH))),
    Workload(name="detector_known",
             what="the pair under another held lock, the detector on: an "
                  "edge it knows",
             binary=DEADLOCK, concur="detector_known/concur",
             peers=(Peer(PLAIN_LOCK, "detector_known/plain", 2.0),
                    Peer("std::mutex", "detector_known/std", None),
                    Peer(ABSL_DETECTING, "detector_known/absl", 1.0,
                         ABSL_BENCH))),
    Workload(name="detector_new_edge",
             what="make a lock, take it under a held one, release, destroy; "
                  "the detector on: a new edge each time",
             binary=DEADLOCK, concur="detector_new_edge/concur",
             peers=(Peer(PLAIN_LOCK, "detector_new_edge/plain", None),
                    Peer(ABSL_DETECTING, "detector_new_edge/absl", None,
                         ABSL_BENCH))),
    Workload(name="detector_off_contended",
             what="2 threads, each holding a lock of its own, contend for "
                  "one lock; the detector off (1/throughput)",
             binary=DEADLOCK, concur="detector_off_contended/concur",
             peers=(Peer(PLAIN_LOCK, "detector_off_contended/plain", 1.01),
                    Peer("std::mutex", "detector_off_contended/std", None),
                    Peer("absl::Mutex", "detector_off_contended/absl", None,
                         ABSL_BENCH))),
    Workload(name="detector_known_contended",
             what="the same with the detector on: edges it knows "
                  "(1/throughput)",
             binary=DEADLOCK, concur="detector_known_contended/concur",
             peers=(Peer(PLAIN_LOCK, "detector_off_contended/plain", 2.0),
                    Peer(ABSL_DETECTING, "detector_known_contended/absl", 1.0,
                         ABSL_BENCH))),
    Workload(name="pingpong_event",
             what="round trip through two Events",
             binary=THREADING, concur="pingpong_event/concur",
             peers=(Peer(STD_CV, "pingpong_event/std", 1.0),
                    Peer(FUTEX, "pingpong/futex", 1.3)),
             python=PY_THREADING),
    Workload(name="pingpong_condition",
             what="round trip through a Condition and a turn variable",
             binary=THREADING, concur="pingpong_condition/concur",
             peers=(Peer(STD_CV, "pingpong_condition/std", 1.0),
                    Peer(FUTEX, "pingpong/futex", 1.3)),
             python=PY_THREADING),
    Workload(name="thread_start_join",
             what="start a thread with an empty target, join it",
             binary=THREADING, concur="thread_start_join/concur",
             peers=(Peer("std::thread", "thread_start_join/std", 1.2),),
             python=PY_THREADING),
    Workload(name="pool_submit_1m",
             what="submit a trivial task to a pool of 2, then result() "
                  "(1/throughput over 1M)",
             binary=FUTURES, concur="pool_submit_1m/concur",
             peers=(Peer(TBB, "pool_submit_1m/tbb", 1.0, TBB_BENCH),
                    Peer("Asio thread_pool", "pool_submit_1m/asio", 1 / 1.5,
                         ASIO_BENCH)),
             python=PY_FUTURES),
    # Reading a batch of futures: the target is the same futures read with
    # result() in order (the 1.5x). _busy: calls of about a
    # microsecond, so that about half are unfinished when reading starts.
    Workload(name="as_completed_200k",
             what="submit 200k trivial calls, read them by as_completed "
                  "(per task)",
             binary=BATCH, concur="as_completed_200k/concur",
             peers=(Peer(RESULT_LOOP, "as_completed_200k/result", 1.5),),
             python=PY_FUTURES),
    Workload(name="wait_200k",
             what="submit 200k trivial calls, wait(ALL_COMPLETED), read "
                  "(per task)",
             binary=BATCH, concur="wait_200k/concur",
             peers=(Peer(RESULT_LOOP, "as_completed_200k/result", 1.5),),
             python=PY_FUTURES),
    Workload(name="as_completed_busy",
             what="the same with 1-us calls, by as_completed (per task)",
             binary=BATCH, concur="as_completed_busy/concur",
             peers=(Peer(RESULT_LOOP, "as_completed_busy/result", 1.5),)),
    Workload(name="wait_busy",
             what="the same with 1-us calls, by wait (per task)",
             binary=BATCH, concur="wait_busy/concur",
             peers=(Peer(RESULT_LOOP, "as_completed_busy/result", 1.5),)),
    # map at loop speed: map(twice, 10M ints, chunksize 10,000), summed,
    # as the user writes it (the vector, which map copies) and with a span
    # (which map borrows), against oneTBB's parallel_reduce and a
    # hand-written two-thread loop (the 1.3x), and one submit per
    # chunk by hand (no target). chunksize 1 against a submit per item.
    Workload(name="map_10m",
             what="map(f, 10M ints, chunksize=10000), sum (per item)",
             binary=BATCH, concur="map_10m/concur",
             peers=(Peer("oneTBB parallel_reduce", "map_10m/tbb", 1.3,
                         TBB_BENCH),
                    Peer(TWO_THREAD_LOOP, "map_10m/threads", 1.3),
                    Peer("submit per chunk", "map_10m/chunks", None))),
    Workload(name="map_10m_span",
             what="the same over a std::span (borrowed, not copied)",
             binary=BATCH, concur="map_10m/span",
             peers=(Peer("oneTBB parallel_reduce", "map_10m/tbb", 1.3,
                         TBB_BENCH),
                    Peer(TWO_THREAD_LOOP, "map_10m/threads", 1.3))),
    Workload(name="map_10m_buffered",
             what="the same with buffersize 4 (Python 3.14's bounded map)",
             binary=BATCH, concur="map_10m/buffered",
             peers=(Peer("oneTBB parallel_reduce", "map_10m/tbb", None,
                         TBB_BENCH),
                    Peer(TWO_THREAD_LOOP, "map_10m/threads", None))),
    Workload(name="map_chunk1",
             what="map(f, 200k ints), chunksize 1, sum (per item)",
             binary=BATCH, concur="map_chunk1/concur",
             peers=(Peer("submit + result() per item", "map_chunk1/submit",
                         1.0),)),
    # Wake-up after idle: 1000 bursts of 100 trivial calls, 1 ms apart (the
    # workers fall asleep in between), each timed from the first submit to
    # the last result; the median and the 99th percentile, against oneTBB's
    # enqueue into an arena of two workers (the caller does not run tasks,
    # as with a pool) and Asio. And the CPU time the idle pool burns.
    Workload(name="burst",
             what="100 trivial calls into a pool idle for 1 ms, to the last "
                  "result (median of 1000 bursts)",
             binary=BURST, concur="burst/concur",
             peers=(Peer(TBB_ENQUEUE, "burst/tbb", 1.0, TBB_BURST),
                    Peer(ASIO_POST, "burst/asio", None, ASIO_BURST))),
    Workload(name="burst_p99",
             what="the same, 99th percentile",
             binary=BURST, concur="burst/concur:p99_ns",
             peers=(Peer(TBB_ENQUEUE, "burst/tbb:p99_ns", 1.5, TBB_BURST),
                    Peer(ASIO_POST, "burst/asio:p99_ns", None, ASIO_BURST))),
    Workload(name="idle_cpu",
             what="CPU time of the process over an idle second after a "
                  "burst",
             binary=BURST, concur="idle_cpu/concur",
             peers=(Peer(TBB_ENQUEUE, "idle_cpu/tbb", None, TBB_BURST),
                    Peer(ASIO_POST, "idle_cpu/asio", None, ASIO_BURST)),
             max_ns=1e6, limit="limit: 0.1% of a core"),
    Workload(name="fib_forkjoin",
             what="fib(30), each call forks fib(n-1) and waits for it "
                  "(832k tasks, 2 workers)",
             binary=FUTURES, concur="fib_forkjoin/concur",
             peers=(Peer(TBB, "fib_forkjoin/tbb", 1.0, TBB_BENCH),
                    Peer(LIBFORK, "fib_forkjoin/libfork", 1.2, LIBFORK_BENCH),
                    Peer(TMC, "fib_forkjoin/tmc", 1.0, TMC_BENCH))),
    Workload(name="skynet",
             what="10-ary tree of tasks, 1M leaves, parents wait "
                  "(2 workers)",
             binary=FUTURES, concur="skynet/concur",
             peers=(Peer(TBB, "skynet/tbb", 1.0, TBB_BENCH),
                    Peer(LIBFORK, "skynet/libfork", 1.2, LIBFORK_BENCH),
                    Peer(TMC, "skynet/tmc", 1.0, TMC_BENCH))),
    Workload(name="nqueens",
             what="12 queens, a task per safe column of the next row, "
                  "parents wait (856k tasks, 2 workers)",
             binary=FUTURES, concur="nqueens/concur",
             peers=(Peer(TBB, "nqueens/tbb", 1.0, TBB_BENCH),
                    Peer(LIBFORK, "nqueens/libfork", 1.2, LIBFORK_BENCH),
                    Peer(TMC, "nqueens/tmc", 1.0, TMC_BENCH))),
    # The primes' target: within 10% of the ideal bound, the longest
    # worker's share of the sequential time under the best split of the
    # tasks over the two workers (five equal tasks: three of them).
    Workload(name="primes_pool",
             what="is_prime of the 5 PRIMES, map on a pool of 2",
             binary=FUTURES, concur="primes_pool/concur",
             peers=(Peer(IDEAL, "primes_pool/ideal", 1.1),
                    Peer(TWO_THREADS, "primes_pool/threads", None),
                    Peer(SEQUENTIAL, "primes_pool/sequential", None)),
             python=PY_FUTURES),
    Workload(name="primes_split",
             what="the same as 10 half-range tasks on a pool of 2",
             binary=FUTURES, concur="primes_split/concur",
             peers=(Peer(IDEAL, "primes_split/ideal", 1.1),
                    Peer(TWO_THREADS, "primes_split/threads", None),
                    Peer(SEQUENTIAL, "primes_pool/sequential", None))),
    # The process pool: submit + result() with chunksize 1 against the
    # issue's limit of 2 us a task (Python: about 160 us), beside the
    # thread pool doing the same; PRIMES against the same ideal bound.
    Workload(name="process_pool_submit",
             what="submit a trivial task to a ProcessPoolExecutor of 2, "
                  "then result() (1/throughput over 100k)",
             binary=FUTURES, concur="process_pool_submit/concur",
             peers=(Peer(THREAD_POOL, "pool_submit_1m/concur", None),),
             python=PY_FUTURES, max_ns=2000.0, limit="limit: 2 us a task"),
    Workload(name="primes_process_pool",
             what="is_prime of the 5 PRIMES, map on a started "
                  "ProcessPoolExecutor of 2",
             binary=FUTURES, concur="primes_process_pool/concur",
             peers=(Peer(IDEAL, "primes_pool/ideal", 1.1),
                    Peer(THREAD_POOL, "primes_pool/concur", None),
                    Peer(SEQUENTIAL, "primes_pool/sequential", None))),
    Workload(name="primes_process_pool_start",
             what="the same with the pool made in the clock, as the seed "
                  "does (two forks counted)",
             binary=FUTURES, concur="primes_process_pool/with_start",
             peers=(Peer(IDEAL, "primes_pool/ideal", None),),
             python=PY_FUTURES),
    Workload(name="sum_1e8",
             what="sum of 10^8 int64 in 2 halves on a pool of 2 "
                  "(per element)",
             binary=FUTURES, concur="sum_1e8/concur",
             peers=(Peer("2 std::threads", "sum_1e8/threads", 1.15),
                    Peer("1 thread", "sum_1e8/sequential", None)),
             python=PY_FUTURES),
    Workload(name="queue_1p1c",
             what="Queue<int>, 1 producer -> 1 consumer (1/throughput)",
             binary=QUEUE, concur="queue_1p1c/concur",
             peers=(Peer(MOODYCAMEL, "queue_1p1c/moodycamel", 2.0),),
             python=PY_QUEUE),
    Workload(name="queue_2p2c",
             what="Queue<int>, 2 producers -> 2 consumers (1/throughput)",
             binary=QUEUE, concur="queue_2p2c/concur",
             peers=(Peer(MOODYCAMEL, "queue_2p2c/moodycamel", 2.0),),
             python=PY_QUEUE),
    Workload(name="simple_queue_1p1c",
             what="SimpleQueue<int>, 1 producer -> 1 consumer "
                  "(1/throughput)",
             binary=QUEUE, concur="simple_queue_1p1c/concur",
             peers=(Peer(MOODYCAMEL, "queue_1p1c/moodycamel", 1.0),),
             python=PY_QUEUE),
    Workload(name="simple_queue_2p2c",
             what="SimpleQueue<int>, 2 producers -> 2 consumers "
                  "(1/throughput)",
             binary=QUEUE, concur="simple_queue_2p2c/concur",
             peers=(Peer(MOODYCAMEL, "queue_2p2c/moodycamel", 1.0),),
             python=PY_QUEUE),
    # Targets as ratios of times: >= 3x Boost's throughput is a time ratio
    # of at most 1/3; within 2x of the in-process queue, at most 2.
    Workload(name="mp_queue_1p1c",
             what="multiprocessing::Queue<int>, 1 producer process -> 1 "
                  "consumer process (1/throughput)",
             binary=MULTIPROCESSING, concur="mp_queue_1p1c/concur",
             peers=(Peer(BOOST_MQ, "mp_queue_1p1c/boost", 1 / 3,
                         INTERPROCESS),
                    Peer("queue::Queue<int> between 2 threads",
                         "queue_1p1c/concur", 2.0, QUEUE)),
             python=PY_MULTIPROCESSING, max_ns=100.0,
             limit="10M items/s"),
    Workload(name="mp_queue_2p2c",
             what="multiprocessing::Queue<int>, 2 producer -> 2 consumer "
                  "processes (1/throughput)",
             binary=MULTIPROCESSING, concur="mp_queue_2p2c/concur",
             peers=(Peer(BOOST_MQ, "mp_queue_2p2c/boost", 1 / 3,
                         INTERPROCESS),
                    Peer("queue::Queue<int> between 4 threads",
                         "queue_2p2c/concur", 2.0, QUEUE)),
             python=PY_MULTIPROCESSING),
    Workload(name="mp_queue_64k",
             what="multiprocessing::Queue of 64 KiB items between 2 "
                  "processes (time per item)",
             binary=MULTIPROCESSING, concur="mp_queue_64k/concur",
             peers=(Peer(RAW_PIPE, "mp_queue_64k/raw_pipe", None),),
             python=PY_MULTIPROCESSING),
    Workload(name="pipe_64k",
             what="one-way Pipe, send_bytes/recv_bytes_into of 64 KiB "
                  "(time per block; >= 0.9x a raw pipe's bytes/s)",
             binary=MULTIPROCESSING, concur="pipe_64k/concur",
             peers=(Peer(RAW_PIPE, "pipe_64k/raw_pipe", 1 / 0.9),),
             python=PY_MULTIPROCESSING),
    Workload(name="pool_map_1m",
             what="Pool(2).map over 1M ints, default chunking (per item; "
                  ">= 50x Python)",
             binary=MULTIPROCESSING, concur="pool_map_1m/concur",
             python=PY_MULTIPROCESSING, python_max_ratio=1 / 50),
    Workload(name="process_start",
             what="Process start + join of a child that does nothing",
             binary=MULTIPROCESSING, concur="process_start/concur",
             peers=(Peer("fork + waitpid", "process_start/fork", 1.2),),
             python=PY_MULTIPROCESSING),
    Workload(name="forkserver_start_1g",
             what="forkserver Process start + join while the parent holds "
                  "1 GiB of touched memory (flat: within 1.2x of the same "
                  "without it)",
             binary=MULTIPROCESSING, concur="forkserver_start_1g/concur",
             peers=(Peer("forkserver, no memory",
                         "forkserver_start_1g/no_memory", 1.2),
                    Peer("fork + waitpid, 1 GiB", "forkserver_start_1g/fork",
                         None)),
             python=PY_MULTIPROCESSING),
    Workload(name="spawn_true",
             what="subprocess::call of /bin/true: spawn + wait "
                  "(>= 5x Python's subprocess.run)",
             binary=SUBPROCESS, concur="spawn_true/concur",
             peers=(Peer("fork + execve + waitpid", "spawn_true/fork_exec",
                         1.0),
                    Peer("posix_spawn + waitpid (the floor)",
                         "spawn_true/posix_spawn", None)),
             python=PY_SUBPROCESS, python_max_ratio=1 / 5),
    Workload(name="spawn_true_1g",
             what="the same while the parent holds 1 GiB of touched memory",
             binary=SUBPROCESS, concur="spawn_true_1g/concur",
             peers=(Peer("fork + execve + waitpid", "spawn_true_1g/fork_exec",
                         0.8),
                    Peer("posix_spawn + waitpid (the floor)",
                         "spawn_true_1g/posix_spawn", None)),
             python=PY_SUBPROCESS),
    Workload(name="communicate_100m",
             what="Popen.communicate of 100 MiB through cat, per MiB",
             binary=SUBPROCESS, concur="communicate_100m/concur",
             peers=(Peer("raw pipes and poll", "communicate_100m/raw_pipe",
                         1.25),),
             python=PY_SUBPROCESS),
    Workload(name="generator_next",
             what="next() of a Generator<int64_t> counting up",
             binary=GENERATOR, concur="generator_next/concur",
             python=PY_GENERATOR, max_ns=3.0, limit="limit: 3 ns (g++ 12)"),
    Workload(name="generator_range_for",
             what="one step of a range-for over the same generator",
             binary=GENERATOR, concur="generator_range_for/concur",
             python=PY_GENERATOR),
    Workload(name="generator_yield_from_1",
             what="next() through one generator delegating with yield_from",
             binary=GENERATOR, concur="generator_yield_from_1/concur",
             python=PY_GENERATOR),
    Workload(name="generator_yield_from_100",
             what="next() through a chain of 100 delegating generators",
             binary=GENERATOR, concur="generator_yield_from_100/concur",
             peers=(Peer("the same, 1 deep", "generator_yield_from_1/concur",
                         2.0),),
             python=PY_GENERATOR),
    Workload(name="asyncio_gather_sleep0",
             what="100,000 tasks gathered, each sleep(0), per task",
             binary=ASYNCIO, concur="asyncio_gather_sleep0/concur",
             python=PY_ASYNCIO, max_ns=200.0, limit="limit: 0.2 us a task"),
    Workload(name="asyncio_idle_task_bytes",
             what="memory of a task waiting on an Event, its frame included",
             binary=ASYNCIO,
             concur="asyncio_idle_task_bytes/concur:idle_task_bytes",
             peers=(Peer("the task's state alone",
                         "asyncio_idle_task_bytes/concur:task_state_bytes",
                         None),),
             python=PY_ASYNCIO, unit="B"),
    Workload(name="asyncio_echo_1",
             what="echo round trip of 64 bytes, one connection, one loop",
             binary=ASYNCIO, concur="asyncio_echo_1/concur",
             peers=(Peer("Asio C++20 coroutines", "asyncio_echo_1/asio", 1.0,
                         ASIO_ECHO),
                    Peer("uvloop", "asyncio_echo_1/uvloop", None, UVLOOP)),
             python=PY_ASYNCIO, python_max_ratio=1 / 3),
    Workload(name="asyncio_echo_100",
             what="echo round trips on 100 connections, one loop, per trip",
             binary=ASYNCIO, concur="asyncio_echo_100/concur",
             peers=(Peer("Asio C++20 coroutines", "asyncio_echo_100/asio", 1.0,
                         ASIO_ECHO),
                    Peer("uvloop", "asyncio_echo_100/uvloop", 1.0, UVLOOP)),
             python=PY_ASYNCIO),
    Workload(name="asyncio_http_hello",
             what="HTTP keep-alive \"hello\" server, one thread, under "
                  "wrk -t1 -c100 (1/requests per second)",
             binary=ASYNCIO, concur="asyncio_http_hello/concur",
             peers=(Peer("Asio C++20 coroutines", "asyncio_http_hello/asio",
                         1.0, ASIO_ECHO),
                    Peer("nginx, 1 worker", "asyncio_http_hello/nginx",
                         1.25),
                    Peer("uvloop", "asyncio_http_hello/uvloop", None, UVLOOP)),
             python=PY_ASYNCIO),
    Workload(name="asyncio_sleep0",
             what="one task's sleep(0): a pass of the loop",
             binary=ASYNCIO, concur="asyncio_sleep0/concur",
             python=PY_ASYNCIO),
    Workload(name="asyncio_create_task",
             what="create_task of a coroutine returning at once, awaited",
             binary=ASYNCIO, concur="asyncio_create_task/concur",
             python=PY_ASYNCIO),
    Workload(name="asyncio_await_coroutine",
             what="await of a coroutine returning at once, in the task",
             binary=ASYNCIO, concur="asyncio_await_coroutine/concur",
             python=PY_ASYNCIO),
    Workload(name="asyncio_call_soon",
             what="one call_soon callback run by the loop",
             binary=ASYNCIO, concur="asyncio_call_soon/concur",
             python=PY_ASYNCIO),
    Workload(name="asyncio_queue",
             what="one item through a Queue(64) between two tasks",
             binary=ASYNCIO, concur="asyncio_queue/concur",
             python=PY_ASYNCIO),
)


@dataclass(frozen=True)
class PeerBuild:
    """A peer binary this runner compiles from a checkout the user names."""
    binary: str  # in BUILD/bench
    source: str  # in bench/peers
    project: str  # what the notes call the checkout
    option: str  # run.py's option naming the checkout, e.g. "--libfork"
    env: str  # the environment variable naming it
    header: str  # a header under DIR/include that the checkout must have
    defines: tuple[str, ...] = ()


PEER_BUILDS = (
    # libfork without hwloc (LF_USE_HWLOC undefined): no NUMA placement.
    PeerBuild(LIBFORK_BENCH, "libfork_bench.cpp", "libfork", "--libfork",
              "CONCUR_LIBFORK_DIR", "libfork.hpp"),
    # TooManyCooks without hwloc (TMC_USE_HWLOC undefined): no pinning.
    PeerBuild(TMC_BENCH, "tmc_bench.cpp", "TooManyCooks", "--tmc",
              "CONCUR_TMC_DIR", "tmc/ex_cpu.hpp"),
)
# Needs C++20 coroutines as TooManyCooks wants them: Clang 17 or newer
# (or GCC 14); Debian 12's clang-19 package, with its libstdc++ 12, does.
DEFAULT_PEER_CXX = "clang++-19"
# concur's release build (CMAKE_BUILD_TYPE=Release: -O3 -DNDEBUG, no
# -march) and its warnings; the peer's headers are system headers, so that
# their own warnings stay out.
PEER_CXXFLAGS = ("-std=c++20", "-O3", "-DNDEBUG", "-Wall", "-Wextra",
                 "-Wpedantic")
PEER_LIBS = ("-lbenchmark_main", "-lbenchmark", "-pthread")
# How many lines of a compiler's complaint a failure quotes.
COMPILER_LINES = 8

# Components Google Benchmark appends to a benchmark's name.
GBENCH_SUFFIX = re.compile(
    r"(real_time|manual_time|threads:\d+|repeats:\d+|iterations:\d+"
    r"|min_time:[\d.]+s?|min_warmup_time:[\d.]+s?)")
NS_PER_UNIT = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# A measurement whose repetitions vary more than this (coefficient of
# variation) is flagged as noisy: its ratios deserve a second run.
NOISY_CV = 0.10
# A machine busier than this before the run gets a warning under the table.
BUSY = 0.2


@dataclass
class Run:
    """What the runner learned; becomes the JSON file."""
    context: dict = field(default_factory=dict)
    # benchmark name -> statistics over its repetitions, in ns per operation
    cpp: dict = field(default_factory=dict)
    python_version: str | None = None
    python: dict = field(default_factory=dict)  # workload -> statistics
    failures: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def base_name(run_name: str) -> str:
    parts = [p for p in run_name.split("/") if not GBENCH_SUFFIX.fullmatch(p)]
    return "/".join(parts)


def summarize(samples: list[float]) -> dict:
    mean = statistics.fmean(samples)
    return {
        "ns_per_op": statistics.median(samples),
        "min": min(samples),
        "mean": mean,
        "cv": statistics.stdev(samples) / mean if len(samples) > 1 else 0.0,
        "samples": samples,
    }


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def run_binary(path: Path, names: list[str], settings: dict, run: Run) -> None:
    """Runs the named benchmarks of one binary; records their statistics."""
    benchmarks = sorted({n.split(":")[0] for n in names})
    pattern = "^(" + "|".join(re.escape(n) for n in benchmarks) + ")(/|$)"
    command = [
        str(path),
        "--benchmark_format=json",
        f"--benchmark_filter={pattern}",
        f"--benchmark_repetitions={settings['repetitions']}",
        # A plain number of seconds: what Google Benchmark 1.7 parses, and
        # what later versions still accept.
        f"--benchmark_min_time={settings['min_time']}",
        # Interleaved repetitions spread a slow spell of the machine (another
        # build, a noisy neighbour) over every benchmark instead of one.
        "--benchmark_enable_random_interleaving=true",
    ]
    progress(f"running {path.name}: {len(benchmarks)} benchmarks x "
             f"{settings['repetitions']} repetitions")
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True,
                              timeout=settings["timeout"], check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        run.failures.append(f"{path.name}: {error}")
        return
    if done.returncode != 0:
        run.failures.append(f"{path.name} {describe_exit(done.returncode)}")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        if done.returncode == 0:
            run.failures.append(f"{path.name} printed no JSON report")
        return
    run.context.setdefault(path.name, report.get("context", {}))
    samples: dict[str, list[float]] = {}
    failed = set()
    for entry in report.get("benchmarks", []):
        name = base_name(entry.get("run_name", entry["name"]))
        if entry.get("error_occurred"):
            failed.add(name)
            run.failures.append(f"{name}: {entry.get('error_message')}")
        elif entry.get("run_type", "iteration") == "iteration":
            ns = entry["real_time"] * NS_PER_UNIT[entry.get("time_unit", "ns")]
            ns /= entry.get("ops_per_iteration", 1)
            samples.setdefault(name, []).append(ns)
            for key, value in entry.items():
                if key.endswith(("_ns", "_bytes")) and \
                        isinstance(value, (int, float)):
                    samples.setdefault(f"{name}:{key}", []).append(value)
    for name, values in samples.items():
        run.cpp[name] = {"binary": path.name, **summarize(values)}
    for name in names:
        if name not in run.cpp and name.split(":")[0] not in failed:
            run.failures.append(f"{path.name} did not report {name}")


def run_python(script: str, workloads: list[str], settings: dict,
               run: Run) -> None:
    path = PYTHON_DIR / script
    command = [sys.executable, str(path)]
    command += [arg for w in workloads for arg in ("--only", w)]
    if settings["quick"]:
        command.append("--quick")
    progress(f"running {script}: {len(workloads)} workloads")
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True,
                              timeout=settings["timeout"], check=False)
        report = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
        run.failures.append(f"{script}: {error}")
        return
    if report is None:
        run.failures.append(f"{script} {describe_exit(done.returncode)}")
        return
    run.python_version = report.get("python")
    for name, result in report.get("workloads", {}).items():
        samples = result.get("samples_ns_per_op") or [result["ns_per_op"]]
        run.python[name] = {"script": script, **summarize(samples)}


# Peers written in Python on a library Debian packages for its own Python
# (python3-uvloop): run by /usr/bin/python3, where those packages load,
# and read as C++ peers are, "WORKLOAD/IMPLEMENTATION".
DEBIAN_PYTHON = "/usr/bin/python3"


def run_python_peer(script: str, names: list[str], settings: dict,
                    run: Run) -> None:
    workloads = sorted({n.split("/")[0] for n in names})
    command = [DEBIAN_PYTHON, str(PYTHON_DIR / script)]
    command += [arg for w in workloads for arg in ("--only", w)]
    if settings["quick"]:
        command.append("--quick")
    progress(f"running {script}: {len(workloads)} workloads")
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              timeout=settings["timeout"], check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        run.failures.append(f"{script}: {error}")
        return
    if done.returncode != 0:
        run.notes.append(f"{script} could not run ({done.stderr.strip()[-200:]}); "
                         "its peers are n/a")
        return
    report = json.loads(done.stdout)
    for name in names:
        result = report.get("workloads", {}).get(name.split("/")[0])
        if result is not None:
            samples = result.get("samples_ns_per_op") or [result["ns_per_op"]]
            run.cpp[name] = {"binary": script, **summarize(samples)}


def newest_mtime(paths: list[Path]) -> float:
    """The latest modification time among `paths` and the files under them."""
    newest = 0.0
    for path in paths:
        if path.is_dir():
            for root, _, files in os.walk(path):
                for name in files:
                    newest = max(newest, os.stat(os.path.join(root, name))
                                 .st_mtime)
        else:
            newest = max(newest, path.stat().st_mtime)
    return newest


def build_peers(workloads: list[Workload], bench_dir: Path, checkouts: dict,
                cxx: str, settings: dict, run: Run) -> set[str]:
    """Compiles the optional peers the workloads need and the user named.

    Returns the binaries not to run: those not asked for (even if an
    earlier run left one behind) and those that failed to build."""
    needed = {peer.binary or w.binary for w in workloads for peer in w.peers}
    skip = set()
    for build in PEER_BUILDS:
        if build.binary not in needed:
            continue
        checkout = checkouts.get(build.binary)
        if not checkout:
            skip.add(build.binary)
            run.notes.append(
                f"{build.binary} not built: no {build.project} checkout "
                f"named; its peers are n/a (to enable: {build.option} DIR "
                f"or {build.env}=DIR)")
            continue
        include = Path(checkout).expanduser() / "include"
        if not (include / build.header).is_file():
            skip.add(build.binary)
            run.failures.append(
                f"{build.binary}: {checkout} is not a {build.project} "
                f"checkout (no include/{build.header})")
            continue
        compiler = shutil.which(cxx)
        if compiler is None:
            skip.add(build.binary)
            run.failures.append(
                f"{build.binary}: compiler {cxx} not found (Debian: apt-get "
                "install clang-19; or --peer-cxx CXX / CONCUR_PEER_CXX)")
            continue
        source = PEERS_DIR / build.source
        out = bench_dir / build.binary
        command = [cxx, *PEER_CXXFLAGS, *build.defines, "-isystem",
                   str(include), str(source), "-o", str(out), *PEER_LIBS]
        settings["peer_builds"][build.binary] = {
            "command": shlex.join(command), "compiler": compiler_version(cxx)}
        stamp = bench_dir / f"{build.binary}.command"
        inputs = [source, PEERS_DIR / "futures_workloads.hpp", include]
        try:
            fresh = (out.is_file() and stamp.is_file()
                     and stamp.read_text() == shlex.join(command)
                     and out.stat().st_mtime >= newest_mtime(inputs))
        except OSError:
            fresh = False
        if fresh:
            continue
        progress(f"building {build.binary}: {shlex.join(command)}")
        try:
            bench_dir.mkdir(parents=True, exist_ok=True)
            stamp.unlink(missing_ok=True)
            done = subprocess.run(command, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True,
                                  timeout=settings["timeout"], check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            skip.add(build.binary)
            run.failures.append(f"cannot build {build.binary}: {error}")
            continue
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0:
            skip.add(build.binary)
            out.unlink(missing_ok=True)
            quoted = "\n  ".join(lines[:COMPILER_LINES])
            run.failures.append(
                f"cannot build {build.binary}: {cxx} "
                f"{describe_exit(done.returncode)}:\n  {quoted}")
            continue
        if lines:
            # Warnings: shown, not fatal (the library may be newer than
            # this file).
            progress(f"{cxx} warned building {build.binary}:\n"
                     + "\n".join(lines[:COMPILER_LINES]))
        stamp.write_text(shlex.join(command))
    return skip


def compiler_version(cxx: str) -> str | None:
    try:
        done = subprocess.run([cxx, "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True,
                              timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first = done.stdout.splitlines()[:1]
    return first[0] if first else None


def measure(workloads: list[Workload], bench_dir: Path, settings: dict,
            run: Run, skip: set[str] = frozenset()) -> None:
    by_binary: dict[str, list[str]] = {}
    for w in workloads:
        by_binary.setdefault(w.binary, []).append(w.concur)
        for peer in w.peers:
            names = by_binary.setdefault(peer.binary or w.binary, [])
            if peer.benchmark not in names:
                names.append(peer.benchmark)
    concur_binaries = {w.binary for w in workloads}
    for binary, names in by_binary.items():
        path = bench_dir / binary
        if binary in skip:
            continue  # build_peers said why
        if binary.endswith(".py"):
            run_python_peer(binary, names, settings, run)
        elif path.is_file():
            run_binary(path, names, settings, run)
        elif binary in concur_binaries:
            run.failures.append(f"{path} is missing: build the concur_bench "
                                "target first")
        else:
            # A peer binary is built only where its library is installed.
            run.notes.append(f"{binary} not built; its peers are n/a")

    by_script: dict[str, list[str]] = {}
    for w in workloads:
        if w.python:
            by_script.setdefault(w.python, []).append(w.name)
    for script, names in by_script.items():
        run_python(script, names, settings, run)


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def evaluate(workloads: list[Workload], run: Run) -> list[dict]:
    """One row per (workload, peer); a workload without peers gets one."""
    rows = []
    for w in workloads:
        concur = run.cpp.get(w.concur, {}).get("ns_per_op")
        python = run.python.get(w.name, {}).get("ns_per_op")
        limit = (Peer(w.limit or "limit", "", 1.0),) if w.max_ns else ()
        against_python = (Peer("Python", "", w.python_max_ratio),) \
            if w.python_max_ratio else ()
        for peer in (w.peers + limit + against_python) or (None,):
            if peer and peer.benchmark:
                peer_ns = run.cpp.get(peer.benchmark, {}).get("ns_per_op")
            elif peer in against_python:
                peer_ns = python
            else:
                peer_ns = w.max_ns if peer else None
            r = ratio(concur, peer_ns)
            target = peer.max_ratio if peer else None
            rows.append({
                "workload": w.name,
                "what": w.what,
                "unit": w.unit,
                "concur_ns": concur,
                "peer": peer.label if peer else None,
                "peer_benchmark": peer.benchmark or None if peer else None,
                "peer_ns": peer_ns,
                "python_ns": python,
                "concur_over_peer": r,
                "python_over_concur": ratio(python, concur),
                "max_ratio": target,
                "met": None if r is None or target is None else r <= target,
            })
    return rows


def format_ns(ns: float | None) -> str:
    """Three significant digits in the largest unit that keeps one whole."""
    if ns is None:
        return "n/a"
    unit, scale = next((u, s) for u, s in (("s", 1e9), ("ms", 1e6),
                                           ("us", 1e3), ("ns", 1.0))
                       if ns >= s or u == "ns")
    value = ns / scale
    decimals = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{decimals}f} {unit}"


def format_bytes(n: float | None) -> str:
    return "n/a" if n is None else f"{n:.0f} B"


def format_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def print_table(rows: list[dict], run: Run) -> None:
    header = ("workload", "concur", "C++ peer", "peer", "Python",
              "concur/peer", "Python/concur", "target", "met?")
    lines = [header]
    for row in rows:
        met = {True: "yes", False: "NO", None: "n/a"}[row["met"]]
        target = row["max_ratio"]
        fmt = format_bytes if row["unit"] == "B" else format_ns
        lines.append((row["workload"], fmt(row["concur_ns"]),
                      row["peer"] or "-", fmt(row["peer_ns"]),
                      fmt(row["python_ns"]),
                      format_ratio(row["concur_over_peer"]),
                      format_ratio(row["python_over_concur"]),
                      "-" if target is None else f"<= {target:.2f}x", met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    # Names and verdicts read from the left, numbers from the right.
    left = {0, 2, len(header) - 1}
    for n, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) if i in left else cell.rjust(widths[i])
                 for i, cell in enumerate(line)]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))

    checked = [row["met"] for row in rows if row["met"] is not None]
    print(f"\ntargets met: {sum(checked)}/{len(checked)}  "
          "(times are median wall-clock time per operation; a target is the "
          "largest concur/peer time ratio)")
    for name, stats in sorted({**run.cpp, **{
            f"python:{k}": v for k, v in run.python.items()}}.items()):
        if stats["cv"] > NOISY_CV:
            print(f"noisy: {name} varied {stats['cv']:.0%} across "
                  f"{len(stats['samples'])} repetitions")
    for note in run.notes:
        print(f"note: {note}")
    for failure in run.failures:
        print(f"FAILED: {failure}")


def build_type(build: Path) -> str | None:
    try:
        cache = (build / "CMakeCache.txt").read_text()
    except OSError:
        return None
    found = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", cache, re.MULTILINE)
    return found.group(1) if found else None


def busy_fraction(seconds: float = 0.5) -> float | None:
    """How busy all CPUs were over the next `seconds` (Linux), 0 to 1."""
    def sample() -> list[int]:
        with open("/proc/stat") as stat:
            return [int(v) for v in stat.readline().split()[1:]]
    try:
        before = sample()
        time.sleep(seconds)
        after = sample()
    except (OSError, ValueError):
        return None
    delta = [a - b for a, b in zip(after, before)]
    idle = delta[3] + delta[4]  # idle and iowait
    return 1 - idle / sum(delta) if sum(delta) else None


def progress(message: str) -> None:
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Run concur's benchmarks beside their C++ and Python "
        "peers and check the performance targets.")
    parser.add_argument("--build", type=Path, required=True,
                        help="CMake build directory (e.g. build/release)")
    parser.add_argument("--filter", default="", metavar="REGEX",
                        help="only workloads whose name matches REGEX")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="where to write the results "
                        "(default: BUILD/bench-results.json)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer, shorter repetitions (a smoke test)")
    parser.add_argument("--repetitions", type=int, metavar="N",
                        help="repetitions per C++ benchmark "
                        "(default 10, quick 3)")
    for build in PEER_BUILDS:
        parser.add_argument(build.option, metavar="DIR",
                            default=os.environ.get(build.env) or None,
                            help=f"a {build.project} checkout: build and run "
                            f"its optional peer (default: ${build.env}; "
                            "without one its rows are n/a)")
    parser.add_argument("--peer-cxx", metavar="CXX",
                        default=os.environ.get("CONCUR_PEER_CXX")
                        or DEFAULT_PEER_CXX,
                        help="compiler for the optional peers (default: "
                        f"$CONCUR_PEER_CXX, else {DEFAULT_PEER_CXX})")
    args = parser.parse_args()

    if args.repetitions is not None and args.repetitions < 1:
        parser.error("--repetitions must be at least 1")
    try:
        workloads = [w for w in WORKLOADS if re.search(args.filter, w.name)]
    except re.error as error:
        parser.error(f"--filter: {error}")
    if not workloads:
        print(f"run.py: no workload matches {args.filter!r}; known: "
              + ", ".join(w.name for w in WORKLOADS), file=sys.stderr)
        return 2
    kind = build_type(args.build)
    if kind is not None and kind not in ("Release", "RelWithDebInfo"):
        progress(f"warning: {args.build} is a {kind or 'no-type'} build; "
                 "numbers from it say little")

    settings = {
        "quick": args.quick,
        "repetitions": args.repetitions or (3 if args.quick else 10),
        "min_time": 0.05 if args.quick else 0.2,
        "timeout": 900,
        "build": str(args.build),
        "build_type": kind,
        "peer_builds": {},
    }
    run = Run()
    checkouts = {build.binary: getattr(args, build.option[2:])
                 for build in PEER_BUILDS}
    skip = build_peers(workloads, args.build / "bench", checkouts,
                       args.peer_cxx, settings, run)
    busy = busy_fraction()
    measure(workloads, args.build / "bench", settings, run, skip)
    rows = evaluate(workloads, run)
    print_table(rows, run)
    cpus = os.cpu_count()
    if busy is not None:
        # Other work (a build, say) takes cores from the benchmark threads
        # and skews ratios more than noise does: say so.
        warning = " - other work was running; trust ratios less" \
            if busy > BUSY else ""
        print(f"machine: {cpus} CPUs, {busy:.0%} busy just before the "
              f"run{warning}")

    result = {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds"),
        "settings": settings,
        "machine": {"cpus": cpus, "busy_before_run": busy,
                    "benchmark_context": run.context},
        "python_version": run.python_version,
        "rows": rows,
        "cpp": run.cpp,
        "python": run.python,
        "notes": run.notes,
        "failures": run.failures,
    }
    out = args.json or args.build / "bench-results.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
        print(f"results: {out}")
    except (OSError, ValueError) as error:
        run.failures.append(f"cannot write {out}: {error}")
        print(f"FAILED: cannot write {out}: {error}")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
