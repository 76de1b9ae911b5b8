"""Reply values and Redis's double formatting."""

from stores.kv.replies import NULL_ARRAY, ErrorReply, format_double


def test_format_double_is_percent_17g():
    assert format_double(1.1) == b"1.1000000000000001"
    assert format_double(3.0) == b"3"
    assert format_double(1e20) == b"1e+20"
    assert format_double(float("inf")) == b"inf"
    assert format_double(float("-inf")) == b"-inf"


def test_markers():
    assert not NULL_ARRAY
    assert ErrorReply("ERR x") == ErrorReply("ERR x")
