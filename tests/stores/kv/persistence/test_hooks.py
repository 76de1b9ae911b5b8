"""The Persistence object through open_persistence: lock, load, hooks, commands, jobs."""

import logging
import threading

import pytest

from stores.kv.persistence import (
    CorruptFileError,
    DataDirectoryLockedError,
    PersistenceConfig,
    open_persistence,
)
from stores.kv.persistence.aof_writer import encode_command
from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.loader import load_directory
from tests.stores.kv.persistence.dict_engine import DictEngine

D = "/data"


def config(**options):
    options.setdefault("background_threads", False)
    options.setdefault("save", "")
    return PersistenceConfig(**options)


@pytest.fixture
def fs():
    return FaultInjectingFileSystem(seed=3)


def open_engine(fs, **options):
    engine = DictEngine()
    persistence = open_persistence(engine, D, config(**options), fs=fs)
    return engine, persistence


def test_aof_round_trip_across_restarts(fs):
    engine, p = open_engine(fs, appendonly=True, appendfsync="always")
    assert engine.persistence is p
    engine.execute(0, [b"SET", b"a", b"1"])
    engine.execute(3, [b"RPUSH", b"l", b"x", b"y"])
    engine.execute(0, [b"INCR", b"a"])
    p.close()
    again, p2 = open_engine(fs, appendonly=True)
    assert again.contents() == engine.contents()
    again.execute(0, [b"DEL", b"a"])
    p2.close()
    third, p3 = open_engine(fs, appendonly=True)
    assert b"a" not in third.databases[0] and third.databases[3][b"l"] == [b"x", b"y"]
    p3.close()


def test_second_open_of_a_directory_is_refused(fs):
    _, p = open_engine(fs, appendonly=True)
    with pytest.raises(DataDirectoryLockedError):
        open_engine(fs, appendonly=True)
    p.close()
    _, p = open_engine(fs, appendonly=True)
    p.close()


def test_snapshot_only_mode_saves_on_close_and_loads(fs):
    engine, p = open_engine(fs, appendonly=False, save="3600 1")
    engine.execute(0, [b"SET", b"a", b"1"])
    engine.execute(1, [b"HSET", b"h", b"f", b"v"])
    assert p.changes_since_save == 2
    p.close()
    assert fs.listdir(D) == ["dump.kvs"]  # no AOF directory when the AOF is off
    again, p2 = open_engine(fs, appendonly=False)
    assert again.contents() == engine.contents()
    assert p2.loaded_keys == 2
    p2.close()


def test_save_and_bgsave_and_lastsave(fs):
    engine, p = open_engine(fs)
    engine.execute(0, [b"SET", b"a", b"1"])
    assert p.save() == "OK"
    assert p.changes_since_save == 0 and p.rdb_saves == 1
    engine.execute(0, [b"SET", b"b", b"2"])
    assert p.bgsave() == "Background saving started"
    assert p.wait_for_jobs(30)
    assert p.info()["rdb_last_bgsave_status"] == "ok"
    assert isinstance(p.lastsave(), int)
    p.close()
    again, p2 = open_engine(fs)
    assert again.contents() == engine.contents()
    p2.close()


def test_turning_the_aof_on_keeps_the_snapshot_data(fs):
    engine, p = open_engine(fs, appendonly=False)
    engine.execute(0, [b"SET", b"a", b"1"])
    p.save()
    p.close()
    engine, p = open_engine(fs, appendonly=True)
    assert engine.databases[0] == {b"a": b"1"}
    engine.execute(0, [b"SET", b"b", b"2"])
    p.close()
    engine, p = open_engine(fs, appendonly=True)
    assert engine.databases[0] == {b"a": b"1", b"b": b"2"}
    p.close()


def test_runtime_appendonly_switch(fs):
    engine, p = open_engine(fs, save="3600 1")
    engine.execute(0, [b"SET", b"a", b"1"])
    p.config_changed("appendonly", True)
    assert p.wait_for_jobs(30)
    assert p.info()["aof_enabled"] == 1
    assert fs.exists(f"{D}/appendonlydir/appendonly.aof.manifest")
    engine.execute(0, [b"SET", b"b", b"2"])
    p.config_changed("appendfsync", "always")
    assert p._writer.fsync_mode == "always"
    p.config_changed("appendonly", False)
    # Writes are no longer logged, so the AOF is gone rather than left stale.
    assert not fs.exists(f"{D}/appendonlydir/appendonly.aof.manifest")
    assert p.info()["aof_enabled"] == 0
    engine.execute(0, [b"SET", b"c", b"3"])
    p.close()  # saves dump.kvs: save rules are set
    again, p2 = open_engine(fs, appendonly=True)
    assert again.databases[0] == {b"a": b"1", b"b": b"2", b"c": b"3"}
    p2.close()


