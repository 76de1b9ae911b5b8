"""Crashes and corruption: no acknowledged write lost, nothing deleted comes back.

Crashes are injected with the fault-injecting filesystem (every mutating
file operation is a possible crash point; unsynced data is dropped or torn)
and, once, by SIGKILLing a real writer process.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stores.wide.storage import CorruptionError, EngineClosed, ReadTrace, StorageEngine
from stores.wide.storage.fs import FaultInjectingFileSystem, SimulatedCrash

from .engine_support import Clock, delete_partition, delete_row, put, setup, values

ROOT = Path(__file__).resolve().parents[4]


def open_engine(fs, clock):
    return StorageEngine.open(
        "/db",
        fs=fs,
        commitlog_sync="batch",
        clock=clock,
        background=False,
        memtable_flush_threshold=1500,
        commitlog_segment_size=2048,
    )


def workload(engine, acked):
    """Write, overwrite and delete; record each acknowledged operation."""
    for i in range(40):
        key = b"p%d" % (i % 4)
        ck = b"%03d" % i
        engine.apply(put(key, ck, b"v%d" % i, ts=i + 1))
        acked.append(("put", key, ck, b"v%d" % i))
        if i % 7 == 6:
            victim = b"%03d" % (i - 3)
            engine.apply(delete_row(key, victim, ts=i + 1))
            acked.append(("delete", key, victim, None))
        if i % 13 == 12:
            engine.flush()
        if i % 17 == 16:
            engine.compact("ks", "t")
    engine.apply(delete_partition(b"p3", ts=10_000))
    acked.append(("drop", b"p3", None, None))


def check(engine, acked, in_flight):
    """Every acknowledged effect holds; only the in-flight operation is uncertain."""
    expected = {}
    for op, key, ck, value in acked:
        if op == "put":
            expected[(key, ck)] = value
        elif op == "delete":
            expected[(key, ck)] = None
        else:
            for k in list(expected):
                if k[0] == key:
                    expected[k] = None
    for key in (b"p0", b"p1", b"p2", b"p3"):
        got = dict(values(engine.read("ks", "t", key)))
        for (k, ck), value in expected.items():
            if k != key or (in_flight and in_flight[1] == key and in_flight[2] in (ck, None)):
                continue
            assert got.get(ck) == value, (key, ck)
        for ck in got:
            assert (key, ck) in expected or (in_flight and in_flight[1] == key), (key, ck)


def count_operations() -> int:
    fs = FaultInjectingFileSystem()
    clock = Clock()
    engine = open_engine(fs, clock)
    setup(engine, gc_grace_seconds=0)
    start = fs.operations
    workload(engine, [])
    total = fs.operations - start
    engine.close()
    return total


@pytest.mark.parametrize("torn", [False, True])
def test_crash_at_every_point_loses_no_acknowledged_write(torn):
    total = count_operations()
    assert total > 100
    for budget in range(0, total + 1, 3 if torn else 1):
        fs = FaultInjectingFileSystem()
        clock = Clock()
        engine = open_engine(fs, clock)
        setup(engine, gc_grace_seconds=0)
        fs.arm(budget)
        acked: list = []
        try:
            workload(engine, acked)
        except SimulatedCrash:
            pass
        engine.kill()
        in_flight = _next_operation(acked)
        survivor = fs.crash(torn=torn, seed=budget)
        reopened = open_engine(survivor, clock)
        check(reopened, acked, in_flight)
        reopened.close()


def _next_operation(acked):
    """Return the operation that may have been in flight when the crash hit."""
    done: list = []
    try:
        workload(_Recorder(done), [])
    except _Stop:
        pass
    return done[len(acked)] if len(done) > len(acked) else None


class _Stop(Exception):
    pass


class _Recorder:
    """Replays the workload's call sequence without an engine."""

    def __init__(self, done):
        self.done = done

    def apply(self, mutation):
        if mutation.partition_deletion is not None:
            self.done.append(("drop", mutation.partition_key, None, None))
        else:
            row = mutation.rows[0]
            op = "delete" if row.deletion is not None else "put"
            self.done.append((op, mutation.partition_key, row.clustering, None))

    def flush(self):
        pass

    def compact(self, *args):
        pass


