"""Native-protocol bytes of stored values, without building Python values.

A regular cell stores its value in the native protocol's own serialization,
so a result can usually send the stored bytes as they are. Owns the rule for
when that is exactly what decoding and re-serializing would give, per CQL
type; for everything else it decodes and re-serializes. Never reads storage
and never builds protocol messages.
"""

from __future__ import annotations

from collections.abc import Callable

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
