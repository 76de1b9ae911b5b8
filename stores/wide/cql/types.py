"""Every CQL type: native-protocol bytes, Python values, literals and key order.

A ``CQLType`` converts between three forms of one value:

- the Python value cassandra-driver would hand out (``int``, ``str``,
  ``uuid.UUID``, naive UTC ``datetime``, ``Decimal``, ``Date``/``Time``/
  ``Duration`` from ``values``, ``list``, ``SortedSet``, ``dict``, ``tuple``);
- the native protocol v4 serialization (``serialize``/``deserialize``), which
  is also what the storage engine stores in cells;
- an order-preserving, prefix-free key encoding (``encode_key``/
  ``decode_key``) whose plain byte order is the type's CQL order; clustering
  keys are concatenations of these, inverted for DESC columns (see ``keys``).

It also turns a CQL literal of the right kind into a Python value
(``from_literal``). This module never touches storage and never parses
statements.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import struct
import uuid
from decimal import Decimal, InvalidOperation

from sortedcontainers import SortedSet

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.values import Date, Duration, Time, parse_duration

EPOCH = datetime.datetime(1970, 1, 1)
DATE_OFFSET = 2**31

_INT_STRUCTS = {
    1: struct.Struct(">b"),
    2: struct.Struct(">h"),
    4: struct.Struct(">i"),
    8: struct.Struct(">q"),
}
_UINT32 = struct.Struct(">I")
_UINT64 = struct.Struct(">Q")
_INT32 = struct.Struct(">i")
_FLOAT = struct.Struct(">f")
_DOUBLE = struct.Struct(">d")


# A value that cannot be converted to or from a CQL type is an InvalidRequest
# to the client; the alias names the intent at raise sites.
MarshalError = InvalidRequest


class CQLType:
    """One CQL type. Subclasses define the conversions."""

    name = ""
    option_id = 0
    is_collection = False
    is_counter = False
    frozen = True
    subtypes: tuple[CQLType, ...] = ()
    literal_kinds: tuple[str, ...] = ()
    # Whether an empty byte string is a real value (text, blob) or "empty".
    empty_is_value = False

    @property
    def multicell(self) -> bool:
        """Return True for a non-frozen collection, stored as one cell per element."""
        return self.is_collection and not self.frozen

    def cql(self) -> str:
        """Return the type as CQL spells it (``frozen<list<int>>``)."""
        return self.name

    def __repr__(self) -> str:
        return f"<CQLType {self.cql()}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CQLType) and self.cql() == other.cql()

    def __hash__(self) -> int:
        return hash(self.cql())

    # Python value <-> native protocol bytes ---------------------------------

    def serialize(self, value) -> bytes:
        """Return the native-protocol bytes of a Python value."""
        raise NotImplementedError

    def deserialize(self, data: bytes):
        """Return the Python value of native-protocol bytes (None for empty)."""
        raise NotImplementedError

    def validate(self, value):
        """Return the value in this type's canonical Python form."""
        return self.deserialize(self.serialize(value))

    # Order-preserving key encoding ---------------------------------------

    def encode_key(self, value) -> bytes:
        """Return the prefix-free, order-preserving key encoding of a value."""
        raise MarshalError(f"{self.cql()} values cannot be used in a key")

    def decode_key(self, buf: bytes, pos: int) -> tuple[object, int]:
        """Return the value encoded at ``buf[pos:]`` and the position after it."""
        raise MarshalError(f"{self.cql()} values cannot be used in a key")

    def sort_key(self, value) -> bytes:
        """Return a key that sorts Python values in CQL order."""
        return self.encode_key(value)

    # Literals -----------------------------------------------------------------

    def from_literal(self, kind: str, text: str):
        """Return the Python value of a literal of ``kind`` (string, integer, ...)."""
        raise MarshalError(f"Invalid {kind.upper()} constant ({text}) for type {self.cql()}")

    def to_cql_literal(self, value) -> str:
        """Return a CQL literal for a Python value (used by DESCRIBE and JSON)."""
        if value is None:
            return "null"
        return str(value)

    def to_json(self, value):
        """Return a JSON-able representation, as Cassandra's toJson does."""
        if value is None:
            return None
        return str(value)


def _bad_literal(kind: str, text: str, cql_type: CQLType) -> MarshalError:
    return MarshalError(f"Invalid {kind.upper()} constant ({text}) for type {cql_type.cql()}")


# Strings and bytes ----------------------------------------------------------

_ESCAPE_ZERO = b"\x00\xff"
_TERMINATOR = b"\x00\x00"


def _escape(data: bytes) -> bytes:
    return data.replace(b"\x00", _ESCAPE_ZERO) + _TERMINATOR


def _unescape(buf: bytes, pos: int) -> tuple[bytes, int]:
    out = bytearray()
    while True:
        zero = buf.find(b"\x00", pos)
        if zero < 0 or zero + 1 >= len(buf):
            raise MarshalError("Truncated key component")
        out += buf[pos:zero]
        marker = buf[zero + 1]
        if marker == 0x00:
            return bytes(out), zero + 2
        if marker != 0xFF:
            raise MarshalError("Malformed key component")
        out.append(0)
        pos = zero + 2


