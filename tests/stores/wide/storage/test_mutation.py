"""Clustering bounds and slices select exactly what the API table says."""

from hypothesis import given
from hypothesis import strategies as st

from stores.wide.storage.mutation import (
    Bound,
    Slice,
    prefix_successor,
    range_may_intersect,
    slice_range,
)


def test_bound_table():
    p = b"\x01"
    assert Slice(Bound(p, True)).contains(b"\x01")
    assert Slice(Bound(p, True)).contains(b"\x01\x05")
    assert not Slice(Bound(p, True)).contains(b"\x00\xff")
    assert not Slice(Bound(p, False)).contains(b"\x01")
    assert not Slice(Bound(p, False)).contains(b"\x01\x05")
    assert Slice(Bound(p, False)).contains(b"\x02")
    assert Slice(None, Bound(p, True)).contains(b"\x01\x05")
    assert not Slice(None, Bound(p, True)).contains(b"\x02")
    assert not Slice(None, Bound(p, False)).contains(b"\x01")
    assert Slice(None, Bound(p, False)).contains(b"\x00\xff")


def test_prefix_successor():
    assert prefix_successor(b"\x01") == b"\x02"
    assert prefix_successor(b"\x01\xff") == b"\x02"
    assert prefix_successor(b"\xff\xff") is None
    assert prefix_successor(b"") is None


bounds = st.none() | st.builds(Bound, st.binary(max_size=3), st.booleans())


@given(bounds, bounds, st.binary(max_size=4))
def test_half_open_range_agrees_with_contains(start, end, key):
    sl = Slice(start, end)
    low, high = slice_range(sl)
    in_range = (low is None or key >= low) and (high is None or key < high)
    assert in_range == sl.contains(key)


@given(bounds, bounds, st.lists(st.binary(max_size=4), min_size=1, max_size=6))
def test_range_may_intersect_never_misses(start, end, keys):
    sl = Slice(start, end)
    low, high = min(keys), max(keys)
    if any(sl.contains(k) for k in keys):
        assert range_may_intersect(sl, low, high)
