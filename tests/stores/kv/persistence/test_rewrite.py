"""Online rewrite: the walk is the data set at its start while writes go on."""

import random
import threading

import pytest

from stores.kv.persistence import PersistenceConfig, open_persistence
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.rewrite import CHUNK_KEYS, CopyOnWriteWalk
from tests.stores.kv.persistence.dict_engine import DictEngine


def populated_engine(rng, keys=300):
    engine = DictEngine()
    for i in range(keys):
        db = rng.randrange(4)
        kind = rng.randrange(3)
        key = b"k%d" % rng.randrange(keys)
        if kind == 0:
            engine.execute(db, [b"SET", key, b"v%d" % i])
        elif kind == 1:
            engine.execute(db, [b"RPUSH", b"l" + key, b"a", b"b%d" % i])
        else:
            engine.execute(db, [b"HSET", b"h" + key, b"f", b"%d" % i])
    return engine


def random_write(engine, rng, step):
    db = rng.randrange(4)
    key = b"k%d" % rng.randrange(400)
    roll = rng.random()
    if roll < 0.35:
        engine.execute(db, [b"SET", key, b"new%d" % step])
    elif roll < 0.6:
        engine.execute(db, [b"DEL", key, b"l" + key, b"h" + key])
    elif roll < 0.8:
        engine.execute(db, [b"RPUSH", b"l" + key, b"n%d" % step])
    elif roll < 0.9:
        engine.execute(db, [b"HSET", b"h" + key, b"g", b"%d" % step])
    elif roll < 0.95:
        engine.execute(db, [b"FLUSHDB"])
    else:
        engine.execute(0, [b"SWAPDB", b"%d" % db, b"%d" % rng.randrange(4)])


class WalkHooks:
    """Only the copy-on-write hook, as a running rewrite installs it."""

    def __init__(self, walk):
        self.walk = walk
        self.rewriting = True

    def propagate(self, db, argv):
        pass

    def before_write(self, db, keys):
        self.walk.before_write(db, keys)

    def after_command(self):
        pass


def rebuild(emitted):
    fresh = DictEngine()
    for db, _, commands in emitted:
        for argv in commands:
            fresh.replay(db, argv)
    return fresh.contents()


@pytest.mark.parametrize("seed", range(25))
def test_walk_equals_the_data_set_at_its_start_despite_writes(seed):
    rng = random.Random(seed)
    engine = populated_engine(rng)
    expected = engine.contents()
    walk = CopyOnWriteWalk(engine, chunk_keys=rng.choice([1, 5, 40]))
    engine.persistence = WalkHooks(walk)
    emitted = []
    step = 0

    def emit(db, key, commands):
        nonlocal step
        emitted.append((db, key, commands))
        for _ in range(rng.randrange(4)):  # writes land between chunks
            step += 1
            random_write(engine, rng, step)

    walk.run(emit)
    keys = [(db, key) for db, key, _ in emitted]
    assert len(keys) == len(set(keys))
    assert rebuild(emitted) == expected


def test_rewrite_while_writes_continue_equals_the_live_data_set():
    rng = random.Random(99)
    fs = FaultInjectingFileSystem()
    engine = populated_engine(rng, keys=2000)
    config = PersistenceConfig(appendonly=True, appendfsync="no", save="", background_threads=False)
    p = open_persistence(engine, "/d", config, fs=fs)
    stop = threading.Event()

    def writer():
        step = 0
        while not stop.is_set() and step < 20000:
            step += 1
            random_write(engine, rng, step)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(3):
            before = p.aof_rewrites
            assert p.bgrewriteaof() == "Background append only file rewriting started"
            assert p.wait_for_jobs(60)
            assert p.aof_rewrites == before + 1
    finally:
        stop.set()
        thread.join()
    live = engine.contents()
    p.close()
    assert len(fs.listdir("/d/appendonlydir")) == 3  # manifest, one base, one incr
    again = DictEngine()
    p2 = open_persistence(again, "/d", config, fs=fs)
    assert again.contents() == live
    p2.close()


class CountingLock:
    """An RLock that records how many keys were dumped under each hold."""

    def __init__(self):
        self._lock = threading.RLock()
        self.depth = 0
        self.dumped = 0
        self.holds = []

    def acquire(self, blocking=True, timeout=-1):
        got = self._lock.acquire(blocking, timeout)
        if got:
            self.depth += 1
            if self.depth == 1:
                self.dumped = 0
        return got

    def release(self):
        self.depth -= 1
        if self.depth == 0:
            self.holds.append(self.dumped)
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()


def test_the_walk_takes_the_lock_for_one_small_chunk_at_a_time():
    engine = populated_engine(random.Random(5), keys=3000)
    lock = engine.lock = CountingLock()
    dump_key = engine.dump_key

    def counting_dump_key(db, key):
        lock.dumped += 1
        return dump_key(db, key)

    engine.dump_key = counting_dump_key
    walk = CopyOnWriteWalk(engine)
    emitted = []
    walk.run(lambda db, key, commands: emitted.append(key))
    assert len(emitted) == sum(len(d) for d in engine.databases)
    assert max(lock.holds) <= CHUNK_KEYS
    assert len(lock.holds) >= len(emitted) // CHUNK_KEYS
