"""Native-protocol bytes of stored values, without building Python values.

A regular cell stores its value in the native protocol's own serialization,
so a result can usually send the stored bytes as they are. Owns the rule for
when that is exactly what decoding and re-serializing would give, per CQL
type; for everything else it decodes and re-serializes. The ``*_cells``
variants give each value in the native protocol's [value] notation (a 4-byte
length, -1 for null, then the bytes), so a page of rows becomes its wire form
with one join. Never reads storage and never builds protocol messages.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from stores.wide.cql.keys import fixed_int_keys
from stores.wide.cql.types import (
    AsciiType,
    BigIntType,
    BlobType,
    CQLType,
    IntType,
    SmallIntType,
    TextType,
    TinyIntType,
)

_FIXED_INTS = (TinyIntType, SmallIntType, IntType, BigIntType)
_LENGTH = struct.Struct(">i")
NULL_CELL = _LENGTH.pack(-1)


def as_cell(value: bytes | None) -> bytes:
    """Return a value's [value] notation: its 4-byte length then its bytes (-1 for None)."""
    return NULL_CELL if value is None else _LENGTH.pack(len(value)) + value


def wire_value(cql_type: CQLType) -> Callable[[bytes], bytes | None]:
    """Return a function giving the wire bytes (None = null) of a stored value.

    Its result always equals ``serialize(deserialize(data))`` (None when that
    decodes to None), and it raises what ``deserialize`` raises.
    """
    serialize = cql_type.serialize
    deserialize = cql_type.deserialize

    def reencode(data: bytes) -> bytes | None:
        value = deserialize(data)
        return None if value is None else serialize(value)

    kind = type(cql_type)
    if kind is BlobType:
        return bytes
    if kind in _FIXED_INTS:
        size = cql_type.size

        def fixed(data: bytes) -> bytes | None:
            # An int's bytes are its two's complement, whatever the value.
            return data if len(data) == size else reencode(data)

        return fixed
    if kind is TextType or kind is AsciiType:
        encoding = "utf-8" if kind is TextType else "ascii"

        def text(data: bytes) -> bytes | None:
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return reencode(data)  # raises the type's own error
            return data

        return text
    return reencode


def wire_clustering(
    types: list[CQLType], descending: list[bool], decode: Callable[[bytes], tuple]
) -> Callable[[bytes], tuple]:
    """Return a function giving the wire bytes of each value in a stored clustering key.

    ``decode`` turns the key into its values (the SELECT's decoder); the
    result always equals serializing each decoded value (None stays None).
    A lone fixed-size integer column is converted without decoding: its key
    is the value's bytes with the sign bit flipped (all bits too if DESC).
    """
    serializers = [t.serialize for t in types]

    def general(data: bytes) -> tuple:
        return tuple(
            None if v is None else s(v) for v, s in zip(decode(data), serializers, strict=False)
        )

    if len(types) != 1 or type(types[0]) not in _FIXED_INTS:
        return general
    size = types[0].size
    flip = bytes(255 - i for i in range(256)) if descending[0] else None
    sign = bytes(i ^ 0x80 for i in range(256))

    def fixed(data: bytes) -> tuple:
        if len(data) != size:
            return general(data)
        if flip is not None:
            data = data.translate(flip)
        return (data[:1].translate(sign) + data[1:],)

    return fixed


def wire_cell(cql_type: CQLType) -> Callable[[bytes], bytes]:
    """Return a function giving ``as_cell(wire_value(cql_type)(data))``, faster."""
    wire = wire_value(cql_type)
    pack = _LENGTH.pack
    kind = type(cql_type)
    if kind in _FIXED_INTS:
        size = cql_type.size
        prefix = pack(size)

        def fixed(data: bytes) -> bytes:
            return prefix + data if len(data) == size else as_cell(wire(data))

        return fixed
    if kind is BlobType:
        return lambda data: pack(len(data)) + data

    def general(data: bytes) -> bytes:
        return as_cell(wire(data))

    return general


def fixed_cell_prefix(cql_type: CQLType) -> tuple[int, bytes] | None:
    """Return (size, [value] length prefix) of a fixed-size integer type, else None.

    A stored value of exactly that size is its own wire form: ``prefix +
    data`` is ``wire_cell(cql_type)(data)``, with no call per value.
    """
    if type(cql_type) not in _FIXED_INTS:
        return None
    return cql_type.size, _LENGTH.pack(cql_type.size)


def wire_clustering_cells(
    types: list[CQLType], descending: list[bool], decode: Callable[[bytes], tuple]
) -> Callable[[bytes], tuple]:
    """Return a function giving ``wire_clustering``'s values, each as a [value] cell."""
    values = wire_clustering(types, descending, decode)

    def general(data: bytes) -> tuple:
        return tuple(as_cell(v) for v in values(data))

    if len(types) != 1 or type(types[0]) not in _FIXED_INTS:
        return general
    size = types[0].size
    prefix = _LENGTH.pack(size)
    # The first byte has its sign bit flipped back (after the DESC flip of
    # every bit); the rest only the DESC flip.
    flip = bytes(255 - i for i in range(256)) if descending[0] else None
    first = bytes((255 - i if flip else i) ^ 0x80 for i in range(256))

    def fixed(data: bytes) -> tuple:
        if len(data) != size:
            return general(data)
        rest = data[1:]
        if flip is not None:
            rest = rest.translate(flip)
        return (prefix + data[:1].translate(first) + rest,)

    return fixed


def wire_clustering_columns(
    types: list[CQLType], descending: list[bool], decode: Callable[[bytes], tuple]
) -> Callable[[list[bytes]], list[list[bytes]]]:
    """Return a function giving, per clustering column, the [value] cells of many keys.

    Column-major ``wire_clustering_cells``: for keys ``k1..kn`` it returns one
    list per clustering column holding that column's cell of each key (a
    key shorter than the table's clustering gives null cells). A lone
    fixed-size integer column converts every key at once
    (``keys.fixed_int_keys``: one XOR over the keys joined).
    """
    per_key = wire_clustering_cells(types, descending, decode)
    width = len(types)

    def general(keys: list[bytes]) -> list[list[bytes]]:
        cells = [per_key(k) for k in keys]
        return [[c[i] if i < len(c) else NULL_CELL for c in cells] for i in range(width)]

    if width != 1 or type(types[0]) not in _FIXED_INTS:
        return general
    size = types[0].size
    prefix = _LENGTH.pack(size)
    desc = bool(descending[0])

    def fixed(keys: list[bytes]) -> list[list[bytes]]:
        data = fixed_int_keys(keys, size, desc)
        if data is None:
            return general(keys)
        return [[prefix + data[i : i + size] for i in range(0, len(data), size)]]

    return fixed


def fixed_int_key_flip(cql_type: CQLType, descending: bool) -> bytes | None:
    """Return the bytes to XOR with a stored one-column fixed-size integer key, else None.

    A lone fixed-size integer clustering column is stored as its value with
    the sign bit flipped (and every bit inverted when descending: the
    order-preserving key of ``keys``); XOR with these bytes gives the
    value's native-protocol bytes back.
    """
    if type(cql_type) not in _FIXED_INTS:
        return None
    size = cql_type.size
    bits = 8 * size
    element = (1 << (bits - 1)) ^ ((1 << bits) - 1 if descending else 0)
    return element.to_bytes(size, "big")
