"""Snapshot files: round trip, atomic commit, every damaged byte detected."""

import pytest

from stores.kv.persistence.errors import CorruptFileError
from stores.kv.persistence.format import HEADER, RECORD_HEADER
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.snapshot_reader import iter_records, load_snapshot
from stores.kv.persistence.snapshot_writer import SnapshotWriter

KEYS = [
    (0, b"str", [[b"SET", b"str", b"value"]]),
    (0, b"", [[b"SET", b"", b""]]),
    (1, b"list", [[b"RPUSH", b"list", b"a", b"b"], [b"RPUSH", b"list", b"c"]]),
    (
        15,
        b"bin\x00\xff",
        [[b"HSET", b"bin\x00\xff", b"f", b"\r\n"], [b"PEXPIREAT", b"bin\x00\xff", b"1"]],
    ),
]


@pytest.fixture
def fs():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    return fs


def write_snapshot(fs, keys=KEYS, path="/d/dump.kvs"):
    writer = SnapshotWriter(fs, path, aux={"ctime": "123"})
    for db, key, commands in keys:
        writer.add_key(db, key, commands)
    return writer.commit()


def load(fs, path="/d/dump.kvs"):
    out = []
    info = load_snapshot(fs, path, lambda db, key, commands: out.append((db, key, commands)))
    return out, info


def test_round_trip(fs):
    size = write_snapshot(fs)
    keys, info = load(fs)
    assert keys == KEYS
    assert info.keys == len(KEYS) and info.aux["ctime"] == "123" and info.size == size
    assert not fs.exists("/d/dump.kvs.tmp")


def test_empty_snapshot_round_trip(fs):
    write_snapshot(fs, keys=[])
    keys, info = load(fs)
    assert keys == [] and info.keys == 0


def test_commit_is_atomic_and_durable(fs):
    write_snapshot(fs, keys=KEYS[:1])
    writer = SnapshotWriter(fs, "/d/dump.kvs")
    writer.add_key(*KEYS[1])
    fs.reboot()  # crash before commit: the old snapshot is intact
    assert load(fs)[0] == KEYS[:1]
    write_snapshot(fs, keys=KEYS)
    fs.reboot()  # crash after commit: the new one survived
    assert load(fs)[0] == KEYS


def test_abort_removes_the_temp_file(fs):
    writer = SnapshotWriter(fs, "/d/dump.kvs")
    writer.add_key(*KEYS[0])
    writer.abort()
    assert not fs.exists("/d/dump.kvs.tmp") and not fs.exists("/d/dump.kvs")


def test_every_flipped_byte_is_detected_with_its_record_offset(fs):
    write_snapshot(fs)
    good = fs.read_bytes("/d/dump.kvs")
    record_offsets = [offset for offset, _, _ in iter_records(fs, "/d/dump.kvs")]
    for i in range(len(good)):
        damaged = bytearray(good)
        damaged[i] ^= 0x41
        fs.write_bytes("/d/dump.kvs", bytes(damaged))
        with pytest.raises(CorruptFileError) as info:
            load(fs)
        error = info.value
        assert error.path == "/d/dump.kvs"
        if i < HEADER.size:
            assert error.offset in (0, 6)
        else:
            owner = max(o for o in record_offsets if o <= i)
            assert error.offset <= owner, (i, error)
        assert f"offset {error.offset}" in str(error)


def test_every_truncation_is_detected(fs):
    write_snapshot(fs)
    good = fs.read_bytes("/d/dump.kvs")
    for cut in range(len(good)):
        fs.write_bytes("/d/dump.kvs", good[:cut])
        with pytest.raises(CorruptFileError):
            load(fs)


def test_trailing_garbage_is_detected(fs):
    write_snapshot(fs)
    fs.write_bytes("/d/dump.kvs", fs.read_bytes("/d/dump.kvs") + b"x")
    with pytest.raises(CorruptFileError, match="after the END record"):
        load(fs)


def test_wrong_magic_and_version(fs):
    write_snapshot(fs)
    good = fs.read_bytes("/d/dump.kvs")
    fs.write_bytes("/d/dump.kvs", b"REDIS0" + good[6:])
    with pytest.raises(CorruptFileError, match="not a snapshot"):
        load(fs)
    fs.write_bytes("/d/dump.kvs", good[:6] + b"\x00\x09" + good[8:])
    with pytest.raises(CorruptFileError, match="version 9"):
        load(fs)


def test_implausible_record_length_is_rejected_before_reading(fs):
    write_snapshot(fs)
    good = fs.read_bytes("/d/dump.kvs")
    bad = good[: HEADER.size] + RECORD_HEADER.pack(2, 0xFFFFFFFF, 0) + good[HEADER.size + 9 :]
    fs.write_bytes("/d/dump.kvs", bad)
    with pytest.raises(CorruptFileError, match="implausible") as info:
        load(fs)
    assert info.value.offset == HEADER.size


def test_key_payload_decoding_rejects_every_cut_and_extension():
    from stores.kv.persistence.snapshot_reader import _Short, decode_key_payload
    from stores.kv.persistence.snapshot_writer import encode_key_payload

    for db, key, commands in KEYS:
        payload = encode_key_payload(db, key, commands)
        assert decode_key_payload(payload) == (db, key, commands)
        for cut in range(len(payload)):
            with pytest.raises(_Short):
                decode_key_payload(payload[:cut])
        with pytest.raises(_Short):
            decode_key_payload(payload + b"\x00")