def test_crash_during_recovery_is_recoverable():
    fs = FaultInjectingFileSystem()
    clock = Clock()
    engine = open_engine(fs, clock)
    setup(engine)
    acked: list = []
    workload(engine, acked)
    engine.kill()
    crashed = fs.crash()
    for budget in range(0, 40):
        attempt = crashed.crash()  # a fresh copy of the same durable state
        attempt.arm(budget)
        try:
            open_engine(attempt, clock).kill()
        except SimulatedCrash:
            pass
        final = open_engine(attempt.crash(), clock)
        check(final, acked, None)
        final.close()


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from stores.wide.storage import StorageEngine
    from tests.stores.wide.storage.engine_support import put, setup
    engine = StorageEngine.open({directory!r}, commitlog_sync={mode!r},
                                memtable_flush_threshold=30000)
    setup(engine)
    i = 0
    while True:
        engine.apply(put(b"user-%d" % (i % 50), b"%08d" % i, b"value-%d" % i, ts=i + 1))
        sys.stdout.write("%d\\n" % i)
        sys.stdout.flush()
        i += 1
    """
)


@pytest.mark.parametrize("mode", ["batch", "periodic"])
def test_sigkilled_writer_loses_no_acknowledged_write(tmp_path, mode):
    directory = str(tmp_path / "db")
    script = WRITER.format(root=str(ROOT), directory=directory, mode=mode)
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acked = -1
    try:
        for line in process.stdout:
            acked = int(line)
            if acked >= 1500:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert acked >= 1500, process.stderr.read()
    engine = StorageEngine.open(directory)
    found = {}
    for partition in engine.scan("ks", "t"):
        for row in partition.rows:
            found[row.clustering] = row.cells["v"].value
    missing = [i for i in range(acked + 1) if found.get(b"%08d" % i) != b"value-%d" % i]
    assert missing == []
    assert (
        engine.commitlog_info()["replayed_mutations"] > 0
        or engine.table_stats("ks", "t")["sstable_count"] > 0
    )
    engine.close()


def test_flipped_byte_in_an_sstable_is_reported_not_returned(tmp_path):
    engine = StorageEngine.open(str(tmp_path), background=False)
    setup(engine)
    for i in range(200):
        engine.apply(put(b"u%d" % (i % 5), b"%04d" % i, b"x" * 50, i + 1))
    engine.flush()
    (sst,) = engine.sstables("ks", "t")
    data = Path(sst["directory"]) / f"{sst['name']}-Data.db"
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    data.write_bytes(bytes(raw))
    engine.close()
    engine = StorageEngine.open(str(tmp_path), background=False)
    errors = []
    for i in range(5):
        try:
            engine.read("ks", "t", b"u%d" % i, trace=ReadTrace())
        except CorruptionError as exc:
            errors.append(exc)
    assert errors, "a flipped byte went unnoticed"
    assert all(e.path == str(data) and 0 <= e.offset < len(raw) for e in errors)
    engine.close()


def test_a_flipped_byte_anywhere_in_the_data_file_never_reaches_an_untraced_read(tmp_path):
    """Reads without a trace take the mapped, key-cached path: still checksummed."""
    engine = StorageEngine.open(str(tmp_path), background=False)
    setup(engine)
    for i in range(60):
        engine.apply(put(b"u%d" % (i % 3), b"%04d" % i, b"v%04d" % i, i + 1))
    engine.flush()
    expected = {u: engine.read("ks", "t", b"u%d" % u) for u in range(3)}
    (sst,) = engine.sstables("ks", "t")
    data = Path(sst["directory"]) / f"{sst['name']}-Data.db"
    engine.close()
    original = data.read_bytes()
    for position in range(0, len(original), 7):
        raw = bytearray(original)
        raw[position] ^= 0x10
        data.write_bytes(bytes(raw))
        engine = StorageEngine.open(str(tmp_path), background=False)
        try:
            for u in range(3):
                try:
                    got = engine.read("ks", "t", b"u%d" % u, limit=20)
                except CorruptionError as exc:
                    assert exc.path == str(data)
                    continue
                assert got == expected[u] or got.rows == expected[u].rows[:20]
        finally:
            engine.close()
    data.write_bytes(original)


def test_flipped_byte_in_the_commit_log_is_reported_with_file_and_offset(tmp_path):
    engine = StorageEngine.open(str(tmp_path), commitlog_sync="batch", background=False)
    setup(engine)
    for i in range(20):
        engine.apply(put(b"u", b"%04d" % i, b"x" * 50, i + 1))
    engine.kill()
    (segment,) = sorted((tmp_path / "commitlog").iterdir())
    raw = bytearray(segment.read_bytes())
    written = len(raw.rstrip(b"\x00"))  # records, then the preallocated zero tail
    raw[written // 2] ^= 0x01
    segment.write_bytes(bytes(raw))
    with pytest.raises(CorruptionError) as info:
        StorageEngine.open(str(tmp_path), background=False)
    assert info.value.path == str(segment)
    assert 0 < info.value.offset < len(raw)


def test_a_failed_flush_stops_writes_instead_of_risking_them():
    fs = FaultInjectingFileSystem()
    clock = Clock()
    engine = open_engine(fs, clock)
    setup(engine)
    engine.apply(put(b"u", b"a", b"1", 1))
    fs.arm(2)
    with pytest.raises(SimulatedCrash):
        engine.flush()
    with pytest.raises(EngineClosed):
        engine.apply(put(b"u", b"b", b"2", 2))
    engine.kill()
    reopened = open_engine(fs.crash(), clock)
    assert values(reopened.read("ks", "t", b"u")) == [(b"a", b"1")]
    reopened.close()