class TextType(CQLType):
    name = "text"
    option_id = 0x000D
    literal_kinds = ("string",)
    empty_is_value = True

    def serialize(self, value) -> bytes:
        if not isinstance(value, str):
            raise MarshalError(
                f"Expected a string for type {self.cql()}, got {type(value).__name__}"
            )
        return value.encode("utf-8")

    def deserialize(self, data: bytes):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise MarshalError("String didn't validate.") from None

    def encode_key(self, value) -> bytes:
        return _escape(self.serialize(value))

    def decode_key(self, buf, pos):
        raw, pos = _unescape(buf, pos)
        return raw.decode("utf-8"), pos

    def from_literal(self, kind, text):
        if kind != "string":
            raise _bad_literal(kind, text, self)
        return text

    def to_cql_literal(self, value) -> str:
        if value is None:
            return "null"
        return "'" + value.replace("'", "''") + "'"

    def to_json(self, value):
        return value


class AsciiType(TextType):
    name = "ascii"
    option_id = 0x0001

    def serialize(self, value) -> bytes:
        if not isinstance(value, str):
            raise MarshalError(f"Expected a string for type ascii, got {type(value).__name__}")
        try:
            return value.encode("ascii")
        except UnicodeEncodeError:
            raise MarshalError(f"Invalid ASCII character in string literal {value}") from None

    def deserialize(self, data: bytes):
        try:
            return bytes(data).decode("ascii")
        except UnicodeDecodeError:
            raise MarshalError("Invalid byte for ascii") from None

    def from_literal(self, kind, text):
        if kind != "string":
            raise _bad_literal(kind, text, self)
        self.serialize(text)
        return text


class BlobType(CQLType):
    name = "blob"
    option_id = 0x0003
    literal_kinds = ("hex",)
    empty_is_value = True

    def serialize(self, value) -> bytes:
        if not isinstance(value, bytes | bytearray | memoryview):
            raise MarshalError(f"Expected bytes for type blob, got {type(value).__name__}")
        return bytes(value)

    def deserialize(self, data: bytes):
        return bytes(data)

    def encode_key(self, value) -> bytes:
        return _escape(self.serialize(value))

    def decode_key(self, buf, pos):
        return _unescape(buf, pos)

    def from_literal(self, kind, text):
        if kind != "hex":
            raise _bad_literal(kind, text, self)
        return bytes.fromhex(text[2:])

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else "0x" + bytes(value).hex()

    def to_json(self, value):
        return None if value is None else "0x" + bytes(value).hex()


# Numbers --------------------------------------------------------------------


class FixedIntType(CQLType):
    size = 4
    literal_kinds = ("integer",)

    def _check(self, value) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise MarshalError(
                f"Expected an integer for type {self.name}, got {type(value).__name__}"
            )
        bits = self.size * 8
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise MarshalError(f"Value {value} out of range for type {self.name}")
        return value

    def serialize(self, value) -> bytes:
        return _INT_STRUCTS[self.size].pack(self._check(value))

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != self.size:
            raise MarshalError(f"Expected {self.size} or 0 byte {self.name} ({len(data)})")
        return _INT_STRUCTS[self.size].unpack(data)[0]

    def encode_key(self, value) -> bytes:
        raw = bytearray(self.serialize(value))
        raw[0] ^= 0x80
        return bytes(raw)

    def decode_key(self, buf, pos):
        end = pos + self.size
        raw = bytearray(buf[pos:end])
        if len(raw) != self.size:
            raise MarshalError("Truncated key component")
        raw[0] ^= 0x80
        return _INT_STRUCTS[self.size].unpack(raw)[0], end

    def from_literal(self, kind, text):
        if kind != "integer":
            raise _bad_literal(kind, text, self)
        value = int(text)
        bits = self.size * 8
        if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
            raise MarshalError(f"Invalid INTEGER constant ({text}) for type {self.name}")
        return value

    def to_json(self, value):
        return value


class TinyIntType(FixedIntType):
    name = "tinyint"
    option_id = 0x0014
    size = 1


class SmallIntType(FixedIntType):
    name = "smallint"
    option_id = 0x0013
    size = 2


class IntType(FixedIntType):
    name = "int"
    option_id = 0x0009
    size = 4


class BigIntType(FixedIntType):
    name = "bigint"
    option_id = 0x0002
    size = 8


class CounterType(BigIntType):
    name = "counter"
    option_id = 0x0005
    is_counter = True


def _int_to_bytes(value: int) -> bytes:
    length = (value + (value < 0)).bit_length() // 8 + 1
    return value.to_bytes(length, "big", signed=True)


