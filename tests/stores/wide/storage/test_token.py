"""Tokens must match what Cassandra's Murmur3Partitioner computes."""

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stores.wide.storage.token import MAX_TOKEN, MIN_TOKEN, cassandra_murmur3_h1, token

# Key bytes and the tokens Cassandra computes for them (the same vectors are
# used by the DataStax drivers' token tests; several have tail bytes >= 0x80,
# which exercise Cassandra's sign-extension quirk).
CASSANDRA_TOKENS = [
    (b"123", -7468325962851647638),
    (b"\x00\xff\x10\xfa\x99" * 10, 5837342703291459765),
    (b"\xfe" * 8, -8927430733708461935),
    (b"\x10" * 8, 1446172840243228796),
    (b"9223372036854775807", 7162290910810015547),
    (bytes(range(1, 17)), -5563837382979743776),
    (bytes(range(2, 18)), -1513403162740402161),
    (bytes(16), 5457549051747178710),
    (b"\xff" * 16, -2824192546314762522),
    (b"\xfe" * 16, -833317529301936754),
    (b"\x00\x01\x02\x03" + b"\xff" * 12, 6463632673159404390),
    (b"\xfe" * 17, -1672437813826982685),
    (b"\xfe" * 4, 4566408979886474012),
    (b"\x00\x00\x00\x00", -3485513579396041028),
    (b"\x00\x01\x7f\x7f", 6573459401642635627),
    (b"\x00\xff\xff\xff", 123573637386978882),
    (b"\xff\x01\x02\x03", -2839127690952877842),
    (b"\xe2\xe7", -8582699461035929883),
    (b"\xe2\xe7\xe2\xe7\xe2\xe7\x01", 2222373981930033306),
    # CQL int 1 (4-byte big-endian), the token `SELECT token(k)` shows for k = 1.
    (b"\x00\x00\x00\x01", -4069959284402364209),
]


@pytest.mark.parametrize(("key", "expected"), CASSANDRA_TOKENS)
def test_token_matches_cassandra(key, expected):
    assert token(key) == expected


def test_composite_key_is_hashed_as_given():
    # The CQL layer builds composite keys (len, bytes, 0x00 per component); the
    # token is of those bytes, e.g. ('hello', 1).
    composite = b"\x00\x05hello\x00\x00\x04\x00\x00\x00\x01\x00"
    assert token(composite) == mmh3.hash64(composite, 0, True, True)[0]


def test_empty_key_gets_the_minimum_token():
    assert token(b"") == MIN_TOKEN


@given(st.binary(max_size=70))
def test_pure_python_path_agrees_with_mmh3_when_tail_is_ascii(key):
    tail = key[len(key) & ~15 :]
    expected_unsigned = cassandra_murmur3_h1(key)
    expected = expected_unsigned - (1 << 64) if expected_unsigned >= 1 << 63 else expected_unsigned
    if all(b < 0x80 for b in tail):
        assert mmh3.hash64(key, 0, True, True)[0] == expected
    if key:
        result = token(key)
        assert MIN_TOKEN < result <= MAX_TOKEN
        assert result == (MAX_TOKEN if expected == MIN_TOKEN else expected)
