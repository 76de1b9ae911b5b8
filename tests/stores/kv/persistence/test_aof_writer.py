"""The AOF writer: Redis's RESP encoding, SELECT tracking and each fsync mode."""

import errno
import threading

import pytest

from stores.kv.persistence import aof_writer, mapped_tail
from stores.kv.persistence.aof_writer import (
    AppendOnlyWriter,
    encode_body,
    encode_command,
    encode_command_python,
)
from stores.kv.persistence.errors import PersistenceError
from stores.kv.persistence.fs import FaultInjectingFileSystem, RealFileSystem


@pytest.fixture
def mem():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    return fs


def new_writer(fs, mode):
    file = fs.create("/d/a.aof")
    file.fsync()
    fs.fsync_dir("/d")
    return AppendOnlyWriter(file, mode)


def test_encoding_is_redis_resp():
    assert encode_command([b"SET", b"k", b"v"]) == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
    assert (
        encode_command([b"SET", b"", b"a\r\nb"]) == b"*3\r\n$3\r\nSET\r\n$0\r\n\r\n$4\r\na\r\nb\r\n"
    )


@pytest.mark.parametrize(
    "argv",
    [
        [b"INCR", b"counter"],
        [b"incr", b""],
        [b"LPUSH", b"list:1", b"value"],
        [b"HSET", b"hash", b"field:1", b"value"],
        [b"HSET", b"h", b"f", b"v" * 5000],  # longer than the cached length prefixes
        [b"SET", b"k" * 1023, b"v" * 1024],
        [b"ZINCRBY", b"board", b"1", b"member:7"],
        [b"FLUSHALL"],
        [b"MULTI"],
        [b"exec"],
        [b"X" * 2000],  # a one-argument name past the cached length prefixes
        [b"DEL", b"a", b"b", b"c", b"d"],
        [b"SET", bytearray(b"k"), memoryview(b"vv")],
        [bytearray(b"SET"), b"k", b"v"],
        [b"SET", b"a\r\nb", b"\x00\xff"],
    ],
)
def test_encode_body_is_the_command_without_its_first_byte(argv):
    expected = encode_command_python([bytes(arg) for arg in argv])
    assert b"*" + encode_body(argv) == expected
    assert b"*" + encode_body(argv) == expected  # the second time from the name cache


def test_encode_body_name_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(aof_writer, "_NAME_HEADS", {})
    for i in range(aof_writer._NAME_HEADS_LIMIT + 50):
        name = b"CMD%d" % i
        assert b"*" + encode_body([name, b"k"]) == encode_command_python([name, b"k"])
    assert len(aof_writer._NAME_HEADS) == aof_writer._NAME_HEADS_LIMIT


def test_select_is_written_when_the_database_changes(mem):
    writer = new_writer(mem, "no")
    writer.append(0, [b"SET", b"a", b"1"])
    writer.append(0, [b"SET", b"b", b"2"])
    writer.append(3, [b"DEL", b"a"])
    writer.after_command()
    assert mem.read_bytes("/d/a.aof") == (
        encode_command([b"SELECT", b"0"])
        + encode_command([b"SET", b"a", b"1"])
        + encode_command([b"SET", b"b", b"2"])
        + encode_command([b"SELECT", b"3"])
        + encode_command([b"DEL", b"a"])
    )
    writer.close()


def test_always_makes_the_command_durable_before_returning(mem):
    writer = new_writer(mem, "always")
    for i in range(20):
        writer.append(0, [b"SET", b"k%d" % i, b"v"])
        writer.after_command()
        mem.crash()
        mem.reboot()
        assert mem.read_bytes("/d/a.aof").endswith(encode_command([b"SET", b"k%d" % i, b"v"]))
        writer = AppendOnlyWriter(mem.open_append("/d/a.aof"), "always")


