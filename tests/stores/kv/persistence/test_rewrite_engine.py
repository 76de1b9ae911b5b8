"""The copy-on-write walk against the real engine: every write command keeps
the walk equal to the data set at its start (checks the engine's
before_write calls as much as the walk)."""

import random

import pytest

from stores.kv.config import Config
from stores.kv.engine import Engine
from stores.kv.persistence.rewrite import CopyOnWriteWalk

NOW_MS = 1_800_000_000_000
KEYS = [b"s1", b"s2", b"h1", b"l1", b"l2", b"set1", b"set2", b"z1", b"z2", b"n", b"x", b"y"]


class WalkOnly:
    """The hook object during a rewrite, minus the files."""

    enabled = True

    def __init__(self, walk):
        self.walk = walk
        self.rewriting = True

    def propagate(self, db, argv):
        pass

    def before_write(self, db, keys):
        self.walk.before_write(db, keys)

    def after_command(self):
        pass


def new_engine():
    return Engine(Config(databases=4), clock=lambda: NOW_MS, background=False)


def populate(session, rng):
    for db in range(4):
        session.execute([b"SELECT", b"%d" % db])
        session.execute([b"MSET", b"s1", b"a", b"s2", b"12", b"n", b"5"])
        session.execute([b"HSET", b"h1", b"f", b"1", b"g", b"2"])
        session.execute([b"RPUSH", b"l1", b"a", b"b", b"c"])
        session.execute([b"RPUSH", b"l2", b"x"])
        session.execute([b"SADD", b"set1", b"a", b"b", b"c"])
        session.execute([b"SADD", b"set2", b"b", b"d"])
        session.execute([b"ZADD", b"z1", b"1", b"a", b"2", b"b"])
        session.execute([b"ZADD", b"z2", b"3", b"b", b"4", b"c"])
        for key in rng.sample(KEYS, 3):
            session.execute([b"PEXPIREAT", key, b"%d" % (NOW_MS + 10**7)])


def random_command(rng):
    k = lambda: rng.choice(KEYS)  # noqa: E731
    v = b"%d" % rng.randrange(100)
    choices = [
        [b"SET", k(), v],
        [b"DEL", k(), k()],
        [b"UNLINK", k()],
        [b"RENAME", k(), k()],
        [b"RENAMENX", k(), k()],
        [b"COPY", k(), k(), b"REPLACE"],
        [b"COPY", k(), k(), b"DB", b"%d" % rng.randrange(4), b"REPLACE"],
        [b"SWAPDB", b"%d" % rng.randrange(4), b"%d" % rng.randrange(4)],
        [b"FLUSHDB"],
        [b"APPEND", k(), v],
        [b"SETRANGE", k(), b"1", v],
        [b"INCR", k()],
        [b"GETDEL", k()],
        [b"MSETNX", k(), v, k(), v],
        [b"HSET", k(), b"f", v],
        [b"HINCRBYFLOAT", k(), b"g", b"1.5"],
        [b"HDEL", k(), b"f"],
        [b"LPUSH", k(), v],
        [b"LPOP", k()],
        [b"LMOVE", k(), k(), b"LEFT", b"RIGHT"],
        [b"RPOPLPUSH", k(), k()],
        [b"LTRIM", k(), b"1", b"-1"],
        [b"SADD", k(), v],
        [b"SPOP", k()],
        [b"SMOVE", k(), k(), b"b"],
        [b"SINTERSTORE", k(), k(), k()],
        [b"SUNIONSTORE", k(), k(), k()],
        [b"ZADD", k(), v, v],
        [b"ZINCRBY", k(), b"2", b"a"],
        [b"ZPOPMIN", k()],
        [b"ZUNIONSTORE", k(), b"2", k(), k()],
        [b"ZRANGESTORE", k(), k(), b"0", b"-1"],
        [b"EXPIRE", k(), b"100000"],
        [b"PERSIST", k()],
        [b"GETEX", k(), b"PX", b"5000000"],
        [b"SET", k(), v, b"KEEPTTL"],
    ]
    if rng.random() < 0.02:
        return [b"FLUSHALL"]
    return rng.choice(choices)


def dataset(engine):
    out = {}
    for db, keyspace in enumerate(engine.databases):
        for key in keyspace.keys():
            commands = engine.dump_key(db, key)
            members = frozenset(m for argv in commands if argv[0] == b"SADD" for m in argv[2:])
            out[(db, key)] = (members, [argv for argv in commands if argv[0] != b"SADD"])
    return out


@pytest.mark.parametrize("seed", range(20))
def test_walk_of_the_real_engine_is_the_data_set_at_its_start(seed):
    rng = random.Random(seed)
    engine = new_engine()
    session = engine.new_session()
    populate(session, rng)
    expected = dataset(engine)
    walk = CopyOnWriteWalk(engine, chunk_keys=rng.choice([1, 3, 10]))
    engine.set_persistence(WalkOnly(walk))
    emitted = []

    def emit(db, key, commands):
        emitted.append((db, key, commands))
        for _ in range(rng.randrange(5)):
            session.execute([b"SELECT", b"%d" % rng.randrange(4)])
            if rng.random() < 0.1:
                session.execute([b"MULTI"])
                session.execute(random_command(rng))
                session.execute(random_command(rng))
                session.execute([b"EXEC"])
            else:
                session.execute(random_command(rng))

    walk.run(emit)
    fresh = new_engine()
    for db, _, commands in emitted:
        for argv in commands:
            fresh.replay(db, argv)
    assert dataset(fresh) == expected
