"""A measurement aid, not a product: the cheapest RESP server CPython can run.

bench/kv_server.py runs this next to redis-server and our server to show
the ceiling of any pure-Python server on one core of this machine: an
asyncio Protocol on uvloop whose ``data_received`` only counts the complete
commands in what arrived and writes one canned ``+OK`` per command in one
``transport.write``. No engine, no command table, no persistence, no
per-connection state beyond the parser. Two parsers:

- ``reader``: ``stores.kv.resp.RequestReader``, the parser our server uses;
- ``hiredis``: a bare ``hiredis.Reader`` (its C parser, no checks at all),
  the least a Python server can do to find where commands end.

Whatever our server reaches is bounded by what this reaches. Usage:

    python bench/kv_floor_server.py --port 6399 [--parser reader|hiredis]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import hiredis
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stores.kv.resp import ProtocolError, QueryBufferLimitError, RequestReader  # noqa: E402

OK = b"+OK\r\n"


class ReaderFloor(asyncio.Protocol):
    """Count commands with our own RequestReader; answer each with +OK."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.reader = RequestReader()

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        count = 0
        bad = False
        try:
            reader.feed(data)
            for _ in reader.commands():
                count += 1
        except (ProtocolError, QueryBufferLimitError):
            bad = True
        if count:
            self.transport.write(OK * count)
        if bad:
            self.transport.close()


class HiredisFloor(asyncio.Protocol):
    """Count commands with a bare hiredis.Reader; answer each with +OK."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.reader = hiredis.Reader()

    def data_received(self, data: bytes) -> None:
        reader = self.reader
        reader.feed(data)
        gets = reader.gets
        count = 0
        bad = False
        try:
            while gets() is not False:
                count += 1
        except hiredis.ProtocolError:
            bad = True
        if count:
            self.transport.write(OK * count)
        if bad:
            self.transport.close()


PROTOCOLS = {"reader": ReaderFloor, "hiredis": HiredisFloor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parser", choices=sorted(PROTOCOLS), default="reader")
    options = parser.parse_args()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async def serve() -> None:
        server = await loop.create_server(
            PROTOCOLS[options.parser], "127.0.0.1", options.port, backlog=511
        )
        await stop.wait()
        server.close()

    loop.run_until_complete(serve())
    loop.close()


if __name__ == "__main__":
    main()
