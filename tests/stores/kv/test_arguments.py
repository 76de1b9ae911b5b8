"""Argument parsing with Redis's strictness."""

import pytest

from stores.kv.arguments import normalize_range, parse_float, parse_int, parse_timeout
from stores.kv.errors import CommandError


@pytest.mark.parametrize("raw", [b"0", b"-1", b"9223372036854775807", b"-9223372036854775808"])
def test_parse_int_accepts_canonical(raw):
    assert parse_int(raw) == int(raw)


@pytest.mark.parametrize(
    "raw", [b"", b"+1", b"01", b" 1", b"1 ", b"1_0", b"9223372036854775808", b"1.0", b"-0"]
)
def test_parse_int_rejects(raw):
    with pytest.raises(CommandError, match="not an integer"):
        parse_int(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (b"1.5", 1.5),
        (b"-inf", float("-inf")),
        (b"+inf", float("inf")),
        (b"1e3", 1000.0),
        (b"3", 3.0),
    ],
)
def test_parse_float_accepts(raw, value):
    assert parse_float(raw) == value


@pytest.mark.parametrize("raw", [b"nan", b" 1", b"1 ", b"1_0", b"x", b""])
def test_parse_float_rejects(raw):
    with pytest.raises(CommandError):
        parse_float(raw)


def test_parse_timeout():
    assert parse_timeout(b"0.5") == 0.5
    with pytest.raises(CommandError, match="negative"):
        parse_timeout(b"-1")
    with pytest.raises(CommandError, match="not a float"):
        parse_timeout(b"inf")


def test_normalize_range():
    assert normalize_range(0, -1, 5) == (0, 4)
    assert normalize_range(-100, 100, 5) == (0, 4)
    assert normalize_range(3, 1, 5) is None
    assert normalize_range(5, 10, 5) is None
    assert normalize_range(0, -1, 0) is None


def test_int_or_none_fast_path_keeps_redis_strictness():
    from stores.kv.arguments import int_or_none

    assert int_or_none(b"123456789012345678") == 123456789012345678
    assert int_or_none(b"9223372036854775807") == (1 << 63) - 1
    assert int_or_none(b"9223372036854775808") is None
    for raw in (b"0123", b"+5", b" 5", b"5 ", b"1_000", b"", b"-0", b"00"):
        assert int_or_none(raw) is None, raw
    assert int_or_none(b"0") == 0


def test_parse_float_small_integers_are_doubles():
    from stores.kv.arguments import parse_float

    assert parse_float(b"1") == 1.0 and type(parse_float(b"1")) is float
    assert parse_float(b"-7") == -7.0 and type(parse_float(b"10000")) is float
    assert parse_float(b"1.5") == 1.5