def test_rewrite_with_the_aof_off_publishes_nothing(fs):
    engine, p = open_engine(fs)
    engine.execute(0, [b"SET", b"a", b"1"])
    assert p.bgrewriteaof() == "Background append only file rewriting started"
    assert p.wait_for_jobs(30)
    assert fs.listdir(f"{D}/appendonlydir") == []
    p.close()


def test_info_fields_have_redis_names(fs):
    engine, p = open_engine(fs, appendonly=True)
    engine.execute(0, [b"SET", b"a", b"1"])
    info = p.info()
    for name in (
        "aof_enabled",
        "aof_rewrite_in_progress",
        "rdb_last_save_time",
        "rdb_changes_since_last_save",
        "aof_current_size",
        "aof_base_size",
        "aof_last_write_status",
        "rdb_bgsave_in_progress",
    ):
        assert name in info
    assert info["aof_enabled"] == 1 and info["rdb_changes_since_last_save"] == 1
    assert info["aof_current_size"] > info["aof_base_size"]
    p.close()


def test_truncated_tail_is_recovered_with_a_warning(fs, caplog):
    engine, p = open_engine(fs, appendonly=True, appendfsync="always")
    engine.execute(0, [b"SET", b"a", b"1"])
    path = f"{D}/appendonlydir/{p.manifest.incrs[-1][0]}"
    p.close()
    good = fs.read_bytes(path)
    fs.write_bytes(path, good + encode_command([b"SET", b"b", b"2"])[:-3])
    with caplog.at_level(logging.WARNING, logger="stores.kv.persistence"):
        engine, p = open_engine(fs, appendonly=True)
    assert engine.databases[0] == {b"a": b"1"}
    assert "truncating" in caplog.text
    assert fs.read_bytes(path) == good
    p.close()


def test_corruption_stops_start_up_naming_file_and_offset(fs):
    engine, p = open_engine(fs, appendonly=True, appendfsync="always")
    engine.execute(0, [b"SET", b"a", b"1"])
    engine.execute(0, [b"SET", b"b", b"2"])
    path = f"{D}/appendonlydir/{p.manifest.incrs[-1][0]}"
    p.close()
    data = bytearray(fs.read_bytes(path))
    offset = data.index(b"*3")
    data[offset] = ord("#")
    fs.write_bytes(path, bytes(data))
    with pytest.raises(CorruptFileError) as info:
        open_engine(fs, appendonly=True)
    assert info.value.path == path and info.value.offset == offset
    _, p = open_engine(fs, appendonly=False)  # the lock was released
    p.close()


def test_unknown_command_in_the_aof_is_corruption(fs):
    engine, p = open_engine(fs, appendonly=True, appendfsync="always")
    path = f"{D}/appendonlydir/{p.manifest.incrs[-1][0]}"
    p.close()
    fs.write_bytes(path, fs.read_bytes(path) + encode_command([b"NOPE"]))
    with pytest.raises(CorruptFileError, match="NOPE"):
        open_engine(fs, appendonly=True)


def test_missing_listed_file_is_an_error(fs):
    engine, p = open_engine(fs, appendonly=True)
    path = f"{D}/appendonlydir/{p.manifest.incrs[-1][0]}"
    p.close()
    fs.remove(path)
    with pytest.raises(CorruptFileError, match="does not exist"):
        open_engine(fs, appendonly=True)


def test_command_errors_have_redis_text(fs):
    engine, p = open_engine(fs, appendonly=True)
    rewrites = p.aof_rewrites
    p._job = "save"
    with pytest.raises(PersistenceError, match="Background save already in progress"):
        p.bgsave()
    assert p.bgrewriteaof() == "Background append only file rewriting scheduled"
    p._job = "rewrite"
    with pytest.raises(PersistenceError, match="rewriting already in progress"):
        p.bgrewriteaof()
    with pytest.raises(PersistenceError, match="BGSAVE SCHEDULE"):
        p.bgsave()
    assert p.bgsave(schedule=True) == "Background saving scheduled"
    p._job = None
    p._job_idle.set()
    assert p.wait_for_jobs(30)
    assert p.aof_rewrites == rewrites + 1 and p.rdb_saves == 1
    p.close()


