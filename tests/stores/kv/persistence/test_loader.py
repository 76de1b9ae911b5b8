"""Start-up load order: AOF (base then incrementals) or snapshot or nothing."""

import pytest

from stores.kv.persistence.aof_writer import encode_command
from stores.kv.persistence.errors import CorruptFileError
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.loader import load_directory
from stores.kv.persistence.manifest import Manifest, write_manifest
from stores.kv.persistence.snapshot_writer import SnapshotWriter
from tests.stores.kv.persistence.dict_engine import DictEngine


@pytest.fixture
def fs():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d/appendonlydir")
    return fs


def snapshot(fs, path, keys):
    writer = SnapshotWriter(fs, path)
    for db, key, value in keys:
        writer.add_key(db, key, [[b"SET", key, value]])
    writer.commit()


def test_aof_is_base_then_incrementals_in_manifest_order(fs):
    snapshot(fs, "/d/appendonlydir/b.kvs", [(0, b"a", b"base"), (2, b"x", b"1")])
    fs.write_bytes("/d/appendonlydir/i1.aof", encode_command([b"SET", b"a", b"one"]))
    fs.write_bytes(
        "/d/appendonlydir/i2.aof",
        encode_command([b"SELECT", b"2"]) + encode_command([b"DEL", b"x"]),
    )
    write_manifest(
        fs,
        "/d/appendonlydir/appendonly.aof.manifest",
        Manifest(("b.kvs", 3), [("i1.aof", 1), ("i2.aof", 2)]),
    )
    snapshot(fs, "/d/dump.kvs", [(0, b"from", b"snapshot")])
    engine = DictEngine()
    loaded = load_directory(engine, fs, "/d", appendonly=True)
    assert loaded.source == "aof" and loaded.keys == 2 and loaded.commands == 3
    assert engine.databases[0] == {b"a": b"one"} and engine.databases[2] == {}
    engine = DictEngine()
    assert load_directory(engine, fs, "/d", appendonly=False).source == "snapshot"
    assert engine.databases[0] == {b"from": b"snapshot"}


def test_only_the_last_non_empty_incremental_may_be_torn(fs):
    torn = encode_command([b"SET", b"a", b"1"]) + b"*3\r\n$3\r\nSET"
    fs.write_bytes("/d/appendonlydir/i1.aof", torn)
    fs.write_bytes("/d/appendonlydir/i2.aof", b"")
    manifest = Manifest(None, [("i1.aof", 1), ("i2.aof", 2)])
    write_manifest(fs, "/d/appendonlydir/appendonly.aof.manifest", manifest)
    engine = DictEngine()
    load_directory(engine, fs, "/d", appendonly=True)
    assert engine.databases[0] == {b"a": b"1"}
    fs.write_bytes("/d/appendonlydir/i1.aof", torn)
    fs.write_bytes("/d/appendonlydir/i2.aof", encode_command([b"SET", b"b", b"2"]))
    with pytest.raises(CorruptFileError, match="i1.aof"):
        load_directory(DictEngine(), fs, "/d", appendonly=True)


def test_nothing_to_load(fs):
    assert load_directory(DictEngine(), fs, "/d", appendonly=True).source == "empty"
