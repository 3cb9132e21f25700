#!/usr/bin/env python3
"""uvloop (Debian's python3-uvloop) on the echo workloads of
bench/peers/echo_workloads.hpp and the HTTP one of http_workloads.hpp:
asyncio_peer.py's code, on uvloop's event loop instead of asyncio's own.

Prints one JSON object on stdout, in the format of threading_peer.py.
"""

import asyncio

import uvloop

import asyncio_peer
import peer_harness


def on_uvloop(make):
    def run(n):
        loop = uvloop.new_event_loop()
        try:
            return loop.run_until_complete(make(n))
        finally:
            loop.close()
    return run


WORKLOADS = {
    "asyncio_echo_1": (on_uvloop(asyncio_peer.echo(1)), 20_000),
    "asyncio_echo_100": (on_uvloop(asyncio_peer.echo(100)), 20_000),
    "asyncio_http_hello": (on_uvloop(asyncio_peer.http_hello), 1),
}


if __name__ == "__main__":
    peer_harness.main(__doc__.splitlines()[0], WORKLOADS)