def test_save_rules_run_from_cron(fs):
    engine, p = open_engine(fs, save="100 2")
    engine.execute(0, [b"SET", b"a", b"1"])
    assert p.cron(now=p.last_save_time + 1000) is None  # one change only
    engine.execute(0, [b"SET", b"b", b"2"])
    assert p.cron(now=p.last_save_time + 50) is None  # too early
    assert p.cron(now=p.last_save_time + 100) == "save"
    assert p.wait_for_jobs(30)
    assert p.changes_since_save == 0 and fs.exists(f"{D}/dump.kvs")
    p.close()


def test_close_with_the_engine_lock_held_cancels_a_running_job(fs):
    engine = DictEngine()
    for i in range(20000):
        engine.databases[i % 4][b"k%d" % i] = b"v"
    p = open_persistence(engine, D, config(save="3600 1"), fs=fs)
    engine.execute(0, [b"SET", b"a", b"1"])
    assert p.bgsave() == "Background saving started"
    done = threading.Event()

    def close_like_engine_close():
        with engine.lock:  # Engine.close() holds its lock around persistence.close()
            p.close()
        done.set()

    closer = threading.Thread(target=close_like_engine_close)
    closer.start()
    closer.join(60)
    assert done.is_set(), "close() deadlocked against the background save"
    again = DictEngine()
    p2 = open_persistence(again, D, config(), fs=fs)
    assert again.contents() == engine.contents()  # the final save on close
    p2.close()


def test_aof_base_and_incr_files_are_switched_by_a_rewrite(fs):
    engine, p = open_engine(fs, appendonly=True)
    engine.execute(0, [b"SET", b"a", b"1"])
    first = p.manifest.files()
    p.bgrewriteaof()
    assert p.wait_for_jobs(30)
    second = p.manifest.files()
    assert set(first).isdisjoint(second)
    assert sorted(fs.listdir(f"{D}/appendonlydir")) == sorted([*second, "appendonly.aof.manifest"])
    assert p.info()["aof_base_size"] == fs.size(f"{D}/appendonlydir/{second[0]}")
    p.close()


def test_leftovers_of_interrupted_jobs_are_removed_on_open(fs):
    engine, p = open_engine(fs, appendonly=True)
    engine.execute(0, [b"SET", b"a", b"1"])
    listed = sorted([*p.manifest.files(), "appendonly.aof.manifest"])
    p.close()
    for path in (
        f"{D}/appendonlydir/appendonly.aof.9.base.kvs.tmp",
        f"{D}/appendonlydir/appendonly.aof.8.incr.aof",
        f"{D}/dump.kvs.tmp",
    ):
        fs.write_bytes(path, b"junk")
    engine, p = open_engine(fs, appendonly=True)
    assert engine.databases[0] == {b"a": b"1"}
    assert sorted(fs.listdir(f"{D}/appendonlydir")) == listed
    assert not fs.exists(f"{D}/dump.kvs.tmp")
    p.close()


def test_an_aof_left_while_appendonly_is_off_is_ignored_with_a_warning(fs, caplog):
    engine, p = open_engine(fs, appendonly=True)
    engine.execute(0, [b"SET", b"a", b"1"])
    p.close()
    with caplog.at_level(logging.WARNING, logger="stores.kv.persistence"):
        engine, p = open_engine(fs, appendonly=False)
    assert engine.databases[0] == {}
    assert "ignoring the append-only file" in caplog.text
    p.close()


def test_a_failing_disk_turns_into_misconf_until_a_retry_succeeds(fs):
    engine, p = open_engine(fs, appendonly=True, appendfsync="always")
    file = p._writer._file
    real_write = file.write

    def disk_full(data):
        raise OSError(28, "No space left on device")

    file.write = disk_full
    with pytest.raises(PersistenceError, match="MISCONF Errors writing to the AOF file"):
        engine.execute(0, [b"SET", b"a", b"1"])
    assert p.write_error.startswith("MISCONF Errors writing to the AOF file")
    assert p.info()["aof_last_write_status"] == "err"
    p.cron()  # retry fails, nothing lost
    assert p.write_error is not None
    file.write = real_write
    p.cron()  # the once-a-second retry writes the pending bytes
    assert p.write_error is None
    engine.execute(0, [b"SET", b"b", b"2"])
    p.close()
    again, p2 = open_engine(fs, appendonly=True)
    assert again.databases[0] == {b"a": b"1", b"b": b"2"}
    p2.close()


def test_failed_background_save_stops_writes_when_save_rules_are_set(fs):
    engine, p = open_engine(fs, save="3600 1")
    p.last_bgsave_status = "err"
    assert p.write_error.startswith("MISCONF Redis is configured to save RDB snapshots")
    p.set_save_rules("")
    assert p.write_error is None
    p.close()


