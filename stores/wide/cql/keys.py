"""Partition-key and clustering-key bytes, as the storage contract defines them.

A partition key is the bytes Cassandra hashes: one column serialized as the
native protocol does, or for a composite key each component as a 2-byte
length, the bytes and one ``0x00``. A clustering key concatenates each
column's order-preserving, prefix-free key encoding (``CQLType.encode_key``),
inverted byte by byte for DESC columns, so plain byte comparison is the
table's clustering order and a prefix's encoding is a byte prefix of every
full key's. This module never touches storage.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.types import BigIntType, CQLType, IntType, SmallIntType, TinyIntType

_INVERT = bytes(255 - i for i in range(256))
_LENGTH = struct.Struct(">H")
# Fixed-size integer types: their key is the value's big-endian two's
# complement with the sign bit flipped (every bit flipped again if DESC).
FIXED_INT_TYPES = (TinyIntType, SmallIntType, IntType, BigIntType)
_STRUCT_CODES = {1: "b", 2: "h", 4: "i", 8: "q"}
# Masks for pages of up to this many keys are kept (fixed_int_keys).
_CACHED_MASKS = 256
_MASKS: dict[tuple[int, bool, int], int] = {}


def invert(data: bytes) -> bytes:
    """Return the bytes with every bit flipped (DESC order)."""
    return data.translate(_INVERT)


def encode_partition_key(types: Sequence[CQLType], values: Sequence) -> bytes:
    """Return the partition-key bytes for one value per partition-key column."""
    if len(types) == 1:
        key = types[0].serialize(values[0])
        if not key:
            raise InvalidRequest("Key may not be empty")
        return key
    parts = []
    for cql_type, value in zip(types, values, strict=True):
        raw = cql_type.serialize(value)
        if len(raw) > 0xFFFF:
            raise InvalidRequest(f"Key length of {len(raw)} is longer than maximum of {0xFFFF}")
        parts.append(_LENGTH.pack(len(raw)) + raw + b"\x00")
    return b"".join(parts)


def decode_partition_key(types: Sequence[CQLType], data: bytes) -> tuple:
    """Return the partition-key column values encoded in ``data``."""
    if len(types) == 1:
        return (types[0].deserialize(data),)
    out = []
    pos = 0
    for cql_type in types:
        (size,) = _LENGTH.unpack_from(data, pos)
        out.append(cql_type.deserialize(data[pos + 2 : pos + 2 + size]))
        pos += size + 3
    return tuple(out)


def split_partition_key(count: int, data: bytes) -> list[bytes]:
    """Return the serialized component bytes of a partition key of ``count`` columns."""
    if count == 1:
        return [data]
    parts = []
    pos = 0
    for _ in range(count):
        (size,) = _LENGTH.unpack_from(data, pos)
        parts.append(data[pos + 2 : pos + 2 + size])
        pos += size + 3
    return parts


def encode_clustering(
    types: Sequence[CQLType], descending: Sequence[bool], values: Sequence
) -> bytes:
    """Return the clustering-key bytes of a (possibly partial) clustering prefix."""
    parts = []
    for cql_type, desc, value in zip(types, descending, values, strict=False):
        raw = cql_type.encode_key(value)
        parts.append(raw.translate(_INVERT) if desc else raw)
    return b"".join(parts)


def decode_clustering(types: Sequence[CQLType], descending: Sequence[bool], data: bytes) -> tuple:
    """Return the clustering values encoded in ``data`` (a full or partial key)."""
    out = []
    pos = 0
    for cql_type, desc in zip(types, descending, strict=True):
        if pos >= len(data):
            break
        if desc:
            tail = data[pos:].translate(_INVERT)
            value, used = cql_type.decode_key(tail, 0)
            pos += used
        else:
            value, pos = cql_type.decode_key(data, pos)
        out.append(value)
    return tuple(out)


def fixed_int_keys(keys: list[bytes], size: int, descending: bool) -> bytes | None:
    """Return the values of many one-column fixed-size integer keys, back to back.

    Each value is its type's native-protocol bytes (big-endian two's
    complement, ``size`` bytes). The keys joined are one big integer, so
    undoing the sign flip (and the DESC inversion) of every key is one XOR
    with a repeated mask. None when a key is not exactly ``size`` bytes:
    decode those one by one.
    """
    n = len(keys)
    joined = b"".join(keys)
    if len(joined) != n * size or (n and max(map(len, keys)) != size):
        return None
    key = (size, descending, n)
    mask = _MASKS.get(key)
    if mask is None:
        bits = 8 * size
        element = (1 << (bits - 1)) ^ ((1 << bits) - 1 if descending else 0)
        mask = int.from_bytes(element.to_bytes(size, "big") * n, "big")
        if n <= _CACHED_MASKS:
            _MASKS[key] = mask
    return (int.from_bytes(joined, "big") ^ mask).to_bytes(n * size, "big")


def clustering_columns(
    types: Sequence[CQLType], descending: Sequence[bool], decode: Callable[[bytes], tuple]
) -> Callable[[list[bytes]], list[list]]:
    """Return a function giving, per clustering column, the values of many keys.

    Column-major ``decode``: for keys ``k1..kn`` one list per clustering
    column with that column's value in each key (None where a key is
    shorter). A lone fixed-size integer column decodes every key at once
    (``fixed_int_keys``, then one struct unpack).
    """
    width = len(types)

    def general(keys: list[bytes]) -> list[list]:
        decoded = [decode(k) for k in keys]
        return [[d[i] if i < len(d) else None for d in decoded] for i in range(width)]

    if width != 1 or type(types[0]) not in FIXED_INT_TYPES:
        return general
    size = types[0].size
    desc = bool(descending[0])
    code = _STRUCT_CODES[size]
    unpack = struct.unpack

    def fixed(keys: list[bytes]) -> list[list]:
        data = fixed_int_keys(keys, size, desc)
        if data is None:
            return general(keys)
        return [list(unpack(f">{len(keys)}{code}", data))]

    return fixed
