"""What every Python peer shares: its command line, the sampling of one
workload, and the JSON it prints for bench/peers/run.py."""

import argparse
import json
import platform
import statistics
import sys
import time


def parse_args(description, workloads):
    """--only WORKLOAD (repeatable) and --quick, as run.py passes them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--only", action="append", metavar="WORKLOAD",
                        choices=sorted(workloads),
                        help="run only this workload (repeatable)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer and shorter samples")
    return parser.parse_args()


def measure(function, ops, samples, warm_up_ops):
    """Median time per operation of `samples` runs of function(ops), which
    returns (elapsed ns, operations done). A short untimed run first keeps
    lazily created interpreter state out of the first sample."""
    if warm_up_ops:
        function(warm_up_ops)
    per_op = []
    for _ in range(samples):
        elapsed, done = function(ops)
        per_op.append(elapsed / done)
    return {"ns_per_op": statistics.median(per_op), "ops": ops,
            "samples_ns_per_op": per_op}


def main(description, workloads, ops_multiple=1):
    """The whole run of a peer whose WORKLOADS map names to (function,
    operations per sample): five samples of each workload run (three, and
    a quarter of the operations, with --quick), after a warm-up of a
    hundredth of them. Operation counts are rounded down to a multiple of
    ops_multiple, so that every worker of a workload gets an equal share."""
    args = parse_args(description, workloads)
    samples = 3 if args.quick else 5
    scale = 0.25 if args.quick else 1.0
    results = {}
    for name in args.only or workloads:
        function, ops = workloads[name]
        ops = max(ops_multiple,
                  int(ops * scale) // ops_multiple * ops_multiple)
        warm_up = max(ops_multiple, ops // 100 // ops_multiple * ops_multiple)
        results[name] = measure(function, ops, samples, warm_up)
    emit(results)


def time_joins(workers, ready):
    """Starts the workers (threads or processes), which wait on the barrier
    `ready` with the caller, so that the clock starts when all are running;
    returns the ns from then until the last is joined."""
    for worker in workers:
        worker.start()
    ready.wait()
    start = time.perf_counter_ns()
    for worker in workers:
        worker.join()
    return time.perf_counter_ns() - start


def start_join(make_worker, target, count):
    """Times `count` rounds of make_worker(target=target), start(), join();
    returns (elapsed ns, count)."""
    start = time.perf_counter_ns()
    for _ in range(count):
        worker = make_worker(target=target)
        worker.start()
        worker.join()
    return time.perf_counter_ns() - start, count


def emit(results):
    version = (f"{platform.python_version()} "
               f"({platform.python_implementation()})")
    json.dump({"python": version, "workloads": results}, sys.stdout, indent=1)
    print()
