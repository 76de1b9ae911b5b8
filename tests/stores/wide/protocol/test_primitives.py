import uuid

import pytest

from stores.wide.protocol.errors import ProtocolViolation
from stores.wide.protocol.primitives import UNSET, BodyReader, BodyWriter


def roundtrip(write, read, value):
    writer = BodyWriter()
    getattr(writer, write)(value)
    reader = BodyReader(writer.getvalue())
    result = getattr(reader, read)()
    assert reader.remaining == 0
    return result


@pytest.mark.parametrize(
    "kind, value",
    [
        ("int", -(2**31)),
        ("int", 2**31 - 1),
        ("long", -(2**63)),
        ("short", 65535),
        ("byte", 255),
        ("string", "héllo ☃"),
        ("long_string", "x" * 70000),
        ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
        ("string_list", ["a", "", "ü"]),
        ("bytes", b"\x00\x01"),
        ("bytes", None),
        ("value", None),
        ("value", UNSET),
        ("value", b""),
        ("short_bytes", b"\xff" * 300),
        ("consistency", 0x000A),
        ("string_map", {"CQL_VERSION": "3.0.0", "COMPRESSION": "lz4"}),
        ("string_multimap", {"COMPRESSION": [], "CQL_VERSION": ["3.4.7"]}),
        ("bytes_map", {"a": b"1", "b": None}),
    ],
)
def test_roundtrip(kind, value):
    assert roundtrip(f"write_{kind}", f"read_{kind}", value) == value


def test_inet_roundtrip_v4_and_v6():
    for address in ("127.0.0.1", "::1"):
        writer = BodyWriter().write_inet(address, 9043)
        assert BodyReader(writer.getvalue()).read_inet() == (address, 9043)


def test_exact_bytes_of_notations():
    writer = BodyWriter().write_string("ab").write_value(None).write_value(UNSET)
    assert writer.getvalue() == b"\x00\x02ab\xff\xff\xff\xff\xff\xff\xff\xfe"


@pytest.mark.parametrize(
    "raw, read",
    [
        (b"\x00", "read_int"),
        (b"\x00\x05abc", "read_string"),
        (b"\xff\xff\xff\xfd", "read_value"),
        (b"\xff\xff\xff\xff", "read_long_string"),
        (b"\x00\x00\x00\x09abc", "read_bytes"),
        (b"\x05abcde\x00\x00\x00\x01", "read_inet"),
        (b"\x00\x02\xff\xfe", "read_string"),
        (b"\x00\x03\x00\x01a", "read_string_list"),
        (b"\x00\x01\x00", "read_string_map"),
    ],
)
def test_malformed_notations_raise_protocol_violation(raw, read):
    with pytest.raises(ProtocolViolation) as info:
        getattr(BodyReader(raw), read)()
    assert not info.value.fatal


def test_string_longer_than_a_short_is_refused_on_write():
    with pytest.raises(ValueError):
        BodyWriter().write_string("x" * 70000)
