"""What every Python peer shares: its command line, the sampling of one
workload, and the JSON it prints for bench/peers/run.py."""

import argparse
import json
import platform
import statistics
import sys


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


def emit(results):
    version = (f"{platform.python_version()} "
               f"({platform.python_implementation()})")
    json.dump({"python": version, "workloads": results}, sys.stdout, indent=1)
    print()
