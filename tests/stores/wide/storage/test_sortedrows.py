"""SortedRows behaves like a sorted dict, however its keys arrive and reads interleave."""

from hypothesis import given
from hypothesis import strategies as st

from stores.wide.storage.sortedrows import SortedRows

keys = st.lists(st.binary(max_size=3), max_size=60)


@given(
    keys, st.binary(max_size=3), st.binary(max_size=3), st.booleans(), st.booleans(), st.booleans()
)
def test_irange_matches_a_sorted_list(inserted, low, high, low_inc, high_inc, reverse):
    rows = SortedRows()
    for k in inserted:
        rows[k] = k + b"!"
    expected = sorted(set(inserted))
    assert list(rows.keys()) == expected
    assert list(rows.values()) == [k + b"!" for k in expected]
    chosen = [
        k
        for k in expected
        if (k > low or (low_inc and k == low)) and (k < high or (high_inc and k == high))
    ]
    if reverse:
        chosen.reverse()
    assert list(rows.irange(low, high, (low_inc, high_inc), reverse)) == chosen


def test_descending_inserts_keep_order_and_open_ranges():
    rows = SortedRows()
    for i in range(10000, 0, -1):
        rows[i] = i
    assert len(rows) == 10000 and 5 in rows and rows[5] == 5 and rows.get(0) is None
    assert list(rows.irange(9998, None)) == [9998, 9999, 10000]
    assert list(rows.irange(None, 3, (True, False), reverse=True)) == [2, 1]
    assert list(rows.items())[:2] == [(1, 1), (2, 2)]


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 50)), max_size=80))
def test_reads_between_writes_see_every_key_in_order(operations):
    rows = SortedRows()
    model = set()
    for is_read, key in operations:
        if is_read:
            assert list(rows.irange(key, None)) == sorted(k for k in model if k >= key)
            assert list(rows.keys()) == sorted(model)
        else:
            rows[key] = -key
            model.add(key)
    assert list(rows.items()) == [(k, -k) for k in sorted(model)]
    assert rows.mapping() == {k: -k for k in model}
