"""Large deletes are freed in the background, in chunks."""

from collections import deque

from stores.kv.lazyfree import LazyFree, _drain
from stores.kv.types.zsets import ZSet


def test_drain_empties_every_kind_of_value():
    zset = ZSet.from_scores({b"m%d" % i: float(i) for i in range(3000)})
    values = [dict.fromkeys(range(5000)), deque(range(5000)), set(range(5000)), zset]
    for value in values:
        _drain(value)
    assert [len(v) for v in values] == [0, 0, 0, 0]
    assert len(zset.sl) == 0


def test_large_delete_and_flush_go_to_the_background(kv):
    kv.hset("big", mapping={f"f{i}": "v" for i in range(5000)})
    kv.rpush("small", "x")
    big = kv.engine.databases[0].data[b"big"]
    assert kv.delete("big", "small") == 2
    assert kv.engine.lazyfree.wait_idle()
    assert len(big) == 0
    assert kv.engine.lazyfree.freed == 1
    kv.mset({f"k{i}": "v" for i in range(3000)})
    kv.flushall()
    assert kv.engine.lazyfree.wait_idle()
    assert kv.dbsize() == 0


def test_close_finishes_the_queue():
    free = LazyFree()
    value = dict.fromkeys(range(10000))
    free.submit(value)
    free.close()
    assert len(value) == 0
    free.submit(dict.fromkeys(range(10)))
    assert free.pending == 0


def test_rename_of_a_large_value_keeps_it(kv):
    kv.rpush("big", *range(5000))
    kv.rename("big", "moved")
    assert kv.engine.lazyfree.wait_idle()
    assert kv.llen("moved") == 5000
