"""Persistence under the real engine, through stores.kv.connect and its client."""

import gc
import time
import weakref

import pytest

import stores.kv
from stores.kv.engine import Engine
from stores.kv.persistence import CorruptFileError, DataDirectoryLockedError

NOW_MS = 1_800_000_000_000


def clock():
    return NOW_MS


def connect(directory, **options):
    options.setdefault("background", False)
    options.setdefault("clock", clock)
    return stores.kv.connect(str(directory), **options)


def populate(client):
    client.set("s", "value")
    client.set("ttl", "soon", px=50_000)
    client.set("bin", b"\x00\xff\r\n")
    client.incrbyfloat("f", 1.25)
    client.hset("h", mapping={f"f{i}": i for i in range(200)})
    client.rpush("l", *[f"item{i}" for i in range(150)], "")
    client.sadd("st", *range(100))
    client.zadd("z", {f"m{i}": i / 3 for i in range(130)} | {"neg": -1.5, "inf": float("inf")})
    client.pexpire("h", 90_000)
    client.execute_command("SELECT", 5)
    client.set("db5", "x")
    client.expire("db5", 1000)
    client.execute_command("SELECT", 0)
    with client.pipeline(transaction=True) as pipe:
        pipe.incr("counter").incr("counter").lpush("l", "front")
        pipe.execute()


def dataset(client):
    """Return every key's recreating commands; set members compared as sets."""
    engine: Engine = client.engine
    out = {}
    for db, keyspace in enumerate(engine.databases):
        for key in keyspace.keys():
            commands = engine.dump_key(db, key)
            members = frozenset(m for argv in commands if argv[0] == b"SADD" for m in argv[2:])
            rest = [argv for argv in commands if argv[0] != b"SADD"]
            out[(db, key)] = (members, rest)
    return out


@pytest.mark.parametrize("appendfsync", ["always", "everysec", "no"])
def test_every_type_with_ttls_survives_a_restart_through_the_aof(tmp_path, appendfsync):
    client = connect(tmp_path, appendonly=True, appendfsync=appendfsync)
    populate(client)
    expected = dataset(client)
    assert any(argv[0] == b"PEXPIREAT" for _, rest in expected.values() for argv in rest)
    client.close()
    again = connect(tmp_path, appendonly=True)
    assert dataset(again) == expected
    assert again.pttl("ttl") == 50_000
    again.close()


def test_every_type_with_ttls_survives_a_snapshot(tmp_path):
    client = connect(tmp_path, appendonly=False)
    populate(client)
    expected = dataset(client)
    assert client.save() is True
    assert client.lastsave()
    client.close()
    again = connect(tmp_path, appendonly=False)
    assert dataset(again) == expected
    again.close()


def test_rewrite_while_writes_continue_equals_the_live_data(tmp_path):
    client = connect(tmp_path, appendonly=True, appendfsync="everysec")
    for i in range(3000):
        client.set(f"k{i}", i)
    persistence = client.engine.persistence
    assert client.bgrewriteaof() is True
    for i in range(3000):
        if i % 3 == 0:
            client.delete(f"k{i}")
        elif i % 3 == 1:
            client.append(f"k{i}", "+")
        else:
            client.zadd("scores", {f"m{i}": i})
        if i == 1500:
            client.flushdb()
    assert persistence.wait_for_jobs(60)
    assert persistence.info()["aof_rewrites"] >= 1
    expected = dataset(client)
    client.close()
    again = connect(tmp_path, appendonly=True)
    assert dataset(again) == expected
    again.close()


def test_commands_and_info_through_the_client(tmp_path):
    client = connect(tmp_path, appendonly=True)
    client.set("a", "1")
    info = client.info("persistence")
    assert info["aof_enabled"] == 1
    assert info["rdb_changes_since_last_save"] == 1
    assert info["aof_current_size"] > 0
    persistence = client.engine.persistence
    persistence._job = "rewrite"
    try:
        with pytest.raises(Exception, match="^Background append only file rewriting already"):
            client.bgrewriteaof()
    finally:
        persistence._job = None
    client.close()