class VarIntType(CQLType):
    name = "varint"
    option_id = 0x000E
    literal_kinds = ("integer",)

    def serialize(self, value) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            raise MarshalError(f"Expected an integer for type varint, got {type(value).__name__}")
        return _int_to_bytes(value)

    def deserialize(self, data: bytes):
        if not data:
            return None
        return int.from_bytes(data, "big", signed=True)

    def encode_key(self, value) -> bytes:
        self.serialize(value)
        if value == 0:
            return b"\x01"
        magnitude = abs(value)
        digits = magnitude.to_bytes((magnitude.bit_length() + 7) // 8, "big")
        if value > 0:
            return b"\x02" + _UINT32.pack(len(digits)) + digits
        return b"\x00" + _UINT32.pack(0xFFFFFFFF - len(digits)) + bytes(255 - b for b in digits)

    def decode_key(self, buf, pos):
        marker = buf[pos]
        if marker == 1:
            return 0, pos + 1
        (length,) = _UINT32.unpack_from(buf, pos + 1)
        if marker == 0:
            length = 0xFFFFFFFF - length
            digits = bytes(255 - b for b in buf[pos + 5 : pos + 5 + length])
            return -int.from_bytes(digits, "big"), pos + 5 + length
        return int.from_bytes(buf[pos + 5 : pos + 5 + length], "big"), pos + 5 + length

    def from_literal(self, kind, text):
        if kind != "integer":
            raise _bad_literal(kind, text, self)
        return int(text)

    def to_json(self, value):
        return value


def _float_key(raw: bytes) -> bytes:
    if raw[0] & 0x80:
        return bytes(255 - b for b in raw)
    return bytes([raw[0] | 0x80]) + raw[1:]


def _float_unkey(raw: bytes) -> bytes:
    if raw[0] & 0x80:
        return bytes([raw[0] & 0x7F]) + raw[1:]
    return bytes(255 - b for b in raw)


class FloatingType(CQLType):
    packer = _DOUBLE
    literal_kinds = ("integer", "float")

    def serialize(self, value) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise MarshalError(
                f"Expected a number for type {self.name}, got {type(value).__name__}"
            )
        try:
            return self.packer.pack(float(value))
        except (OverflowError, struct.error):
            raise MarshalError(f"Value {value} out of range for type {self.name}") from None

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != self.packer.size:
            raise MarshalError(
                f"Expected {self.packer.size} or 0 byte value for {self.name} ({len(data)})"
            )
        return self.packer.unpack(data)[0]

    def encode_key(self, value) -> bytes:
        number = float(value)
        if number != number:
            number = float("nan")
        return _float_key(self.packer.pack(number))

    def decode_key(self, buf, pos):
        end = pos + self.packer.size
        return self.packer.unpack(_float_unkey(buf[pos:end]))[0], end

    def from_literal(self, kind, text):
        if kind not in ("integer", "float"):
            raise _bad_literal(kind, text, self)
        return float(text)

    def to_json(self, value):
        return value


class FloatType(FloatingType):
    name = "float"
    option_id = 0x0008
    packer = _FLOAT


class DoubleType(FloatingType):
    name = "double"
    option_id = 0x0007
    packer = _DOUBLE


class DecimalType(CQLType):
    name = "decimal"
    option_id = 0x0006
    literal_kinds = ("integer", "float")

    def _coerce(self, value) -> Decimal:
        if isinstance(value, bool):
            raise MarshalError("Expected a number for type decimal, got bool")
        if isinstance(value, Decimal):
            return value
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return Decimal(repr(value))
        raise MarshalError(f"Expected a number for type decimal, got {type(value).__name__}")

    def serialize(self, value) -> bytes:
        number = self._coerce(value)
        if not number.is_finite():
            raise MarshalError("Decimal values must be finite")
        sign, digits, exponent = number.as_tuple()
        unscaled = int("".join(map(str, digits)) or "0")
        if sign:
            unscaled = -unscaled
        return _INT32.pack(-exponent) + _int_to_bytes(unscaled)

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) < 4:
            raise MarshalError("Invalid decimal: fewer than 4 bytes")
        (scale,) = _INT32.unpack_from(data)
        unscaled = int.from_bytes(data[4:], "big", signed=True)
        # Built from its digits: arithmetic like scaleb() would round to 28
        # digits. Decimal(int) is exact and, unlike str(), has no digit limit.
        sign, digits, _ = Decimal(unscaled).as_tuple()
        return Decimal((sign, digits, -scale))

    def encode_key(self, value) -> bytes:
        number = self._coerce(value)
        if number.is_zero():
            return b"\x01"
        sign, digits, exponent = number.as_tuple()
        # Strip trailing zeros by hand: normalize() would round to 28 digits.
        while len(digits) > 1 and digits[-1] == 0:
            digits = digits[:-1]
            exponent += 1
        # value = 0.d1d2...dn * 10**point
        point = len(digits) + exponent
        body = _UINT32.pack((point + 2**31) & 0xFFFFFFFF) + bytes(d + 1 for d in digits)
        if sign:
            return b"\x00" + bytes(255 - b for b in body) + b"\xff"
        return b"\x02" + body + b"\x00"

    def decode_key(self, buf, pos):
        marker = buf[pos]
        if marker == 1:
            return Decimal(0), pos + 1
        end_byte = 0xFF if marker == 0 else 0x00
        end = buf.index(bytes([end_byte]), pos + 5)
        body = buf[pos + 1 : end]
        if marker == 0:
            body = bytes(255 - b for b in body)
        point = _UINT32.unpack_from(body)[0] - 2**31
        digits = tuple(b - 1 for b in body[4:])
        return Decimal((1 if marker == 0 else 0, digits, point - len(digits))), end + 1

    def from_literal(self, kind, text):
        if kind not in ("integer", "float"):
            raise _bad_literal(kind, text, self)
        try:
            return Decimal(text)
        except InvalidOperation:
            raise _bad_literal(kind, text, self) from None

    def to_json(self, value):
        return None if value is None else float(value)