def test_no_writes_to_the_kernel_but_never_fsyncs(mem):
    writer = new_writer(mem, "no")
    writer.append(0, [b"SET", b"k", b"v"])
    writer.after_command()
    assert mem.read_bytes("/d/a.aof").endswith(b"$1\r\nv\r\n")
    mem.reboot()
    assert mem.read_bytes("/d/a.aof") == b""


def test_everysec_fsyncs_from_its_background_thread(mem, monkeypatch):
    monkeypatch.setattr(aof_writer, "EVERYSEC_INTERVAL", 0.01)
    writer = new_writer(mem, "everysec")
    synced = threading.Event()
    file = writer._file
    original = file.fsync

    def fsync_and_signal():
        original()
        synced.set()

    file.fsync = fsync_and_signal
    writer.append(0, [b"SET", b"k", b"v"])
    writer.after_command()
    assert mem.read_bytes("/d/a.aof").endswith(b"$1\r\nv\r\n")
    assert synced.wait(10)
    writer.close()
    mem.reboot()
    assert mem.read_bytes("/d/a.aof").endswith(b"$1\r\nv\r\n")


def test_close_flushes_and_fsyncs(mem):
    writer = new_writer(mem, "no")
    writer.append(0, [b"SET", b"k", b"v"])
    writer.close()
    mem.reboot()
    assert mem.read_bytes("/d/a.aof").endswith(b"$1\r\nv\r\n")


def test_switching_modes(mem):
    writer = new_writer(mem, "no")
    writer.append(0, [b"SET", b"k", b"v"])
    writer.set_fsync_mode("always")
    mem.reboot()
    assert mem.read_bytes("/d/a.aof").endswith(b"$1\r\nv\r\n")
    with pytest.raises(PersistenceError, match="appendfsync"):
        writer.set_fsync_mode("sometimes")


def test_group_commit_under_many_threads(tmp_path):
    fs = RealFileSystem()
    writer = AppendOnlyWriter(fs.create(str(tmp_path / "a.aof")), "always")
    lock = threading.Lock()

    def work(n):
        for i in range(50):
            with lock:  # the engine lock
                writer.append(0, [b"SET", b"t%d-%d" % (n, i), b"v"])
                mine = writer._appended_total()
            writer.after_command()
            assert writer._synced >= mine

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    data = (tmp_path / "a.aof").read_bytes()
    assert all(b"t%d-%d" % (n, i) in data for n in range(4) for i in range(50))
    assert data.count(b"SELECT") == 1


