"""Read and write the native protocol's body notations ([int], [string], ...).

``BodyReader`` walks a message body with bounds checks: a truncated or
inconsistent body raises ``ProtocolViolation``, never IndexError or
struct.error. ``BodyWriter`` appends notations to a bytearray. Both are pure:
no I/O, no knowledge of messages or of CQL value types.
"""

from __future__ import annotations

import ipaddress
import struct
import uuid

from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.format import VALUE_NULL, VALUE_UNSET

_BYTE = struct.Struct(">B")
_SHORT = struct.Struct(">H")
_INT = struct.Struct(">i")
_LONG = struct.Struct(">q")


class Unset:
    """The [value] marker for "unset" (length -2): leave the column as it is."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


class BodyReader:
    """A cursor over one message body."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes | bytearray | memoryview):
        self._data = data if type(data) is bytes else bytes(data)
        self._pos = 0

    @property
    def remaining(self) -> int:
        """Return the number of unread bytes."""
        return len(self._data) - self._pos

    def _truncated(self, n: int) -> ProtocolViolation:
        return ProtocolViolation(
            f"truncated message body: wanted {n} bytes at offset {self._pos}, "
            f"have {len(self._data) - self._pos}",
            fatal=False,
        )

    def _take(self, n: int) -> bytes:
        start = self._pos
        end = start + n
        if n < 0 or end > len(self._data):
            raise self._truncated(n)
        self._pos = end
        return self._data[start:end]

    def _unpack(self, fmt: struct.Struct) -> int:
        pos = self._pos
        if pos + fmt.size > len(self._data):
            raise self._truncated(fmt.size)
        self._pos = pos + fmt.size
        return fmt.unpack_from(self._data, pos)[0]

    def read_byte(self) -> int:
        """Return an unsigned [byte]."""
        return self._unpack(_BYTE)

    def read_short(self) -> int:
        """Return an unsigned [short]."""
        return self._unpack(_SHORT)

    def read_int(self) -> int:
        """Return a signed [int]."""
        return self._unpack(_INT)

    def read_long(self) -> int:
        """Return a signed [long]."""
        return self._unpack(_LONG)

    def read_string(self) -> str:
        """Return a [string]: a [short] length then UTF-8 bytes."""
        return self._decode_utf8(self._take(self.read_short()))

    def read_long_string(self) -> str:
        """Return a [long string]: an [int] length then UTF-8 bytes."""
        n = self.read_int()
        if n < 0:
            raise ProtocolViolation(f"negative [long string] length {n}", fatal=False)
        return self._decode_utf8(self._take(n))

    def read_uuid(self) -> uuid.UUID:
        """Return a [uuid] (16 bytes)."""
        return uuid.UUID(bytes=self._take(16))

    def read_string_list(self) -> list[str]:
        """Return a [string list]."""
        return [self.read_string() for _ in range(self.read_short())]

    def read_bytes(self) -> bytes | None:
        """Return [bytes]: None for a negative length."""
        n = self.read_int()
        if n < 0:
            return None
        return self._take(n)

    def read_value(self) -> bytes | None | Unset:
        """Return a [value]: bytes, None (null, -1) or UNSET (-2)."""
        data, pos = self._data, self._pos
        if pos + 4 <= len(data):
            n = _INT.unpack_from(data, pos)[0]
            end = pos + 4 + n
            if n >= 0 and end <= len(data):
                self._pos = end
                return data[pos + 4 : end]
        n = self.read_int()
        if n >= 0:
            return self._take(n)
        if n == VALUE_NULL:
            return None
        if n == VALUE_UNSET:
            return UNSET
        raise ProtocolViolation(f"invalid [value] length {n}", fatal=False)

    def read_short_bytes(self) -> bytes:
        """Return [short bytes]."""
        return self._take(self.read_short())

    def read_inet(self) -> tuple[str, int]:
        """Return an [inet] as (address, port)."""
        n = self.read_byte()
        if n not in (4, 16):
            raise ProtocolViolation(f"invalid [inet] address length {n}", fatal=False)
        address = str(ipaddress.ip_address(self._take(n)))
        return address, self.read_int()

    def read_inetaddr(self) -> str:
        """Return an [inetaddr] (address without port)."""
        n = self.read_byte()
        if n not in (4, 16):
            raise ProtocolViolation(f"invalid [inetaddr] length {n}", fatal=False)
        return str(ipaddress.ip_address(self._take(n)))

    def read_consistency(self) -> int:
        """Return a [consistency] code."""
        return self.read_short()

    def read_string_map(self) -> dict[str, str]:
        """Return a [string map]."""
        return {self.read_string(): self.read_string() for _ in range(self.read_short())}

    def read_string_multimap(self) -> dict[str, list[str]]:
        """Return a [string multimap]."""
        return {self.read_string(): self.read_string_list() for _ in range(self.read_short())}

    def read_bytes_map(self) -> dict[str, bytes | None]:
        """Return a [bytes map]."""
        return {self.read_string(): self.read_bytes() for _ in range(self.read_short())}

    def expect_end(self, what: str) -> None:
        """Raise ProtocolViolation if bytes are left after a complete message."""
        if self.remaining:
            raise ProtocolViolation(
                f"{self.remaining} unexpected bytes after the {what} message", fatal=False
            )

    @staticmethod
    def _decode_utf8(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolViolation(f"invalid UTF-8 in [string]: {exc}", fatal=False) from None


class BodyWriter:
    """Append native protocol notations to a growing body."""

    __slots__ = ("buffer",)

    def __init__(self):
        self.buffer = bytearray()

    def getvalue(self) -> bytes:
        """Return the body written so far."""
        return bytes(self.buffer)

    def write_raw(self, data: bytes) -> BodyWriter:
        self.buffer += data
        return self

    def write_byte(self, n: int) -> BodyWriter:
        self.buffer += _BYTE.pack(n)
        return self

    def write_short(self, n: int) -> BodyWriter:
        self.buffer += _SHORT.pack(n)
        return self

    def write_int(self, n: int) -> BodyWriter:
        self.buffer += _INT.pack(n)
        return self

    def write_long(self, n: int) -> BodyWriter:
        self.buffer += _LONG.pack(n)
        return self

    def write_string(self, s: str) -> BodyWriter:
        raw = s.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise ValueError("[string] longer than 65535 bytes")
        self.buffer += _SHORT.pack(len(raw))
        self.buffer += raw
        return self

    def write_long_string(self, s: str) -> BodyWriter:
        raw = s.encode("utf-8")
        self.buffer += _INT.pack(len(raw))
        self.buffer += raw
        return self

    def write_uuid(self, u: uuid.UUID) -> BodyWriter:
        self.buffer += u.bytes
        return self

    def write_string_list(self, items: list[str]) -> BodyWriter:
        self.write_short(len(items))
        for item in items:
            self.write_string(item)
        return self

    def write_bytes(self, data: bytes | None) -> BodyWriter:
        if data is None:
            self.buffer += _INT.pack(VALUE_NULL)
        else:
            self.buffer += _INT.pack(len(data))
            self.buffer += data
        return self

    def write_value(self, data: bytes | None | Unset) -> BodyWriter:
        if data is UNSET:
            self.buffer += _INT.pack(VALUE_UNSET)
            return self
        return self.write_bytes(data)  # type: ignore[arg-type]

    def write_short_bytes(self, data: bytes) -> BodyWriter:
        self.write_short(len(data))
        self.buffer += data
        return self

    def write_inet(self, address: str, port: int) -> BodyWriter:
        self.write_inetaddr(address)
        return self.write_int(port)

    def write_inetaddr(self, address: str) -> BodyWriter:
        packed = ipaddress.ip_address(address).packed
        self.write_byte(len(packed))
        self.buffer += packed
        return self

    def write_consistency(self, level: int) -> BodyWriter:
        return self.write_short(level)

    def write_string_map(self, mapping: dict[str, str]) -> BodyWriter:
        self.write_short(len(mapping))
        for key, value in mapping.items():
            self.write_string(key)
            self.write_string(value)
        return self

    def write_string_multimap(self, mapping: dict[str, list[str]]) -> BodyWriter:
        self.write_short(len(mapping))
        for key, values in mapping.items():
            self.write_string(key)
            self.write_string_list(values)
        return self

    def write_bytes_map(self, mapping: dict[str, bytes | None]) -> BodyWriter:
        self.write_short(len(mapping))
        for key, value in mapping.items():
            self.write_string(key)
            self.write_bytes(value)
        return self
