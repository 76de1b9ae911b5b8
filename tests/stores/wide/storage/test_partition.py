"""Rows merge version by version; memtable partitions track their timestamps."""

from stores.wide.storage.cells import Cell, DeletionTime, LivenessInfo
from stores.wide.storage.partition import RowData, merge_rows, row_footprint


def test_merge_rows_reconciles_every_part_and_copies():
    left = RowData(
        b"c",
        LivenessInfo(1),
        DeletionTime(0, 0),
        {"a": Cell(b"1", 1)},
        {},
        {"m": {b"x": Cell(b"1", 1)}},
    )
    right = RowData(
        b"c",
        LivenessInfo(2),
        None,
        {"a": Cell(b"2", 2), "b": Cell(None, 2, 0, 9)},
        {"m": DeletionTime(1, 5)},
        {"m": {b"y": Cell(b"2", 2)}},
    )
    merged = merge_rows(left, right)
    assert merged.liveness == LivenessInfo(2)
    assert merged.deletion == DeletionTime(0, 0)
    assert merged.cells == {"a": Cell(b"2", 2), "b": Cell(None, 2, 0, 9)}
    assert merged.complex_deletions == {"m": DeletionTime(1, 5)}
    assert merged.complex_cells == {"m": {b"x": Cell(b"1", 1), b"y": Cell(b"2", 2)}}
    assert left.cells == {"a": Cell(b"1", 1)}  # inputs untouched: readers may hold them


def test_row_footprint():
    size, low, high = row_footprint(RowData(b"c", LivenessInfo(4), None, {"a": Cell(b"xyz", 2)}))
    assert size > 3 and (low, high) == (2, 4)
