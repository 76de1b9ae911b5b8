"""Command line: serve the wide-column engine over the CQL native protocol.

``python -m stores.wide --port 9043 --bind 127.0.0.1 --dir DIR
--commitlog-sync periodic|batch [--auth]``. Opens the engine, starts the
asyncio server (uvloop when installed), prints one "listening" line, and on
SIGTERM/SIGINT closes connections and the engine before exiting. The process
is a server, so it tunes Python's garbage collector for one: the objects that
exist once it listens are frozen out of collections, and young collections
run every ``GC_YOUNG_THRESHOLD`` allocations instead of 700 (a memtable
allocates fast; the default made collections cost ~5 us per request).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from stores.wide.protocol import format as fmt
from stores.wide.server import (
    DEFAULT_BIND,
    DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_PORT,
    CQLServer,
    install_signal_handlers,
    new_event_loop,
)

# One worker thread costs the least CPU per statement (fewer GIL hand-offs
# with the event loop); with the batch commit log each write waits for an
# fsync, so more workers let concurrent writes share one (group commit).
DEFAULT_WORKERS = {"periodic": 1, "batch": 8}
GC_YOUNG_THRESHOLD = 20_000


def build_parser(prog: str = "python -m stores.wide") -> argparse.ArgumentParser:
    """Return the argument parser shared with ``manage.py cqlserver``."""
    parser = argparse.ArgumentParser(prog=prog, description="CQL native protocol v4 server")
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the server's options to a parser."""
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--bind", default=DEFAULT_BIND, help=f"address to listen on (default {DEFAULT_BIND})"
    )
    parser.add_argument("--dir", default=None, help="data directory (default: memory only)")
    parser.add_argument(
        "--commitlog-sync",
        choices=["periodic", "batch"],
        default="periodic",
        help="periodic: acknowledged before fsync; batch: acknowledged after (group commit)",
    )
    parser.add_argument("--auth", action="store_true", help="require PasswordAuthenticator logins")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="CQL worker threads (default 1 with periodic, 8 with batch; 0 runs everything "
        "on the event loop)",
    )
    parser.add_argument(
        "--inline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="answer quick EXECUTEs (writes that wait for no fsync, one-partition reads) on "
        "the event loop, the rest in the worker threads (default); --no-inline sends every "
        "CQL request to a worker",
    )
    parser.add_argument(
        "--max-frame-size",
        type=int,
        default=fmt.DEFAULT_MAX_FRAME_LENGTH,
        help="longest request frame body in bytes (default 16 MiB, Cassandra 5's)",
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=DEFAULT_MAX_IN_FLIGHT,
        help=f"requests in flight per connection before reading pauses (default {DEFAULT_MAX_IN_FLIGHT})",
    )


async def serve(options: argparse.Namespace, out=sys.stdout) -> None:
    """Open the engine, serve until SIGTERM/SIGINT, then close everything."""
    from stores.wide.auth import PasswordAuthenticator
    from stores.wide.cql.executor import Executor
    from stores.wide.protocol.cql_backend import CQLBackend
    from stores.wide.protocol.tracing import TraceStore
    from stores.wide.session import Session
    from stores.wide.storage import StorageEngine

    engine = StorageEngine.open(options.dir, commitlog_sync=options.commitlog_sync)
    try:
        # system.local reports the address and port clients reach us on.
        address = "127.0.0.1" if options.bind in ("", "0.0.0.0", "::") else options.bind
        executor = Executor(engine, address=address, port=options.port)
    except Exception:
        engine.close()
        raise
    session = Session(executor, engine)
    try:
        authenticator = None
        if options.auth:
            authenticator = PasswordAuthenticator(engine)
            authenticator.setup()
        server = CQLServer(
            CQLBackend(executor, TraceStore(address=address, port=options.port)),
            host=options.bind,
            port=options.port,
            authenticator=authenticator,
            max_frame_length=options.max_frame_size,
            max_in_flight=options.max_in_flight,
            quick_inline=options.inline,
            workers=(
                DEFAULT_WORKERS[options.commitlog_sync]
                if options.workers is None
                else options.workers
            ),
        )
        await server.start()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
        stop = asyncio.Event()
        install_signal_handlers(stop)
        print(
            f"CQL native protocol v4 listening on {server.host}:{server.port}", file=out, flush=True
        )
        await server.serve_until(stop)
    finally:
        session.shutdown()
    print("CQL server stopped", file=out, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the server from the command line; return the exit status."""
    options = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    loop = new_event_loop()
    try:
        loop.run_until_complete(serve(options))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
