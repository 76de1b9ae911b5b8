"""A raw-socket RESP client for wire-level tests, built on the project's codec."""

from __future__ import annotations

import socket
import time

from stores.kv.resp import NEED_DATA, ReplyReader, encode_command

LOOPBACK = "127.0.0.1"


class WireClient:
    """Send raw bytes or commands, read replies with a deadline."""

    def __init__(self, port: int, host: str = LOOPBACK, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = ReplyReader()
        self.timeout = timeout
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, *argv) -> object:
        self.send(encode_command(argv))
        return self.reply()

    def reply(self, timeout: float | None = None) -> object:
        """Return the next reply; raise TimeoutError if none comes in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            reply = self.reader.next_reply()
            if reply is not NEED_DATA:
                return reply
            if self.eof:
                raise ConnectionError("connection closed by the server")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("no reply") from None
            except ConnectionResetError:
                data = b""
            if not data:
                self.eof = True
            self.reader.feed(data)

    def replies(self, count: int) -> list:
        return [self.reply() for _ in range(count)]

    def read_until_closed(self, timeout: float = 10.0) -> bytes:
        """Return every byte the server sends until it closes the connection."""
        deadline = time.monotonic() + timeout
        chunks = []
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("the server did not close the connection") from None
            except ConnectionResetError:
                return b"".join(chunks)
            if not data:
                return b"".join(chunks)
            chunks.append(data)
        raise TimeoutError("the server did not close the connection")

    def no_reply_within(self, seconds: float) -> bool:
        """Return True if nothing at all arrives for ``seconds``."""
        if self.reader.next_reply() is not NEED_DATA:
            return False
        self.sock.settimeout(seconds)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return True
        self.reader.feed(data)
        return False

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> WireClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