def test_write_error_is_reported_and_retried_without_duplicates(mem):
    writer = new_writer(mem, "always")
    file = writer._file
    real_write = file.write

    def half_then_fail(data):
        real_write(bytes(data[: len(data) // 2]))
        exc = OSError(28, "No space left on device")
        exc.landed = len(data) // 2
        raise exc

    file.write = half_then_fail
    writer.append(0, [b"SET", b"k", b"v"])
    with pytest.raises(PersistenceError, match="MISCONF.*No space left"):
        writer.after_command()
    assert writer.last_write_error and writer.buffer_length() > 0
    file.write = real_write
    writer.append(0, [b"SET", b"k2", b"v2"])
    writer.after_command()
    assert writer.last_write_error is None and writer.buffer_length() == 0
    mem.reboot()
    assert mem.read_bytes("/d/a.aof") == (
        encode_command([b"SELECT", b"0"])
        + encode_command([b"SET", b"k", b"v"])
        + encode_command([b"SET", b"k2", b"v2"])
    )


def test_fsync_error_is_misconf(mem):
    writer = new_writer(mem, "always")

    def failing():
        raise OSError(5, "Input/output error")

    writer._file.fsync = failing
    writer.append(0, [b"SET", b"k", b"v"])
    with pytest.raises(PersistenceError, match="MISCONF"):
        writer.after_command()


def test_encoders_agree_on_every_shape():
    for count in (1, 2, 16, 17, 100):
        argv = [b"a%d\r\n" % i * (i % 3) for i in range(count)]
        expected = b"*%d\r\n" % count + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in argv)
        assert encode_command(argv) == expected
        assert encode_command_python(argv) == expected
    assert encode_command([b"SET", bytearray(b"k"), memoryview(b"v")]) == encode_command(
        [b"SET", b"k", b"v"]
    )


def test_append_only_buffers_and_after_command_writes_once(mem):
    writer = new_writer(mem, "no")
    file = writer._file
    writes = []
    real_write = file.write

    def counting_write(data):
        writes.append(bytes(data))
        real_write(data)

    file.write = counting_write
    for i in range(10):
        writer.append(0, [b"SET", b"k%d" % i, b"v"])
    assert writes == [] and mem.read_bytes("/d/a.aof") == b""
    assert writer.buffer_length() > 0
    writer.after_command()
    assert len(writes) == 1 and writer.buffer_length() == 0
    writer.after_command()  # nothing new: no empty write
    assert len(writes) == 1
    assert mem.read_bytes("/d/a.aof").count(b"SET") == 10
    writer.close()


def test_always_makes_a_whole_batch_durable_with_one_fsync(mem):
    writer = new_writer(mem, "always")
    file = writer._file
    fsyncs = []
    real_fsync = file.fsync

    def counting_fsync():
        fsyncs.append(1)
        real_fsync()

    file.fsync = counting_fsync
    for i in range(16):
        writer.append(0, [b"SET", b"k%d" % i, b"v"])
    writer.after_command()  # once for the batch, before its replies
    assert len(fsyncs) == 1
    mem.crash()
    mem.reboot()
    assert mem.read_bytes("/d/a.aof").count(b"SET") == 16


def test_buffered_commands_go_to_the_old_file_on_switch(mem):
    writer = new_writer(mem, "no")
    writer.append(0, [b"SET", b"before", b"v"])
    old = writer.switch_file(mem.create("/d/b.aof"))
    old.close()
    writer.append(0, [b"SET", b"after", b"v"])
    writer.after_command()
    assert b"before" in mem.read_bytes("/d/a.aof") and b"after" not in mem.read_bytes("/d/a.aof")
    assert mem.read_bytes("/d/b.aof") == encode_command([b"SELECT", b"0"]) + encode_command(
        [b"SET", b"after", b"v"]
    )
    writer.close()


def test_everysec_thread_writes_what_no_reply_waited_for(mem, monkeypatch):
    monkeypatch.setattr(aof_writer, "EVERYSEC_INTERVAL", 0.01)
    writer = new_writer(mem, "everysec")
    writer.append(0, [b"DEL", b"expired"])  # an expiry: no after_command follows
    for _ in range(1000):
        if writer._synced >= writer._appended_total():
            break
        threading.Event().wait(0.01)
    writer.close()
    mem.crash()
    mem.reboot()
    assert mem.read_bytes("/d/a.aof").endswith(encode_command([b"DEL", b"expired"]))


def real_writer(tmp_path, mode, **kwargs):
    fs = RealFileSystem()
    path = tmp_path / "a.aof"
    return AppendOnlyWriter(fs.create(str(path)), mode, **kwargs), path


def test_a_mapped_file_has_the_command_when_append_returns(tmp_path):
    writer, path = real_writer(tmp_path, "no")
    assert writer._mapped
    writer.append(0, [b"SET", b"k", b"v"])
    expected = encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"k", b"v"])
    data = path.read_bytes()  # another reader of the page cache: no write() was needed
    assert data.startswith(expected) and data[len(expected) :].count(0) == len(data) - len(expected)
    assert writer.file_size() == len(expected) and writer.buffer_length() == 0
    writer.after_command()
    writer.close()
    assert path.read_bytes() == expected  # the padding is cut on close


def test_a_mapped_file_grows_window_by_window(tmp_path, monkeypatch):

    monkeypatch.setattr(mapped_tail, "WINDOW", 8192)
    writer, path = real_writer(tmp_path, "everysec")
    commands = [[b"SET", b"k%d" % i, b"v" * (i % 300)] for i in range(500)]
    for argv in commands:
        writer.append(0, argv)
    writer.append(0, [b"SET", b"big", b"x" * 50000])  # larger than a window
    writer.close()
    assert path.read_bytes() == (
        encode_command([b"SELECT", b"0"])
        + b"".join(encode_command(argv) for argv in commands)
        + encode_command([b"SET", b"big", b"x" * 50000])
    )


