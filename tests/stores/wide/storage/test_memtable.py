"""Memtable ordering, slicing and reads while writers keep writing."""

import threading

from stores.wide.storage.cells import Cell, DeletionTime, LivenessInfo
from stores.wide.storage.codec import encode_mutation, encode_mutation_rows
from stores.wide.storage.memtable import Memtable, stored_rows
from stores.wide.storage.mutation import STATIC, Bound, Mutation, RangeTombstone, RowUpdate, Slice
from stores.wide.storage.token import token


def write(memtable, key, clustering, value=b"v", ts=1):
    mutation = Mutation("ks", "t", key, rows=[RowUpdate(clustering, cells={"v": Cell(value, ts)})])
    return memtable.apply(mutation, token(key))


def test_partitions_sorted_by_token_then_key():
    memtable = Memtable()
    keys = [b"k%d" % i for i in range(50)]
    for key in keys:
        write(memtable, key, b"c")
    assert list(memtable.iter_keys(None, True, None, True)) == sorted((token(k), k) for k in keys)
    assert memtable.size > 0 and memtable.operations == 50


def test_rows_sorted_and_sliced_both_ways():
    memtable = Memtable()
    for i in range(200):
        write(memtable, b"p", b"%03d" % i)
    t = token(b"p")
    sl = [Slice(Bound(b"010", True), Bound(b"150", False))]
    forward = [r.clustering for r in memtable.view(t, b"p", sl, False).rows]
    assert forward == [b"%03d" % i for i in range(10, 150)]
    backward = [r.clustering for r in memtable.view(t, b"p", sl, True).rows]
    assert backward == forward[::-1]
    two = [Slice(None, Bound(b"002", True)), Slice(Bound(b"198", False))]
    assert [r.clustering for r in memtable.view(t, b"p", two, False).rows] == [
        b"000",
        b"001",
        b"002",
        b"199",
    ]


def test_versions_merge_in_place_of_the_old_row():
    memtable = Memtable()
    write(memtable, b"p", b"c", b"old", 1)
    write(memtable, b"p", b"c", b"new", 2)
    write(memtable, b"p", b"c", b"older", 0)
    partition = memtable.get(token(b"p"), b"p")
    (row,) = stored_rows(partition)
    assert row.cells["v"].value == b"new"
    memtable.apply(Mutation("ks", "t", b"p", partition_deletion=DeletionTime(5, 0)), token(b"p"))
    assert partition.deletion == DeletionTime(5, 0)
    assert partition.min_timestamp == 0 and partition.max_timestamp == 5


def test_reading_while_writers_insert_sees_a_consistent_sorted_stream():
    memtable = Memtable()
    for i in range(0, 4000, 2):
        write(memtable, b"p", b"%05d" % i)
    stop = threading.Event()

    def writer():
        i = 1
        while not stop.is_set() and i < 4000:
            with memtable.lock:
                write(memtable, b"p", b"%05d" % i)
            i += 2

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(5):
            keys = [r.clustering for r in memtable.view(token(b"p"), b"p", [Slice()], False).rows]
            assert keys == sorted(set(keys))
            assert {b"%05d" % i for i in range(0, 4000, 2)} <= set(keys)
    finally:
        stop.set()
        thread.join()


def test_apply_tracks_timestamps_and_replaces_rows():
    memtable = Memtable()
    t = token(b"k")
    update = RowUpdate(b"c", cells={"a": Cell(b"v", 5)})
    memtable.apply(Mutation("ks", "t", b"k", rows=[update]), t)
    partition = memtable.get(t, b"k")
    (first,) = stored_rows(partition)
    memtable.apply(
        Mutation(
            "ks",
            "t",
            b"k",
            partition_deletion=DeletionTime(3, 0),
            range_tombstones=[RangeTombstone(None, None, DeletionTime(9, 0))],
            rows=[
                RowUpdate(b"c", cells={"a": Cell(b"w", 6)}),
                RowUpdate(STATIC, cells={"s": Cell(b"s", 1)}),
            ],
        ),
        t,
    )
    (second,) = stored_rows(partition)
    assert first.cells["a"].value == b"v"  # a reader holding the old row sees it unchanged
    assert second.cells["a"].value == b"w"
    assert partition.static.cells["s"].value == b"s"
    assert (partition.min_timestamp, partition.max_timestamp) == (1, 9)
    assert (memtable.min_timestamp, memtable.max_timestamp) == (1, 9)


def test_rows_are_kept_as_the_encoded_bytes_the_commit_log_writes():
    memtable = Memtable()
    t = token(b"k")
    mutation = Mutation(
        "ks",
        "t",
        b"k",
        rows=[RowUpdate(b"c", LivenessInfo(4, 60, 100), cells={"a": Cell(b"v", 5)})],
    )
    encoded, rows = encode_mutation_rows(b"\x00" * 16, mutation)
    assert encoded == encode_mutation(b"\x00" * 16, mutation)
    memtable.apply(mutation, t, rows)
    partition = memtable.get(t, b"k")
    assert partition.rows[b"c"] is rows[0][0]
    (row,) = stored_rows(partition)
    assert row.liveness == LivenessInfo(4, 60, 100) and row.cells == {"a": Cell(b"v", 5)}
    assert (partition.min_timestamp, partition.max_timestamp) == (4, 5)