def test_failed_background_save_keeps_the_old_snapshot(fs):
    engine, p = open_engine(fs, save="3600 1")
    engine.execute(0, [b"SET", b"a", b"1"])
    p.save()
    engine.execute(0, [b"SET", b"b", b"2"])
    original_create = fs.create

    def failing_create(path):
        file = original_create(path)

        def fail(data):
            raise OSError(28, "No space left on device")

        file.write = fail
        return file

    fs.create = failing_create
    assert p.bgsave() == "Background saving started"
    assert p.wait_for_jobs(30)
    assert p.info()["rdb_last_bgsave_status"] == "err"
    assert p.changes_since_save == 1
    assert not fs.exists(f"{D}/dump.kvs.tmp")
    assert p.write_error.startswith("MISCONF Redis is configured to save RDB snapshots")
    again = DictEngine()
    load_directory(again, fs, D, appendonly=False)
    assert again.databases[0] == {b"a": b"1"}  # the previous snapshot
    assert p.cron(now=p._job_started + 1) is None  # Redis waits 5 s before retrying
    fs.create = original_create
    assert p.cron(now=p._job_started + 3601) == "save"
    assert p.wait_for_jobs(30)
    p.save()
    assert p.write_error is None
    p.close()


def test_save_runs_while_a_rewrite_walks_the_keyspace(fs):
    engine = DictEngine()
    for i in range(3000):
        engine.databases[i % 3][b"k%d" % i] = b"v%d" % i
    p = open_persistence(engine, D, config(appendonly=True, save="3600 1"), fs=fs)
    expected = engine.contents()
    with engine.lock:  # as the engine runs SAVE: under its lock
        assert p.bgrewriteaof() == "Background append only file rewriting started"
        assert p.save() == "OK"
    assert p.wait_for_jobs(30)
    assert p.rdb_saves == 1 and p.info()["aof_last_bgrewrite_status"] == "ok"
    p.close()
    for appendonly in (True, False):  # both the AOF and the snapshot hold it all
        again = DictEngine()
        p2 = open_persistence(again, D, config(appendonly=appendonly), fs=fs)
        assert again.contents() == expected
        p2.close()


def test_save_is_refused_while_a_background_save_runs(fs):
    engine, p = open_engine(fs)
    p._job = "save"
    with pytest.raises(PersistenceError, match="Background save already in progress"):
        p.save()
    p._job = None
    p._saving = True
    with pytest.raises(PersistenceError, match="Background save already in progress"):
        p.bgsave()
    assert p.cron(now=p.last_save_time + 10**6) is None
    p._saving = False
    p.close()


def test_two_walks_at_once_each_see_their_own_instant(fs):
    engine = DictEngine()
    for i in range(500):
        engine.databases[i % 2][b"k%d" % i] = b"v%d" % i
    p = open_persistence(engine, D, config(save="3600 1"), fs=fs)
    at_first = engine.contents()
    with engine.lock:
        first = p._begin_walk_locked()
    for i in range(0, 500, 3):
        engine.execute(i % 2, [b"SET", b"k%d" % i, b"changed"])
    engine.execute(1, [b"FLUSHDB"])
    at_save = engine.contents()
    p.save()  # a second walk while the first is still registered
    assert p.rewriting and len(p._walks) == 1
    snapshot = DictEngine()
    load_directory(snapshot, fs, D, appendonly=False)
    assert snapshot.contents() == at_save
    for i in range(1, 500, 3):
        engine.execute(0, [b"DEL", b"k%d" % i])

    class Collect:
        def __init__(self):
            self.keys = []

        def add_key(self, db, key, commands):
            self.keys.append((db, key, commands))

    collected = Collect()
    p._walk_into(collected, first)
    assert not p.rewriting
    rebuilt = DictEngine()
    for db, _, commands in collected.keys:
        for argv in commands:
            rebuilt.replay(db, argv)
    assert rebuilt.contents() == at_first
    p.close()  # saves the later changes too
    again = DictEngine()
    p2 = open_persistence(again, D, config(), fs=fs)
    assert again.contents() == engine.contents()
    p2.close()


def test_cron_rewrites_the_aof_once_it_has_grown_enough(fs):
    engine, p = open_engine(
        fs, appendonly=True, auto_aof_rewrite_min_size=2000, auto_aof_rewrite_percentage=100
    )
    base = p.aof_base_size
    while p.aof_current_size() < 2000 or p.aof_current_size() < 2 * base:
        assert p.cron() is None  # not yet: below the minimum size or the growth
        engine.execute(0, [b"SET", b"k", b"x" * 50])
    assert p.cron() == "rewrite"
    assert p.wait_for_jobs(30)
    assert p.aof_current_size() < 2000  # one key left after the rewrite
    assert p.cron() is None
    p.close()