def test_a_mapped_file_on_a_full_disk_is_misconf_then_catches_up_in_order(tmp_path, monkeypatch):

    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    writer, path = real_writer(tmp_path, "no")
    writer.append(0, [b"SET", b"first", b"v"])
    real_fallocate = mapped_tail.os.posix_fallocate

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    writer.append(0, [b"SET", b"big", b"x" * 5000])  # needs a bigger window: refused
    with pytest.raises(PersistenceError, match="MISCONF.*No space"):
        writer.after_command()
    writer.append(1, [b"SET", b"later", b"v"])  # queued behind, never ahead
    assert writer.last_write_error and writer.buffer_length() > 0
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real_fallocate)
    writer.flush(sync=False)  # the cron's retry (engine lock held)
    assert writer.last_write_error is None and writer.buffer_length() == 0
    writer.after_command()
    writer.close()
    assert path.read_bytes() == (
        encode_command([b"SELECT", b"0"])
        + encode_command([b"SET", b"first", b"v"])
        + encode_command([b"SET", b"big", b"x" * 5000])
        + encode_command([b"SELECT", b"1"])
        + encode_command([b"SET", b"later", b"v"])
    )


def test_switching_a_mapped_file_cuts_the_old_ones_padding(tmp_path):
    fs = RealFileSystem()
    writer, path = real_writer(tmp_path, "everysec")
    writer.append(0, [b"SET", b"before", b"v"])
    old = writer.switch_file(fs.create(str(tmp_path / "b.aof")))
    old.close()
    expected_old = encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"before", b"v"])
    assert path.read_bytes() == expected_old and old.size() == len(expected_old)
    writer.append(0, [b"SET", b"after", b"v"])
    writer.close()
    assert (tmp_path / "b.aof").read_bytes() == encode_command([b"SELECT", b"0"]) + encode_command(
        [b"SET", b"after", b"v"]
    )


def test_always_fsyncs_a_mapped_file_before_the_reply(tmp_path, monkeypatch):

    synced = []
    real = mapped_tail._fsync
    monkeypatch.setattr(mapped_tail, "_fsync", lambda fd: (synced.append(fd), real(fd)))
    writer, _ = real_writer(tmp_path, "always")
    writer.append(0, [b"SET", b"k", b"v"])
    assert synced == []
    writer.after_command()
    assert len(synced) == 1
    writer.after_command()  # nothing new
    assert len(synced) == 1
    writer.close()


def test_mapping_can_be_turned_off(tmp_path):
    writer, path = real_writer(tmp_path, "no", mapped=False)
    assert not writer._mapped
    writer.append(0, [b"SET", b"k", b"v"])
    assert path.read_bytes() == b""
    writer.after_command()
    assert path.read_bytes().endswith(encode_command([b"SET", b"k", b"v"]))
    writer.close()


SHAPES = [
    [b"INCR", b"counter"],
    [b"LPUSH", b"list:1", b"value"],
    [b"HSET", b"hash", b"field:1", b"value"],
    [b"ZINCRBY", b"board", b"1", b"member:7"],
    [b"hset", b"h", b"f" * 3000, b"v"],
    [b"SET", b"k", b"v" * 70000],
    [b"DEL", b"a", b"b", b"c", b"d", b"e"],
    [b"FLUSHALL"],
    [b"SET", bytearray(b"k"), memoryview(b"v")],
    [b"UNSEEN-NAME", b"k"],
]