class BooleanType(CQLType):
    name = "boolean"
    option_id = 0x0004
    literal_kinds = ("boolean",)

    def serialize(self, value) -> bytes:
        if not isinstance(value, bool):
            raise MarshalError(f"Expected a boolean for type boolean, got {type(value).__name__}")
        return b"\x01" if value else b"\x00"

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != 1:
            raise MarshalError(f"Expected 1 or 0 byte value for boolean ({len(data)})")
        return data[0] != 0

    def encode_key(self, value) -> bytes:
        return self.serialize(value)

    def decode_key(self, buf, pos):
        return buf[pos] != 0, pos + 1

    def from_literal(self, kind, text):
        if kind != "boolean":
            raise _bad_literal(kind, text, self)
        return text.lower() == "true"

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else str(value).lower()

    def to_json(self, value):
        return value


# UUIDs --------------------------------------------------------------------


def _uuid_time(raw: bytes) -> int:
    time_low, time_mid, time_hi = struct.unpack(">IHH", raw[:8])
    return ((time_hi & 0x0FFF) << 48) | (time_mid << 32) | time_low


def _timeuuid_key(value: uuid.UUID) -> bytes:
    raw = value.bytes
    stamp = _uuid_time(raw)
    lsb = bytes(b ^ 0x80 for b in raw[8:])
    return _UINT64.pack((stamp << 4) | (raw[6] >> 4)) + lsb


def _timeuuid_unkey(buf: bytes, pos: int) -> uuid.UUID:
    (head,) = _UINT64.unpack_from(buf, pos)
    stamp, version = head >> 4, head & 0xF
    lsb = bytes(b ^ 0x80 for b in buf[pos + 8 : pos + 16])
    time_low = stamp & 0xFFFFFFFF
    time_mid = (stamp >> 32) & 0xFFFF
    time_hi = ((stamp >> 48) & 0x0FFF) | (version << 12)
    msb = struct.pack(">IHH", time_low, time_mid, time_hi)
    return uuid.UUID(bytes=msb + lsb)


class UUIDType(CQLType):
    name = "uuid"
    option_id = 0x000C
    literal_kinds = ("uuid",)

    def serialize(self, value) -> bytes:
        if not isinstance(value, uuid.UUID):
            raise MarshalError(
                f"Expected a uuid.UUID for type {self.name}, got {type(value).__name__}"
            )
        return value.bytes

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != 16:
            raise MarshalError(f"Expected 16 or 0 byte uuid ({len(data)})")
        return uuid.UUID(bytes=bytes(data))

    def encode_key(self, value) -> bytes:
        # Cassandra's UUIDType orders by version first, version-1 uuids by time.
        self.serialize(value)
        version = value.bytes[6] >> 4
        if version == 1:
            return b"\x01" + _timeuuid_key(value)
        return bytes([version]) + value.bytes

    def decode_key(self, buf, pos):
        version = buf[pos]
        if version == 1:
            return _timeuuid_unkey(buf, pos + 1), pos + 17
        return uuid.UUID(bytes=bytes(buf[pos + 1 : pos + 17])), pos + 17

    def from_literal(self, kind, text):
        if kind != "uuid":
            raise _bad_literal(kind, text, self)
        return uuid.UUID(text)

    def to_json(self, value):
        return None if value is None else str(value)


class TimeUUIDType(UUIDType):
    name = "timeuuid"
    option_id = 0x000F

    def serialize(self, value) -> bytes:
        raw = super().serialize(value)
        if raw[6] >> 4 != 1:
            raise MarshalError(f"Unsupported UUID version for timeuuid: {raw[6] >> 4}; expected 1")
        return raw

    def deserialize(self, data: bytes):
        value = super().deserialize(data)
        if value is not None and value.bytes[6] >> 4 != 1:
            raise MarshalError("Invalid version for TimeUUID type.")
        return value

    def encode_key(self, value) -> bytes:
        self.serialize(value)
        return _timeuuid_key(value)

    def decode_key(self, buf, pos):
        return _timeuuid_unkey(buf, pos), pos + 16

    def from_literal(self, kind, text):
        value = super().from_literal(kind, text)
        if value.bytes[6] >> 4 != 1:
            raise MarshalError(f"Unsupported UUID version for timeuuid: {value.bytes[6] >> 4}")
        return value


# Time ------------------------------------------------------------------------

