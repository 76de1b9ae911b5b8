"""Run a CQLServer on a free loopback port in a background thread (tests only)."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading

from stores.wide.server import CQLServer


class ServerThread:
    """A CQLServer with its own event loop in a daemon thread."""

    def __init__(self, backend, **options):
        self.backend = backend
        self.options = options
        self.server: CQLServer | None = None
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ServerThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("server did not start")
        return self

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.server = CQLServer(self.backend, host="127.0.0.1", port=0, **self.options)
        await self.server.start()
        self._ready.set()
        await self.server.serve_until(self._stop)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


class RawClient:
    """A blocking socket that sends frames and reads whole response frames."""

    def __init__(self, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read_exact(self, n: int) -> bytes:
        chunks = []
        while n:
            chunk = self.sock.recv(n)
            if not chunk:
                raise ConnectionError("server closed the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def read_frame(self) -> bytes:
        header = self._read_exact(9)
        if header[0] & 0x7F < 3:
            # legacy 8-byte header: we already read one body byte too many
            length = struct.unpack(">i", header[4:8])[0]
            return header + self._read_exact(length - 1) if length else header[:8]
        length = struct.unpack(">i", header[5:9])[0]
        return header + self._read_exact(length)

    def is_closed(self) -> bool:
        try:
            self.sock.settimeout(5)
            return self.sock.recv(1) == b""
        except (ConnectionError, TimeoutError):
            return True

    def close(self) -> None:
        self.sock.close()