def test_config_set_appendonly_creates_the_aof(tmp_path):
    client = connect(tmp_path, appendonly=False, save="")
    client.set("a", "1")
    client.config_set("appendonly", "yes")
    assert client.engine.persistence.wait_for_jobs(30)
    client.set("b", "2")
    client.config_set("appendfsync", "always")
    assert client.engine.persistence.config.appendfsync == "always"
    client.close()
    assert (tmp_path / "appendonlydir" / "appendonly.aof.manifest").exists()
    again = connect(tmp_path, appendonly=True)
    assert again.mget("a", "b") == [b"1", b"2"]
    again.close()


def test_second_connect_to_the_same_directory_is_refused(tmp_path):
    client = connect(tmp_path, appendonly=True)
    with pytest.raises(DataDirectoryLockedError, match="locked by process"):
        connect(tmp_path, appendonly=True)
    client.close()
    connect(tmp_path, appendonly=True).close()


def test_corrupt_aof_stops_connect_with_file_and_offset(tmp_path):
    client = connect(tmp_path, appendonly=True)
    client.set("a", "1")
    client.set("b", "2")
    client.close()
    incr = next((tmp_path / "appendonlydir").glob("*.incr.aof"))
    data = bytearray(incr.read_bytes())
    offset = data.index(b"$1\r\nb")
    data[offset + 1] = ord("x")
    incr.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError) as info:
        connect(tmp_path, appendonly=True)
    assert info.value.path == str(incr) and info.value.offset == offset


def test_wrongtype_in_the_aof_is_corruption(tmp_path):
    client = connect(tmp_path, appendonly=True)
    client.set("a", "1")
    client.close()
    incr = next((tmp_path / "appendonlydir").glob("*.incr.aof"))
    incr.write_bytes(incr.read_bytes() + b"*3\r\n$5\r\nLPUSH\r\n$1\r\na\r\n$1\r\nx\r\n")
    with pytest.raises(CorruptFileError, match="WRONGTYPE"):
        connect(tmp_path, appendonly=True)


def test_transaction_across_databases_replays_into_the_right_ones(tmp_path):
    client = connect(tmp_path, appendonly=True, appendfsync="always")
    session = client.engine.new_session()
    for argv in (
        [b"SELECT", b"1"],
        [b"MULTI"],
        [b"SET", b"a", b"1"],
        [b"SELECT", b"2"],
        [b"SET", b"b", b"2"],
        [b"SWAPDB", b"2", b"3"],
        [b"EXEC"],
        [b"SET", b"c", b"3"],
    ):
        session.execute(argv)
    expected = dataset(client)
    assert set(expected) == {(1, b"a"), (3, b"b"), (2, b"c")}
    client.close()
    again = connect(tmp_path, appendonly=True)
    assert dataset(again) == expected
    again.close()


def test_an_engine_dropped_without_close_frees_its_directory(tmp_path):
    client = connect(tmp_path, appendonly=True, appendfsync="always", background=True)
    client.set("kept", "yes")
    engine_ref = weakref.ref(client.engine)
    del client
    for _ in range(200):  # the background threads hold the engine only briefly
        gc.collect()
        if engine_ref() is None:
            break
        time.sleep(0.01)
    assert engine_ref() is None
    again = connect(tmp_path, appendonly=True)  # the lock went with it
    assert again.get("kept") == b"yes"
    again.close()


def test_after_command_is_skipped_only_while_the_mapped_file_has_nothing_to_do(
    tmp_path, monkeypatch
):
    import errno

    from stores.kv.persistence import hooks, mapped_tail

    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    client = connect(tmp_path, appendonly=True, appendfsync="everysec")
    p = client.engine.persistence
    writer = p._writer
    assert writer._mapped and p.after_command is hooks._no_aof
    client.config_set("appendfsync", "always")
    assert p.after_command == writer.after_command  # fsync before each reply
    client.config_set("appendfsync", "everysec")
    assert p.after_command is hooks._no_aof

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    real = mapped_tail.os.posix_fallocate
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    with pytest.raises(Exception, match="MISCONF"):
        client.set("big", "x" * 10_000)  # needs a bigger window: the disk refuses
    assert p.after_command == writer.after_command and p.write_error
    with pytest.raises(Exception, match="MISCONF"):
        client.set("other", "y")  # refused while the backlog waits
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real)
    p.cron()  # the once-a-second retry
    assert p.write_error is None and p.after_command is hooks._no_aof
    client.set("after", "z")
    client.close()
    client = connect(tmp_path, appendonly=True)
    assert client.get("big") == b"x" * 10_000 and client.get("after") == b"z"
    assert client.get("other") is None
    client.close()