_TIMESTAMP_RE = re.compile(
    r"^(\d{4,})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def timestamp_from_string(text: str) -> int:
    """Return milliseconds since the epoch for a CQL timestamp string."""
    match = _TIMESTAMP_RE.match(text.strip())
    if not match:
        raise MarshalError(f"Unable to coerce '{text}' to a formatted date (long)")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        raise MarshalError(f"Unable to coerce '{text}' to a formatted date (long)") from None
    millis = int((fraction or "").ljust(3, "0")[:3])
    offset = 0
    if zone and zone != "Z":
        digits = zone.replace(":", "")
        offset = (int(digits[1:3]) * 60 + int(digits[3:5])) * 60
        if digits[0] == "-":
            offset = -offset
    delta = moment - EPOCH
    return (delta.days * 86400 + delta.seconds - offset) * 1000 + millis


def timestamp_to_millis(value) -> int:
    """Return milliseconds since the epoch for a datetime, date or int."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        delta = value - EPOCH
        return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000
    if isinstance(value, datetime.date):
        return (value - EPOCH.date()).days * 86_400_000
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise MarshalError(f"Expected a datetime for type timestamp, got {type(value).__name__}")


def millis_to_datetime(millis: int):
    """Return a naive UTC datetime for epoch milliseconds, as cassandra-driver does."""
    try:
        return EPOCH + datetime.timedelta(milliseconds=millis)
    except OverflowError:
        return millis


class TimestampType(CQLType):
    name = "timestamp"
    option_id = 0x000B
    literal_kinds = ("integer", "string")

    def serialize(self, value) -> bytes:
        millis = timestamp_to_millis(value)
        try:
            return _INT_STRUCTS[8].pack(millis)
        except struct.error:
            raise MarshalError(f"Timestamp {value} out of range") from None

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != 8:
            raise MarshalError(f"Expected 8 or 0 byte long for date ({len(data)})")
        return millis_to_datetime(_INT_STRUCTS[8].unpack(data)[0])

    def encode_key(self, value) -> bytes:
        millis = timestamp_to_millis(value)
        try:
            return _UINT64.pack(millis + 2**63)
        except struct.error:
            raise MarshalError(f"Timestamp {value} out of range") from None

    def decode_key(self, buf, pos):
        millis = _UINT64.unpack_from(buf, pos)[0] - 2**63
        pos += 8
        return millis_to_datetime(millis), pos

    def from_literal(self, kind, text):
        if kind == "integer":
            return millis_to_datetime(int(text))
        if kind == "string":
            return millis_to_datetime(timestamp_from_string(text))
        raise _bad_literal(kind, text, self)

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else f"'{self.to_json(value)}'"

    def to_json(self, value):
        if value is None:
            return None
        if isinstance(value, int):
            return str(value)
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class DateType(CQLType):
    name = "date"
    option_id = 0x0011
    literal_kinds = ("integer", "string")

    def _days(self, value) -> int:
        try:
            return Date(value).days_from_epoch
        except (TypeError, ValueError) as exc:
            raise MarshalError(str(exc)) from None

    def serialize(self, value) -> bytes:
        days = self._days(value)
        if not -DATE_OFFSET <= days < DATE_OFFSET:
            raise MarshalError(f"Date {days} out of range")
        return _UINT32.pack(days + DATE_OFFSET)

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != 4:
            raise MarshalError(f"Expected 4 byte long for date ({len(data)})")
        return Date(_UINT32.unpack(data)[0] - DATE_OFFSET)

    def encode_key(self, value) -> bytes:
        return self.serialize(value)

    def decode_key(self, buf, pos):
        return Date(_UINT32.unpack_from(buf, pos)[0] - DATE_OFFSET), pos + 4

    def from_literal(self, kind, text):
        if kind == "integer":
            return Date(int(text) - DATE_OFFSET)
        if kind == "string":
            try:
                return Date(text)
            except ValueError:
                raise MarshalError(
                    f"Unable to coerce '{text}' to a formatted date (long)"
                ) from None
        raise _bad_literal(kind, text, self)

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else f"'{value}'"


class TimeType(CQLType):
    name = "time"
    option_id = 0x0012
    literal_kinds = ("integer", "string")

    def serialize(self, value) -> bytes:
        try:
            return _INT_STRUCTS[8].pack(Time(value).nanosecond_time)
        except (TypeError, ValueError) as exc:
            raise MarshalError(str(exc)) from None

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) != 8:
            raise MarshalError(f"Expected 8 byte long for time ({len(data)})")
        try:
            return Time(_INT_STRUCTS[8].unpack(data)[0])
        except ValueError as exc:
            raise MarshalError(str(exc)) from None

    def encode_key(self, value) -> bytes:
        return self.serialize(value)

    def decode_key(self, buf, pos):
        return Time(_INT_STRUCTS[8].unpack_from(buf, pos)[0]), pos + 8

    def from_literal(self, kind, text):
        try:
            if kind == "integer":
                return Time(int(text))
            if kind == "string":
                return Time(text)
        except ValueError as exc:
            raise MarshalError(str(exc)) from None
        raise _bad_literal(kind, text, self)

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else f"'{value}'"


def encode_vint(value: int) -> bytes:
    """Return Cassandra's unsigned variable-length integer encoding."""
    size = 0
    while size < 8 and value >= 1 << (8 * size + 7 - size):
        size += 1
    if size == 8:
        return b"\xff" + value.to_bytes(8, "big")
    raw = value.to_bytes(size + 1, "big")
    return bytes([raw[0] | ((0xFF << (8 - size)) & 0xFF)]) + raw[1:]


def decode_vint(buf: bytes, pos: int) -> tuple[int, int]:
    """Return the unsigned vint at ``buf[pos:]`` and the position after it."""
    if pos >= len(buf):
        raise MarshalError("Truncated variable-length integer")
    first = buf[pos]
    extra = 0
    while extra < 8 and first & (0x80 >> extra):
        extra += 1
    if pos + 1 + extra > len(buf):
        raise MarshalError("Truncated variable-length integer")
    value = first & (0xFF >> (extra + 1)) if extra < 8 else 0
    for b in buf[pos + 1 : pos + 1 + extra]:
        value = (value << 8) | b
    return value, pos + 1 + extra


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _unzigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


class DurationType(CQLType):
    name = "duration"
    option_id = 0x0015
    literal_kinds = ("duration",)

    def serialize(self, value) -> bytes:
        if not isinstance(value, Duration):
            raise MarshalError(f"Expected a Duration for type duration, got {type(value).__name__}")
        return b"".join(
            encode_vint(_zigzag(v)) for v in (value.months, value.days, value.nanoseconds)
        )

    def deserialize(self, data: bytes):
        if not data:
            return None
        months, pos = decode_vint(data, 0)
        days, pos = decode_vint(data, pos)
        nanos, pos = decode_vint(data, pos)
        if pos != len(data):
            raise MarshalError("Invalid duration: trailing bytes")
        try:
            return Duration(_unzigzag(months), _unzigzag(days), _unzigzag(nanos))
        except ValueError as exc:
            raise MarshalError(str(exc)) from None

    def from_literal(self, kind, text):
        if kind not in ("duration", "string"):
            raise _bad_literal(kind, text, self)
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise MarshalError(str(exc)) from None


def _inet_text(packed: bytes) -> str:
    """Return an address as the driver prints it (socket.inet_ntop)."""
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed)