@pytest.mark.parametrize("mapped", [True, False])
def test_append_writes_every_command_shape_as_the_reference_encoder(tmp_path, mem, mapped):
    if mapped:
        writer, path = real_writer(tmp_path, "no")
        assert writer._mapped
    else:
        writer = new_writer(mem, "no")
    for argv in SHAPES * 2:  # the second time each name is cached
        writer.append(0, argv)
    writer.after_command()
    writer.close()
    data = path.read_bytes() if mapped else mem.read_bytes("/d/a.aof")
    expected = encode_command([b"SELECT", b"0"]) + b"".join(
        encode_command_python([bytes(arg) for arg in argv]) for argv in SHAPES * 2
    )
    assert data == expected


class Changes:
    """What the fast lane counts into (Persistence in the engine)."""

    changes_since_save = 0


def test_the_lane_writes_every_shape_as_append_does_and_counts_each(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped_tail, "WINDOW", 8192)  # several window moves on the way
    writer, path = real_writer(tmp_path, "no")
    changes = Changes()
    log = writer.lane(changes)
    commands = []
    for i in range(300):
        for argv in SHAPES:
            commands.append((i % 3 // 2, argv))  # a database change now and then
    for db, argv in commands:
        log(db, argv)
    writer.close()
    expected = []
    last_db = None
    for db, argv in commands:
        if db != last_db:
            expected.append(encode_command([b"SELECT", b"%d" % db]))
            last_db = db
        expected.append(encode_command_python([bytes(arg) for arg in argv]))
    assert path.read_bytes() == b"".join(expected)
    assert changes.changes_since_save == len(commands)


def test_the_lane_and_append_interleave_in_order(tmp_path):
    writer, path = real_writer(tmp_path, "no")
    log = writer.lane(Changes())
    log(0, [b"SET", b"a", b"1"])
    writer.append(0, [b"SET", b"b", b"2"])
    log(0, [b"LPUSH", b"l", b"x"])
    writer.append(2, [b"DEL", b"a"])
    log(2, [b"INCR", b"n"])
    writer.close()
    assert path.read_bytes() == b"".join(
        encode_command(argv)
        for argv in (
            [b"SELECT", b"0"],
            [b"SET", b"a", b"1"],
            [b"SET", b"b", b"2"],
            [b"LPUSH", b"l", b"x"],
            [b"SELECT", b"2"],
            [b"DEL", b"a"],
            [b"INCR", b"n"],
        )
    )


def test_the_lane_on_a_full_disk_goes_through_append_and_reports_it(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    writer, path = real_writer(tmp_path, "no")
    changed = []
    writer.on_state_change = lambda: changed.append(writer.needs_after_command)
    log = writer.lane(Changes())
    log(0, [b"SET", b"first", b"v"])
    assert changed == []
    real_fallocate = mapped_tail.os.posix_fallocate

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    log(0, [b"SET", b"big", b"x" * 5000])  # past the window: refused, kept in the backlog
    assert changed == [True] and writer.buffer_length() > 0
    with pytest.raises(PersistenceError, match="MISCONF"):
        writer.after_command()
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real_fallocate)
    writer.flush(sync=False)
    assert changed[-1] is False
    log(0, [b"SET", b"after", b"v"])
    writer.close()
    assert path.read_bytes() == b"".join(
        encode_command(argv)
        for argv in (
            [b"SELECT", b"0"],
            [b"SET", b"first", b"v"],
            [b"SET", b"big", b"x" * 5000],
            [b"SET", b"after", b"v"],
        )
    )


def test_the_fsync_thread_sees_what_the_lane_appended(tmp_path, monkeypatch):
    synced = []
    real = mapped_tail._fsync
    monkeypatch.setattr(mapped_tail, "_fsync", lambda fd: (synced.append(fd), real(fd)))
    monkeypatch.setattr(aof_writer, "EVERYSEC_INTERVAL", 0.01)
    writer, _ = real_writer(tmp_path, "everysec")
    writer.append(0, [b"SET", b"a", b"1"])  # the SELECT and a first command
    log = writer.lane(Changes())
    for _ in range(1000):
        if writer._synced >= writer._written_total():
            break
        threading.Event().wait(0.01)
    before = len(synced)
    log(0, [b"SET", b"b", b"2"])  # moves only the logical end
    assert writer._written_total() == writer._appended_total() > writer._synced
    for _ in range(1000):
        if writer._synced >= writer._written_total():
            break
        threading.Event().wait(0.01)
    assert writer._synced == writer._written_total() and len(synced) > before
    writer.close()


def test_byte_counts_go_on_across_files(tmp_path):
    fs = RealFileSystem()
    writer, _ = real_writer(tmp_path, "always")
    log = writer.lane(Changes())
    writer.append(0, [b"SET", b"a", b"1"])
    log(0, [b"SET", b"b", b"2"])
    writer.after_command()
    first = writer._written_total()
    assert (
        first
        == writer._synced
        == len(
            encode_command([b"SELECT", b"0"])
            + encode_command([b"SET", b"a", b"1"])
            + encode_command([b"SET", b"b", b"2"])
        )
    )
    writer.switch_file(fs.create(str(tmp_path / "b.aof"))).close()
    assert writer._written_total() == first
    log(0, [b"SET", b"c", b"3"])  # a SELECT first in the new file, through append
    writer.after_command()
    assert (
        writer._synced
        == writer._written_total()
        == first + len(encode_command([b"SELECT", b"0"]) + encode_command([b"SET", b"c", b"3"]))
    )
    writer.close()


def blocks(rng_seed: int) -> list[tuple[int, list[list[bytes]]]]:
    """Return transaction blocks (database, MULTI ... EXEC) of every shape, some long."""
    import random

    rng = random.Random(rng_seed)
    out = []
    for i in range(200):
        inner = [rng.choice(SHAPES) for _ in range(rng.randint(0, 6))]
        if i % 17 == 0:
            inner.append([b"SET", b"big", b"x" * rng.choice([3000, 9000])])  # past a window
        out.append((rng.choice([0, 0, 0, 1]), [[b"MULTI"], *inner, [b"EXEC"]]))
    return out


@pytest.mark.parametrize("mapped", [True, False])
def test_a_block_is_the_bytes_of_its_commands_appended_one_by_one(tmp_path, monkeypatch, mapped):
    monkeypatch.setattr(mapped_tail, "WINDOW", 8192)  # window moves inside blocks
    (tmp_path / "block").mkdir()
    (tmp_path / "each").mkdir()
    block_writer, block_path = real_writer(tmp_path / "block", "no", mapped=mapped)
    each_writer, each_path = real_writer(tmp_path / "each", "no", mapped=mapped)
    assert block_writer._mapped is mapped
    for db, commands in blocks(1):
        block_writer.append_block(db, commands)
        for argv in commands:
            each_writer.append(db, argv)
        block_writer.after_command()
        each_writer.after_command()
    block_writer.close()
    each_writer.close()
    assert block_path.read_bytes() == each_path.read_bytes()
    assert block_writer._written_total() == each_writer._written_total()


def test_a_block_on_a_full_disk_waits_in_the_backlog_and_catches_up_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    writer, path = real_writer(tmp_path, "no")
    real_fallocate = mapped_tail.os.posix_fallocate

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    writer.append(0, [b"SET", b"a", b"1"])
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    block = [[b"MULTI"], [b"SET", b"k", b"v" * 5000], [b"EXEC"]]
    writer.append_block(0, block)
    assert writer.last_write_error
    writer.append_block(0, [[b"MULTI"], [b"INCR", b"n"], [b"EXEC"]])  # behind the backlog
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real_fallocate)
    writer.append(0, [b"SET", b"b", b"2"])
    assert not writer.last_write_error
    writer.close()
    expected = [[b"SELECT", b"0"], [b"SET", b"a", b"1"], *block]
    expected += [[b"MULTI"], [b"INCR", b"n"], [b"EXEC"], [b"SET", b"b", b"2"]]
    assert path.read_bytes() == b"".join(encode_command(argv) for argv in expected)
