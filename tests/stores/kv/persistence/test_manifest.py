"""The AOF manifest: text round trip, atomic replacement, bad lines located."""

import pytest

from stores.kv.persistence.errors import CorruptFileError, SimulatedCrash
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.manifest import Manifest, parse_manifest, read_manifest, write_manifest


def test_text_is_redis_7_shaped():
    m = Manifest(("appendonly.aof.2.base.kvs", 2), [("appendonly.aof.1.incr.aof", 1)])
    assert m.encode() == (
        b"file appendonly.aof.2.base.kvs seq 2 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n"
    )
    assert parse_manifest(m.encode(), "m") == m
    assert m.next_seq() == 3
    assert m.files() == ["appendonly.aof.2.base.kvs", "appendonly.aof.1.incr.aof"]


def test_write_is_atomic():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    first = Manifest(None, [("a", 1)])
    write_manifest(fs, "/d/m", first)
    fs.reboot()
    assert read_manifest(fs, "/d/m") == first
    fs.crash_after(3)  # create, write, then die at the fsync
    with pytest.raises(SimulatedCrash):
        write_manifest(fs, "/d/m", Manifest(None, [("a", 1), ("b", 2)]))
    fs.reboot()
    assert read_manifest(fs, "/d/m") == first


@pytest.mark.parametrize(
    "text",
    [
        b"file a seq x type i\n",
        b"file a seq 1 type z\n",
        b"file a seq 1\n",
        b"file ../x seq 1 type i\n",
        b"file a seq 1 type i\nfile b seq 2 type b\n",
    ],
)
def test_bad_lines_are_corruption(text):
    with pytest.raises(CorruptFileError):
        parse_manifest(b"# comment\n" + text, "m")
