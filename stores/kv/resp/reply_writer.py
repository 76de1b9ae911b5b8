"""Write replies: the engine's reply values in, RESP2 or RESP3 bytes out.

Encodes the values of ``stores.kv.replies`` (see docs/kv/engine-api.md) for
a connection's protocol version. Pure functions, no I/O: the server joins
what they return and writes it. Error texts are written with CR and LF
replaced by spaces, as Redis does, so a reply can never break the framing.
"""

from __future__ import annotations

from collections.abc import Callable

from stores.kv.replies import (
    NULL_ARRAY,
    ErrorReply,
    Map,
    Push,
    SetReply,
    SimpleString,
    Verbatim,
)

_SMALL_INTS = [b":%d\r\n" % i for i in range(-1, 1024)]

# Precomputed bytes of the commonest replies, the same in RESP2 and RESP3,
# for servers that encode them inline in their hot loop.
OK_REPLY = b"+OK\r\n"
SMALL_INTEGER_REPLIES = tuple(b":%d\r\n" % i for i in range(10000))
_STATUS_CACHE: dict[str, bytes] = {}


def _encode_text(text: str) -> bytes:
    """Return text as UTF-8; bytes smuggled in as surrogate escapes come back as
    themselves, and a lone surrogate (never valid on the wire) is escaped."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _status(value: str) -> bytes:
    encoded = _STATUS_CACHE.get(value)
    if encoded is None:
        text = value.replace("\r", " ").replace("\n", " ")
        encoded = b"+" + _encode_text(text) + b"\r\n"
        if len(_STATUS_CACHE) < 256:
            _STATUS_CACHE[value] = encoded
    return encoded


def _error(value: ErrorReply) -> bytes:
    text = value.message.replace("\r", " ").replace("\n", " ")
    return b"-" + _encode_text(text) + b"\r\n"


def _integer(value: int) -> bytes:
    if -1 <= value < 1023:
        return _SMALL_INTS[value + 1]
    return b":%d\r\n" % value


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%b\r\n" % (len(value), value)


def _text(value: str) -> bytes:
    return _bulk(_encode_text(value))


def format_double(value: float) -> bytes:
    """Return value as Redis 7.0 prints a double (``%.17g``, ``inf``, ``-inf``)."""
    return b"%.17g" % value


def _resp2(value: object) -> bytes:
    """Return value encoded for a RESP2 connection."""
    writer = _RESP2.get(type(value))
    if writer is not None:
        return writer(value)
    return _fallback(value, 2)


def _resp3(value: object) -> bytes:
    """Return value encoded for a RESP3 connection."""
    writer = _RESP3.get(type(value))
    if writer is not None:
        return writer(value)
    return _fallback(value, 3)


def _array2(value: list) -> bytes:
    parts = [b"*%d\r\n" % len(value)]
    parts.extend(_resp2(item) for item in value)
    return b"".join(parts)


def _map2(value: dict) -> bytes:
    parts = [b"*%d\r\n" % (2 * len(value))]
    for key, item in value.items():
        parts.append(_resp2(key))
        parts.append(_resp2(item))
    return b"".join(parts)


def _aggregate3(prefix: bytes) -> Callable[[list], bytes]:
    def write(value: list) -> bytes:
        parts = [b"%b%d\r\n" % (prefix, len(value))]
        parts.extend(_resp3(item) for item in value)
        return b"".join(parts)

    return write


def _map3(value: dict) -> bytes:
    parts = [b"%%%d\r\n" % len(value)]
    for key, item in value.items():
        parts.append(_resp3(key))
        parts.append(_resp3(item))
    return b"".join(parts)


def _verbatim3(value: Verbatim) -> bytes:
    body = value.fmt.encode("ascii") + b":" + _as_bytes(value.text)
    return b"=%d\r\n%b\r\n" % (len(body), body)


def _as_bytes(text: bytes | str) -> bytes:
    return text if isinstance(text, bytes) else _encode_text(text)


def _fallback(value: object, protocol: int) -> bytes:
    """Encode subclasses of the reply types (and str, bool) by what they are."""
    encode = _resp2 if protocol == 2 else _resp3
    if isinstance(value, ErrorReply):
        return _error(value)
    if isinstance(value, SimpleString):
        return _status(value)
    if isinstance(value, bool):
        if protocol == 3:
            return b"#t\r\n" if value else b"#f\r\n"
        return _integer(int(value))
    if isinstance(value, int):
        return _integer(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bulk(bytes(value))
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float):
        return encode(float(value))
    if isinstance(value, Push):
        return encode(Push(value))
    if isinstance(value, SetReply):
        return encode(SetReply(value))
    if isinstance(value, dict):
        return encode(Map(value))
    if isinstance(value, (list, tuple)):
        return encode(list(value))
    raise TypeError(f"cannot encode {type(value).__name__} as a RESP reply")


_RESP2: dict[type, Callable[[object], bytes]] = {
    bytes: _bulk,
    SimpleString: _status,
    ErrorReply: _error,
    int: _integer,
    type(None): lambda value: b"$-1\r\n",
    type(NULL_ARRAY): lambda value: b"*-1\r\n",
    list: _array2,
    SetReply: _array2,
    Push: _array2,
    Map: _map2,
    dict: _map2,
    float: lambda value: _bulk(format_double(value)),
    Verbatim: lambda value: _bulk(_as_bytes(value.text)),
    str: _text,
}

_RESP3: dict[type, Callable[[object], bytes]] = {
    **_RESP2,
    type(None): lambda value: b"_\r\n",
    type(NULL_ARRAY): lambda value: b"_\r\n",
    list: _aggregate3(b"*"),
    SetReply: _aggregate3(b"~"),
    Push: _aggregate3(b">"),
    Map: _map3,
    dict: _map3,
    float: lambda value: b",%b\r\n" % format_double(value),
    Verbatim: _verbatim3,
}


def encode_reply(value: object, protocol: int = 2) -> bytes:
    """Return the RESP bytes of a reply value for protocol 2 or 3."""
    return _resp3(value) if protocol == 3 else _resp2(value)


def reply_encoder(protocol: int) -> Callable[[object], bytes]:
    """Return the encoding function for protocol 2 or 3 (for hot loops)."""
    return _resp3 if protocol == 3 else _resp2
