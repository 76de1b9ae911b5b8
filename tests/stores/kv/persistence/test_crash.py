"""Crash tests: kill the machine anywhere; every acknowledged write survives.

The fault-injecting filesystem dies at a chosen operation (possibly tearing
a write), then reboots with only what was durable, optionally plus a random
prefix of unsynced data. With appendfsync always, the recovered data set is
the acknowledged one, or that plus the single write in flight at the crash.
"""

import random

import pytest

from stores.kv.persistence import PersistenceConfig, open_persistence
from stores.kv.persistence.errors import SimulatedCrash
from stores.kv.persistence.fs import FaultInjectingFileSystem
from tests.stores.kv.persistence.dict_engine import DictEngine

CONFIG = dict(appendonly=True, appendfsync="always", save="", background_threads=False)


class Life:
    """One process lifetime: writes until done or until the machine dies."""

    def __init__(self, fs, acked):
        self.fs = fs
        self.acked = acked  # (db, key) -> value: the model of acknowledged writes
        self.in_flight = None

    def run(self, rng, steps, crash_at=None):
        if crash_at is not None:
            self.fs.crash_after(crash_at)
        engine = DictEngine()
        try:
            p = open_persistence(engine, "/d", PersistenceConfig(**CONFIG), fs=self.fs)
            assert self.model_of(engine) == self.acked
            for _ in range(steps):
                roll = rng.random()
                if roll < 0.85:
                    db, key = rng.randrange(3), b"k%d" % rng.randrange(30)
                    value = b"v%d" % rng.randrange(10**9)
                    self.in_flight = ((db, key), value)
                    engine.execute(db, [b"SET", key, value])
                    self.acked[(db, key)] = value
                    self.in_flight = None
                elif roll < 0.95:
                    p.bgrewriteaof()
                    p.wait_for_jobs(30)
                else:
                    p.save()
            p.close()
        except SimulatedCrash:
            return True
        return False

    @staticmethod
    def model_of(engine):
        return {(db, k): v for db, data in enumerate(engine.databases) for k, v in data.items()}


def recovered_model(fs):
    engine = DictEngine()
    p = open_persistence(engine, "/d", PersistenceConfig(**CONFIG), fs=fs)
    model = Life.model_of(engine)
    p.close()
    return model


@pytest.mark.parametrize("keep_unsynced", [False, True])
def test_every_acknowledged_write_survives_a_crash_anywhere(keep_unsynced):
    rng = random.Random(1234 + keep_unsynced)
    crashes = 0
    for round_ in range(80):
        fs = FaultInjectingFileSystem(seed=round_)
        fs.makedirs("/d")
        acked = {}
        Life(fs, acked).run(rng, steps=rng.randrange(0, 60))  # a clean first life
        life = Life(fs, acked)
        crashed = life.run(rng, steps=80, crash_at=rng.randrange(1, 300))
        crashes += crashed
        fs.crash()
        fs.reboot(keep_unsynced=keep_unsynced)
        recovered = recovered_model(fs)
        allowed = [dict(acked)]
        if life.in_flight is not None:
            with_in_flight = dict(acked)
            with_in_flight[life.in_flight[0]] = life.in_flight[1]
            allowed.append(with_in_flight)
        assert recovered in allowed, (round_, crashed)
    assert crashes > 40  # the crash points really hit the runs


def test_crash_during_the_first_open_leaves_an_openable_directory():
    for crash_at in range(1, 25):
        fs = FaultInjectingFileSystem(seed=crash_at)
        fs.makedirs("/d")
        acked = {}
        Life(fs, acked).run(random.Random(crash_at), steps=5, crash_at=crash_at)
        fs.crash()
        fs.reboot()
        recovered = recovered_model(fs)
        assert all(recovered.get(k) == v for k, v in acked.items())


@pytest.mark.parametrize("mode", ["everysec", "no"])
def test_without_always_a_crash_recovers_a_prefix_of_the_history(mode):
    """everysec and no may lose recent writes on power loss, never reorder or corrupt."""
    rng = random.Random(mode)
    for round_ in range(40):
        fs = FaultInjectingFileSystem(seed=round_)
        fs.makedirs("/d")
        config = PersistenceConfig(
            appendonly=True, appendfsync=mode, save="", background_threads=False
        )
        engine = DictEngine()
        history = []
        fs.crash_after(rng.randrange(1, 200))
        try:
            p = open_persistence(engine, "/d", config, fs=fs)
            history.append(Life.model_of(engine))
            for step in range(60):
                engine.execute(step % 2, [b"SET", b"k%d" % rng.randrange(8), b"%d" % step])
                history.append(Life.model_of(engine))
                if step % 20 == 19:
                    p._writer.flush(sync=True)  # what the once-a-second thread does
            p.close()
        except SimulatedCrash:
            history.append(Life.model_of(engine))  # the write in flight may have landed whole
        fs.crash()
        fs.reboot(keep_unsynced=bool(round_ % 2))
        recovered = recovered_model(fs)
        assert recovered in history, round_
