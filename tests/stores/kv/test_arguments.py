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