class InetType(CQLType):
    name = "inet"
    option_id = 0x0010
    literal_kinds = ("string",)

    def serialize(self, value) -> bytes:
        try:
            return ipaddress.ip_address(value).packed
        except ValueError:
            raise MarshalError(f"Unable to make inet address from '{value}'") from None

    def deserialize(self, data: bytes):
        if not data:
            return None
        if len(data) not in (4, 16):
            raise MarshalError(f"Invalid inet address length {len(data)}")
        return _inet_text(bytes(data))

    def encode_key(self, value) -> bytes:
        return _escape(self.serialize(value))

    def decode_key(self, buf, pos):
        raw, pos = _unescape(buf, pos)
        return _inet_text(raw), pos

    def from_literal(self, kind, text):
        if kind != "string":
            raise _bad_literal(kind, text, self)
        return _inet_text(self.serialize(text))

    def to_cql_literal(self, value) -> str:
        return "null" if value is None else f"'{value}'"


# Collections and tuples -----------------------------------------------------


def hashable(value):
    """Return a hashable stand-in for a collection value (set elements, map keys)."""
    if isinstance(value, list):
        return tuple(hashable(v) for v in value)
    if isinstance(value, set | SortedSet):
        return frozenset(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((hashable(k), hashable(v)) for k, v in value.items())
    if isinstance(value, tuple):
        return tuple(hashable(v) for v in value)
    return value


def _pack_items(items: list[bytes | None]) -> bytes:
    parts = [_INT32.pack(len(items))]
    for item in items:
        if item is None:
            raise MarshalError("null is not supported inside collections")
        parts.append(_INT32.pack(len(item)))
        parts.append(item)
    return b"".join(parts)


def _unpack_items(data: bytes, count_multiplier: int = 1) -> list[bytes]:
    if len(data) < 4:
        raise MarshalError("Not enough bytes to read a collection size")
    (count,) = _INT32.unpack_from(data)
    if count < 0:
        raise MarshalError("Negative collection size")
    items = []
    pos = 4
    for _ in range(count * count_multiplier):
        if pos + 4 > len(data):
            raise MarshalError("Not enough bytes to read a collection element")
        (size,) = _INT32.unpack_from(data, pos)
        pos += 4
        if size < 0:
            raise MarshalError("null is not supported inside collections")
        if pos + size > len(data):
            raise MarshalError("Not enough bytes to read a collection element")
        items.append(data[pos : pos + size])
        pos += size
    if pos != len(data):
        raise MarshalError("Unexpected extraneous bytes after collection value")
    return items


def _key_sequence(encoded: list[bytes]) -> bytes:
    return b"".join(b"\x01" + e for e in encoded) + b"\x00"


class CollectionType(CQLType):
    is_collection = True

    def __init__(self, *subtypes: CQLType, frozen: bool = False):
        self.subtypes = subtypes
        self.frozen = frozen

    def cql(self) -> str:
        inner = f"{self.name}<{', '.join(t.cql() for t in self.subtypes)}>"
        return f"frozen<{inner}>" if self.frozen else inner

    def with_frozen(self, frozen: bool) -> CollectionType:
        """Return this collection type frozen or not."""
        return type(self)(*self.subtypes, frozen=frozen)


class ListType(CollectionType):
    name = "list"
    option_id = 0x0020

    @property
    def element(self) -> CQLType:
        return self.subtypes[0]

    def serialize(self, value) -> bytes:
        if not isinstance(value, list | tuple):
            raise MarshalError(f"Expected a list for type {self.cql()}, got {type(value).__name__}")
        return _pack_items([self.element.serialize(v) if v is not None else None for v in value])

    def deserialize(self, data: bytes):
        if not data:
            return None
        return [self.element.deserialize(item) for item in _unpack_items(data)]

    def encode_key(self, value) -> bytes:
        return _key_sequence([self.element.encode_key(v) for v in value])

    def decode_key(self, buf, pos):
        out = []
        while buf[pos] == 1:
            item, pos = self.element.decode_key(buf, pos + 1)
            out.append(item)
        return out, pos + 1


class SetType(CollectionType):
    name = "set"
    option_id = 0x0022

    @property
    def element(self) -> CQLType:
        return self.subtypes[0]

    def _sorted(self, values) -> list:
        unique = {}
        for v in values:
            if v is None:
                raise MarshalError("null is not supported inside collections")
            unique[self.element.sort_key(v)] = v
        return [unique[k] for k in sorted(unique)]

    def serialize(self, value) -> bytes:
        if not isinstance(value, set | frozenset | SortedSet | list | tuple):
            raise MarshalError(f"Expected a set for type {self.cql()}, got {type(value).__name__}")
        return _pack_items([self.element.serialize(v) for v in self._sorted(value)])

    def deserialize(self, data: bytes):
        if not data:
            return None
        return make_set(self.element.deserialize(item) for item in _unpack_items(data))

    def encode_key(self, value) -> bytes:
        return _key_sequence([self.element.encode_key(v) for v in self._sorted(value)])

    def decode_key(self, buf, pos):
        out = []
        while buf[pos] == 1:
            item, pos = self.element.decode_key(buf, pos + 1)
            out.append(item)
        return make_set(out), pos + 1


def make_set(items) -> SortedSet | set:
    """Return a set of Python values in sorted order, like the driver's SortedSet."""
    items = [hashable(i) for i in items]
    try:
        return SortedSet(items)
    except TypeError:
        return set(items)


class MapType(CollectionType):
    name = "map"
    option_id = 0x0021

    @property
    def key(self) -> CQLType:
        return self.subtypes[0]

    @property
    def value(self) -> CQLType:
        return self.subtypes[1]

    def _sorted_items(self, value) -> list[tuple]:
        if not isinstance(value, dict):
            raise MarshalError(f"Expected a dict for type {self.cql()}, got {type(value).__name__}")
        items = {}
        for k, v in value.items():
            if k is None or v is None:
                raise MarshalError("null is not supported inside collections")
            items[self.key.sort_key(k)] = (k, v)
        return [items[k] for k in sorted(items)]

    def serialize(self, value) -> bytes:
        parts: list[bytes | None] = []
        for k, v in self._sorted_items(value):
            parts.append(self.key.serialize(k))
            parts.append(self.value.serialize(v))
        raw = _pack_items(parts)
        return _INT32.pack(len(parts) // 2) + raw[4:]

    def deserialize(self, data: bytes):
        if not data:
            return None
        items = _unpack_items(data, 2)
        return {
            hashable(self.key.deserialize(items[i])): self.value.deserialize(items[i + 1])
            for i in range(0, len(items), 2)
        }

    def encode_key(self, value) -> bytes:
        encoded = []
        for k, v in self._sorted_items(value):
            encoded.append(self.key.encode_key(k))
            encoded.append(self.value.encode_key(v))
        return _key_sequence(encoded)

    def decode_key(self, buf, pos):
        out = {}
        while buf[pos] == 1:
            k, pos = self.key.decode_key(buf, pos + 1)
            v, pos = self.value.decode_key(buf, pos + 1)
            out[hashable(k)] = v
        return out, pos + 1


class TupleType(CQLType):
    name = "tuple"
    option_id = 0x0031

    def __init__(self, *subtypes: CQLType):
        self.subtypes = subtypes

    def cql(self) -> str:
        return f"frozen<tuple<{', '.join(t.cql() for t in self.subtypes)}>>"

    def serialize(self, value) -> bytes:
        if not isinstance(value, tuple | list):
            raise MarshalError(
                f"Expected a tuple for type {self.cql()}, got {type(value).__name__}"
            )
        if len(value) > len(self.subtypes):
            raise MarshalError(
                f"Tuple value has {len(value)} elements but type has {len(self.subtypes)}"
            )
        parts = []
        for sub, item in zip(self.subtypes, value, strict=False):
            if item is None:
                parts.append(_INT32.pack(-1))
            else:
                raw = sub.serialize(item)
                parts.append(_INT32.pack(len(raw)) + raw)
        return b"".join(parts)

    def deserialize(self, data: bytes):
        if not data:
            return None
        out = []
        pos = 0
        for index, sub in enumerate(self.subtypes):
            # A tuple may end early: the missing components are null.
            if pos >= len(data):
                out.append(None)
                continue
            if pos + 4 > len(data):
                raise MarshalError(f"Not enough bytes to read size of {index}th component")
            (size,) = _INT32.unpack_from(data, pos)
            pos += 4
            if size < 0:
                out.append(None)
                continue
            if pos + size > len(data):
                raise MarshalError(f"Not enough bytes to read {index}th component")
            out.append(sub.deserialize(data[pos : pos + size]))
            pos += size
        if pos != len(data):
            raise MarshalError(
                f"Expected {len(self.subtypes)} components for {self.cql()}, but got more"
            )
        return tuple(out)

    def encode_key(self, value) -> bytes:
        parts = []
        padded = list(value) + [None] * (len(self.subtypes) - len(value))
        for sub, item in zip(self.subtypes, padded, strict=True):
            parts.append(b"\x00" if item is None else b"\x01" + sub.encode_key(item))
        return b"".join(parts)

    def decode_key(self, buf, pos):
        out = []
        for sub in self.subtypes:
            if buf[pos] == 0:
                out.append(None)
                pos += 1
            else:
                item, pos = sub.decode_key(buf, pos + 1)
                out.append(item)
        return tuple(out), pos


# Names ---------------------------------------------------------------------

SIMPLE_TYPES: dict[str, CQLType] = {
    t.name: t
    for t in (
        AsciiType(),
        BigIntType(),
        BlobType(),
        BooleanType(),
        CounterType(),
        DecimalType(),
        DoubleType(),
        DurationType(),
        FloatType(),
        InetType(),
        IntType(),
        SmallIntType(),
        TextType(),
        TimestampType(),
        DateType(),
        TimeType(),
        TimeUUIDType(),
        TinyIntType(),
        UUIDType(),
        VarIntType(),
    )
}
SIMPLE_TYPES["varchar"] = SIMPLE_TYPES["text"]

TEXT = SIMPLE_TYPES["text"]
BIGINT = SIMPLE_TYPES["bigint"]
INT = SIMPLE_TYPES["int"]
BOOLEAN = SIMPLE_TYPES["boolean"]
UUID = SIMPLE_TYPES["uuid"]
TIMEUUID = SIMPLE_TYPES["timeuuid"]
TIMESTAMP = SIMPLE_TYPES["timestamp"]
BLOB = SIMPLE_TYPES["blob"]
INET = SIMPLE_TYPES["inet"]
DOUBLE = SIMPLE_TYPES["double"]

_TYPE_TOKEN_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|<|>|,)")


def parse_type(text: str) -> CQLType:
    """Return the CQLType for its CQL spelling, e.g. ``map<text, frozen<list<int>>>``."""
    tokens = [
        m.group(1).lower() if m.group(1)[0].isalpha() else m.group(1)
        for m in _TYPE_TOKEN_RE.finditer(text)
    ]
    if "".join(tokens) != re.sub(r"\s+", "", text).lower():
        raise InvalidRequest(f"Unknown type {text}")
    cql_type, rest = _parse_type_tokens(tokens, 0)
    if rest != len(tokens):
        raise InvalidRequest(f"Unknown type {text}")
    return cql_type


def _parse_type_tokens(tokens: list[str], pos: int) -> tuple[CQLType, int]:
    if pos >= len(tokens):
        raise InvalidRequest("Unexpected end of type")
    name = tokens[pos]
    pos += 1
    if name in SIMPLE_TYPES:
        return SIMPLE_TYPES[name], pos
    if name not in ("frozen", "list", "set", "map", "tuple"):
        raise InvalidRequest(f"Unknown type {name}")
    if pos >= len(tokens) or tokens[pos] != "<":
        raise InvalidRequest(f"Missing type arguments for {name}")
    args = []
    pos += 1
    while True:
        sub, pos = _parse_type_tokens(tokens, pos)
        args.append(sub)
        if pos < len(tokens) and tokens[pos] == ",":
            pos += 1
            continue
        if pos < len(tokens) and tokens[pos] == ">":
            pos += 1
            break
        raise InvalidRequest("Malformed type")
    return build_type(name, args), pos


def build_type(name: str, args: list[CQLType]) -> CQLType:
    """Return the parameterized type ``name<args>`` (frozen, list, set, map, tuple)."""
    if name == "frozen":
        if len(args) != 1:
            raise InvalidRequest("frozen<> takes one type")
        inner = args[0]
        if isinstance(inner, CollectionType):
            return inner.with_frozen(True)
        return inner
    if name in ("list", "set"):
        if len(args) != 1:
            raise InvalidRequest(f"{name} takes one type")
        return (ListType if name == "list" else SetType)(freeze(args[0]))
    if name == "map":
        if len(args) != 2:
            raise InvalidRequest("map takes two types")
        return MapType(freeze(args[0]), freeze(args[1]))
    if name == "tuple":
        return TupleType(
            *(a.with_frozen(True) if isinstance(a, CollectionType) else freeze(a) for a in args)
        )
    raise InvalidRequest(f"Unknown type {name}")


def freeze(cql_type: CQLType) -> CQLType:
    """Return an element type checked for use inside a collection or tuple."""
    if isinstance(cql_type, CollectionType) and not cql_type.frozen:
        raise InvalidRequest(
            f"Non-frozen collections are not allowed inside collections: {cql_type.cql()}"
        )
    if cql_type.is_counter:
        raise InvalidRequest("Counters are not allowed inside collections: counter")
    return cql_type
