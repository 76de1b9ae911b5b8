"""Read replies: RESP2/RESP3 bytes in, reply values out (the client side).

The counterpart of ``reply_writer``, for anything in this project that talks
to a Redis server: it yields the same values the engine returns
(``bytes``, ``SimpleString``, ``ErrorReply``, ``int``, ``None``,
``NULL_ARRAY``, ``list``, ``float``, ``Map``, ``SetReply``, ``Push``,
``Verbatim``), plus ``bool`` for RESP3 booleans. RESP3 attributes are read
and dropped. Sans-I/O and resumable: a reply may arrive one byte at a time
and a large bulk is copied once.
"""

from __future__ import annotations

from stores.kv.replies import (
    NULL_ARRAY,
    ErrorReply,
    Map,
    Push,
    SetReply,
    SimpleString,
    Verbatim,
)
from stores.kv.resp.errors import ProtocolError
from stores.kv.resp.format import (
    ARRAY,
    ATTRIBUTE,
    BIG_NUMBER,
    BLOB_ERROR,
    BOOLEAN,
    BULK,
    DOUBLE,
    ERROR,
    INTEGER,
    MAP,
    NULL,
    PUSH,
    SET,
    SIMPLE,
    VERBATIM,
)


class _NeedData:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()
"""Returned by ``ReplyReader.next_reply`` when more bytes are needed."""

_AGGREGATES = {ARRAY: list, SET: SetReply, PUSH: Push, MAP: Map, ATTRIBUTE: None}
_SKIP = object()


def _hashable(value: object) -> object:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    if isinstance(value, dict):
        return tuple((_hashable(k), _hashable(v)) for k, v in value.items())
    return value


def _build(kind: int, items: list) -> object:
    if kind == ATTRIBUTE:
        return _SKIP
    if kind == MAP:
        return Map((_hashable(items[i]), items[i + 1]) for i in range(0, len(items), 2))
    factory = _AGGREGATES[kind]
    return items if factory is list else factory(items)


def _double(text: bytes) -> float:
    try:
        return float(text)
    except ValueError:
        raise ProtocolError(f"Protocol error: invalid double {text!r}") from None


def _integer(text: bytes) -> int:
    try:
        return int(text)
    except ValueError:
        raise ProtocolError(f"Protocol error: invalid integer {text!r}") from None


class ReplyReader:
    """Turn the bytes a server sends into reply values, one at a time."""

    def __init__(self) -> None:
        self._buf = b""
        self._pos = 0
        self._chunks: list[bytes] = []
        self._chunks_len = 0
        self._need = 0
        # Aggregates being read: [kind, items, elements still expected].
        self._stack: list[list] = []

    def feed(self, data: bytes) -> None:
        """Add bytes received from the server."""
        if not data:
            return
        if self._pos >= len(self._buf) and not self._chunks:
            self._buf = bytes(data)
            self._pos = 0
        else:
            self._chunks.append(bytes(data))
            self._chunks_len += len(data)

    def next_reply(self) -> object:
        """Return the next complete reply, or NEED_DATA."""
        if self._chunks and len(self._buf) - self._pos + self._chunks_len >= self._need:
            rest = self._buf[self._pos :]
            self._buf = rest + b"".join(self._chunks)
            self._pos = 0
            self._chunks = []
            self._chunks_len = 0
        buf = self._buf
        n = len(buf)
        stack = self._stack
        while True:
            pos = self._pos
            nl = buf.find(b"\r\n", pos)
            if nl < 0:
                self._need = n - pos + 1
                return NEED_DATA
            kind = buf[pos]
            line = buf[pos + 1 : nl]
            after = nl + 2
            if kind == BULK or kind == VERBATIM or kind == BLOB_ERROR:
                length = _integer(line)
                if length < 0:
                    value = None
                else:
                    if after + length + 2 > n:
                        self._need = after + length + 2 - pos
                        return NEED_DATA
                    data = buf[after : after + length]
                    after += length + 2
                    if kind == BULK:
                        value = data
                    elif kind == VERBATIM:
                        fmt, _, text = data.partition(b":")
                        value = Verbatim(text, fmt.decode("ascii", "replace"))
                    else:
                        value = ErrorReply(data.decode("utf-8", "surrogateescape"))
            elif kind in _AGGREGATES:
                count = _integer(line)
                self._pos = after
                if count < 0:
                    value = NULL_ARRAY
                elif count == 0:
                    value = _build(kind, [])
                else:
                    stack.append([kind, [], count * 2 if kind in (MAP, ATTRIBUTE) else count])
                    continue
            elif kind == SIMPLE:
                value = SimpleString(line.decode("utf-8", "surrogateescape"))
            elif kind == ERROR:
                value = ErrorReply(line.decode("utf-8", "surrogateescape"))
            elif kind == INTEGER or kind == BIG_NUMBER:
                value = _integer(line)
            elif kind == NULL:
                value = None
            elif kind == DOUBLE:
                value = _double(line)
            elif kind == BOOLEAN:
                if line not in (b"t", b"f"):
                    raise ProtocolError(f"Protocol error: invalid boolean {line!r}")
                value = line == b"t"
            else:
                raise ProtocolError(f"Protocol error: unknown reply type {chr(kind)!r}")
            self._pos = after
            while stack:
                frame = stack[-1]
                if value is not _SKIP:
                    frame[1].append(value)
                    frame[2] -= 1
                if frame[2]:
                    break
                stack.pop()
                value = _build(frame[0], frame[1])
            else:
                if value is _SKIP:
                    continue
                if self._pos >= n and not self._chunks:
                    self._buf = b""
                    self._pos = 0
                return value
