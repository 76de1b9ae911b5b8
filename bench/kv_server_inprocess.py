"""Time the RESP server's hot path in-process, stage by stage, without sockets.

A measurement aid for bench/kv_server.py: it feeds prebuilt redis-benchmark
style requests straight to ``Connection.data_received`` (a transport that
only counts bytes stands in for the socket) on a real engine with the AOF
on (everysec), and reports the CPU time (``time.process_time``) per command
of:

- the whole path: reading, the connection loop, the engine, encoding;
- the request reader alone (``RequestReader.feed`` and its commands);
- the engine alone (``Session.execute`` in batches, one persistence flush
  per batch, as the server does).

CPU time rather than wall time, so that a busy machine distorts it less.
Every loop is bounded by ``--requests``. Usage:

    python bench/kv_server_inprocess.py [--pipeline 16] [--requests 96000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import hiredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stores.kv.connection import Connection  # noqa: E402
from stores.kv.resp import RequestReader  # noqa: E402
from stores.kv.server import Server  # noqa: E402
from stores.kv.server_cli import add_arguments, open_engine  # noqa: E402

# The commands redis-benchmark sends for each test (without -r).
REQUESTS = {
    "set": lambda i: (b"SET", b"key:__rand_int__", b"xxx"),
    "get": lambda i: (b"GET", b"key:__rand_int__"),
    "incr": lambda i: (b"INCR", b"counter:__rand_int__"),
    "lpush": lambda i: (b"LPUSH", b"mylist", b"xxx"),
    "zadd": lambda i: (b"ZADD", b"myzset", b"%d" % (i % 1000), b"element:__rand_int__"),
}


class CountingTransport:
    """The least a transport must do for a Connection: take writes, answer queries."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 0)

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def run_whole(conn: Connection, batches: list[bytes]) -> None:
    for data in batches:
        conn.data_received(data)


def run_reader(batches: list[bytes]) -> None:
    reader = RequestReader()
    for data in batches:
        reader.feed(data)
        for _ in reader.commands():
            pass


def run_engine(server: Server, session: object, argvs: list, pipeline: int) -> None:
    # The connection's session batches: one persistence flush per batch.
    for start in range(0, len(argvs), pipeline):
        for argv in argvs[start : start + pipeline]:
            session.execute(argv)
        server.flush_persistence()


def cpu_per_command(function: Callable[[], None], count: int) -> float:
    start = time.process_time()
    function()
    return (time.process_time() - start) / count * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipeline", type=int, default=16)
    parser.add_argument("--requests", type=int, default=96_000)
    parser.add_argument("--tests", default=",".join(REQUESTS))
    options = parser.parse_args()
    pipeline = options.pipeline
    with tempfile.TemporaryDirectory(prefix="bench-kv-inprocess-") as directory:
        cli = argparse.ArgumentParser()
        add_arguments(cli)
        engine = open_engine(
            vars(cli.parse_args(["--dir", directory, "--appendonly", "yes", "--save", ""]))
        )
        try:
            server = Server(engine, "127.0.0.1", 0)
            server.loop_thread = threading.get_ident()
            conn = Connection(server)
            conn.connection_made(CountingTransport())
            print(f"-P {pipeline}, CPU µs per command (process_time), AOF everysec")
            print(f"{'test':<6} {'whole path':>10} {'reader':>8} {'engine':>8}")
            for test in options.tests.split(","):
                make = REQUESTS[test]
                batches = [
                    b"".join(hiredis.pack_command(make(b * pipeline + j)) for j in range(pipeline))
                    for b in range(max(options.requests // pipeline, 1))
                ]
                count = len(batches) * pipeline

                argvs = [list(make(i)) for i in range(count)]
                whole = cpu_per_command(partial(run_whole, conn, batches), count)
                reader = cpu_per_command(partial(run_reader, batches), count)
                engine_alone = cpu_per_command(
                    partial(run_engine, server, conn.session, argvs, pipeline), count
                )
                print(
                    f"{test:<6} {whole:>10.2f} {reader:>8.2f} {engine_alone:>8.2f}",
                    flush=True,
                )
        finally:
            engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
