"""Cells decoded by their shape: what the ordinary decoder gives, or nothing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.wide.storage import cellshapes
from stores.wide.storage.blockrows import LazyRow, live_in_block
from stores.wide.storage.cells import NO_DELETION, Cell, LivenessInfo
from stores.wide.storage.cellshapes import decode_plain_cells
from stores.wide.storage.codec import decode_live_cells, encode_row
from stores.wide.storage.mutation import RowUpdate

from .strategies import row_updates

column_sets = st.none() | st.frozensets(st.sampled_from(["a", "b", "col", "ü", "m", "s"]))


@pytest.fixture(autouse=True)
def no_shapes():
    """Start and end every test with no learnt shape (they are process-wide)."""
    forget()
    yield
    forget()


def forget() -> None:
    cellshapes._SHAPES.clear()
    cellshapes._SEEN.clear()


def learnt(buf: bytes, at: int, end: int) -> None:
    """Let the row's layout be learnt (a length is learnt on its second row)."""
    for _ in range(3):
        if decode_plain_cells(buf, at, end, None) is not None:
            return


def encoded(update: RowUpdate, junk: bytes = b"\x07\x00") -> tuple[bytes, int, int]:
    """Return ``update`` encoded between other bytes, its cells' position and its end."""
    out: list = []
    encode_row(update, out)
    row = b"".join(out)
    buf = junk + row + b"\xff\x00\x01"
    # Flags, clustering (u16 length), the 20-byte marker when there is one.
    at = len(junk) + 3 + len(update.clustering) + (20 if update.liveness else 0)
    return buf, at, len(junk) + len(row)


def plain(update: RowUpdate) -> bool:
    """Return True if every cell of ``update`` is live with no TTL, and it has no collection."""
    return not update.complex_cells and all(
        c.value is not None and not c.ttl and c.local_deletion_time == NO_DELETION
        for c in update.cells.values()
    )


@settings(max_examples=300)
@given(
    st.lists(row_updates(static=False), min_size=1, max_size=6), st.integers(0, 2**33), column_sets
)
def test_a_shape_decodes_what_the_ordinary_decoder_does_or_declines(updates, now, columns):
    forget()
    for _round in range(2):
        for update in updates:
            if update.deletion is not None or update.complex_deletions:
                continue  # not a row a LazyRow stands for
            buf, at, end = encoded(update)
            got = decode_plain_cells(buf, at, end, columns)
            if got is None and plain(update):
                # A layout is learnt when met again (and decoded the ordinary
                # way until then); a length first learnt from a row that was
                # not plain, or with all its layouts, stays ordinary.
                for _ in range(2):
                    got = got or decode_plain_cells(buf, at, end, columns)
                shapes = cellshapes._SHAPES[end - at]
                assert got is not None or not shapes or len(shapes) == 4
            if got is not None:
                assert plain(update)
                assert got == decode_live_cells(buf, at, now, columns)[0]


def test_rows_of_one_length_and_different_layouts_each_decode_as_they_are():
    # Same cells length: the names and values split the bytes differently.
    one = RowUpdate(b"k", LivenessInfo(1), cells={"ab": Cell(b"x", 5), "c": Cell(b"yy", 6)})
    two = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(b"xx", 5), "bc": Cell(b"y", 6)})
    three = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(b"xxx", 5), "b": Cell(b"y", 6)})
    rows = [encoded(u) for u in (one, two, three)]
    assert len({end - at for _buf, at, end in rows}) == 1
    for round_ in range(6):
        for (buf, at, end), update in zip(rows, (one, two, three), strict=True):
            got = decode_plain_cells(buf, at, end, None)
            # Layouts are learnt as they recur, decoded the ordinary way till then.
            assert got == update.cells or round_ < 4 and got is None
    assert len(cellshapes._SHAPES) == 1 and len(next(iter(cellshapes._SHAPES.values()))) == 3


def test_a_ttl_or_tombstone_cell_never_matches_a_plain_shape_of_its_length():
    live = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(b"x" * 17, 5)})
    # A TTL cell carries 12 more bytes (ttl and expiry): 12 fewer value bytes.
    ttl = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(b"x" * 5, 5, 60, 100)})
    # A tombstone has a deletion time and no value length or value.
    dead = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(None, 5, 0, 100)})
    lengths = {end - at for _b, at, end in map(encoded, (live, ttl))}
    assert len(lengths) == 1
    buf, at, end = encoded(live)
    learnt(buf, at, end)
    assert decode_plain_cells(buf, at, end, None) == live.cells
    for update in (ttl, dead):
        buf, at, end = encoded(update)
        assert decode_plain_cells(buf, at, end, None) is None
        assert decode_plain_cells(buf, at, end, None) is None


def test_columns_choose_the_cells_and_an_empty_row_has_none():
    update = RowUpdate(b"k", LivenessInfo(1), cells={"a": Cell(b"1", 5), "b": Cell(b"2", 5)})
    buf, at, end = encoded(update)
    learnt(buf, at, end)
    assert decode_plain_cells(buf, at, end, frozenset({"b"})) == {"b": Cell(b"2", 5)}
    assert decode_plain_cells(buf, at, end, frozenset()) == {}
    assert decode_plain_cells(buf, at, end, None) == update.cells
    empty = RowUpdate(b"k", LivenessInfo(1), cells={})
    buf, at, end = encoded(empty)
    learnt(buf, at, end)
    assert decode_plain_cells(buf, at, end, None) == {}
    # A complex column after the cells: not plain.
    complex_row = RowUpdate(
        b"k", LivenessInfo(1), cells={}, complex_cells={"m": {b"p": Cell(b"v", 5)}}
    )
    buf, at, end = encoded(complex_row)
    learnt(buf, at, end)
    assert decode_plain_cells(buf, at, end, None) is None


def test_a_length_met_once_is_not_learnt():
    for size in range(1, 50):
        update = RowUpdate(b"k", LivenessInfo(1), cells={"body": Cell(b"x" * size, 5)})
        assert decode_plain_cells(*encoded(update), None) is None
    assert cellshapes._SHAPES == {}
    update = RowUpdate(b"k", LivenessInfo(1), cells={"body": Cell(b"y" * 7, 6)})
    assert decode_plain_cells(*encoded(update), None) == update.cells  # its length's second row
    assert list(cellshapes._SHAPES) == [encoded(update)[2] - encoded(update)[1]]


def test_a_lazy_row_with_its_end_reads_like_one_without():
    update = RowUpdate(b"ck", LivenessInfo(3), cells={"a": Cell(b"1", 3), "b": Cell(b"22", 4)})
    out: list = []
    encode_row(update, out)
    buf = b"".join(out)
    learnt(buf, 3 + 2 + 20, len(buf))
    shaped = live_in_block(b"ck", buf, 0, 99, None, len(buf))
    ordinary = live_in_block(b"ck", buf, 0, 99, None)
    assert isinstance(shaped, LazyRow) and isinstance(ordinary, LazyRow)
    assert shaped.cells == ordinary.cells == update.cells
    assert shaped._buf is None  # decoded: the block is no longer held
    assert shaped.complex_cells == {} == ordinary.complex_cells
    assert shaped.liveness == LivenessInfo(3)
    assert shaped == ordinary
    shaped.complex_cells["m"] = [(b"p", Cell(b"v", 5))]  # a dict of its own, as before
    assert live_in_block(b"ck", buf, 0, 99, None, len(buf)).complex_cells == {}
