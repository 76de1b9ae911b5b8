"""Memtable ordering, slicing and reads while writers keep writing."""

import threading

from stores.wide.storage.cells import Cell, DeletionTime
from stores.wide.storage.memtable import Memtable
from stores.wide.storage.mutation import Bound, Mutation, RowUpdate, Slice
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
    assert partition.rows[b"c"].cells["v"].value == b"new"
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
