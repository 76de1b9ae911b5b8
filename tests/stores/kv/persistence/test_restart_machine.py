"""A hypothesis state machine: random writes, rewrites, snapshots, restarts and
power losses over the real engine; the data set always survives exactly."""

import random

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from stores.kv.config import Config
from stores.kv.engine import Engine
from stores.kv.persistence import open_persistence
from stores.kv.persistence.fs import FaultInjectingFileSystem
from tests.stores.kv.persistence.test_rewrite_engine import NOW_MS, dataset, random_command


class PersistedEngine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.fs = FaultInjectingFileSystem(seed=0)
        self.appendonly = True
        self.expected = {}
        self.open()

    def open(self):
        config = Config(
            databases=4, appendonly=self.appendonly, appendfsync="always", save="3600 1"
        )
        self.engine = Engine(config, clock=lambda: NOW_MS, background=False)
        self.persistence = open_persistence(self.engine, "/d", config, fs=self.fs)
        self.session = self.engine.new_session()

    @rule(seed=st.integers(0, 2**32), count=st.integers(1, 20))
    def write(self, seed, count):
        rng = random.Random(seed)
        in_multi = rng.random() < 0.3
        if in_multi:
            self.session.execute([b"MULTI"])
        for _ in range(count):
            self.session.execute([b"SELECT", b"%d" % rng.randrange(4)])
            self.session.execute(random_command(rng))
        if in_multi:
            self.session.execute([b"EXEC"])
        self.expected = dataset(self.engine)

    @rule()
    def rewrite(self):
        self.session.execute([b"BGREWRITEAOF"])
        assert self.persistence.wait_for_jobs(30)

    @rule()
    def bgsave(self):
        self.session.execute([b"BGSAVE"])
        assert self.persistence.wait_for_jobs(30)

    @rule()
    def restart(self):
        self.engine.close()
        self.open()

    @precondition(lambda self: self.appendonly)
    @rule(keep_unsynced=st.booleans())
    def power_loss(self, keep_unsynced):
        self.persistence.wait_for_jobs(30)
        self.fs.crash()
        self.fs.reboot(keep_unsynced=keep_unsynced)
        self.open()

    @rule(enabled=st.booleans())
    def config_set_appendonly(self, enabled):
        self.session.execute([b"CONFIG", b"SET", b"appendonly", b"yes" if enabled else b"no"])
        assert self.persistence.wait_for_jobs(30)
        self.appendonly = enabled

    @invariant()
    def data_set_is_the_acknowledged_one(self):
        assert dataset(self.engine) == self.expected

    def teardown(self):
        self.engine.close()


PersistedEngine.TestCase.settings = settings(max_examples=25, stateful_step_count=25, deadline=None)
test_restart_machine = PersistedEngine.TestCase
