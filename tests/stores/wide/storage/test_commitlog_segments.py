"""Commit log segments on disk: preallocation, the zero tail, rollover, old segments."""

import os
import signal
import subprocess
import sys
import textwrap
import uuid
import zlib
from pathlib import Path

import pytest

from stores.wide.storage import commitlog as commitlog_module
from stores.wide.storage.commitlog import (
    CommitLog,
    encode_record,
    list_segments,
    replay_segment,
    segment_name,
)
from stores.wide.storage.errors import CorruptionError, EngineClosed, InvalidRequest
from stores.wide.storage.format import COMMITLOG_HEADER, COMMITLOG_MAGIC_V1, CRC, FRAME
from stores.wide.storage.fs import (
    FaultInjectingFileSystem,
    MemoryFileSystem,
    OSFileSystem,
    SimulatedCrash,
)

from .engine_support import put, setup

ROOT = Path(__file__).resolve().parents[4]
TABLE = uuid.uuid4()
SEGMENT = 64 * 1024


def replay(fs, directory):
    segments = list_segments(fs, directory)
    payloads = []
    for index, (sid, path) in enumerate(segments):
        last = index == len(segments) - 1
        payloads += [p for _, p in replay_segment(fs, sid, path, last=last)]
    return payloads


def test_segment_is_preallocated_and_replay_stops_at_its_zero_tail(tmp_path):
    fs = OSFileSystem()
    log = CommitLog(fs, str(tmp_path), sync_mode="batch", segment_size=SEGMENT)
    for i in range(3):
        log.wait_synced(log.append(b"record-%d" % i, {TABLE}))
    ((sid, path),) = list_segments(fs, str(tmp_path))
    # Allocated whole up front: appends never grow the file.
    assert os.path.getsize(path) == SEGMENT
    data = Path(path).read_bytes()
    assert data.endswith(bytes(SEGMENT // 2))
    # A zero tail is the clean end of any segment, last or not.
    for last in (True, False):
        assert [p for _, p in replay_segment(fs, sid, path, last=last)] == [
            b"record-%d" % i for i in range(3)
        ]
    log.close(sync=False)


def test_a_power_cut_keeps_the_allocated_size_and_drops_unsynced_records():
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="periodic", sync_period_ms=600_000, segment_size=SEGMENT)
    log.append(b"synced", {TABLE})
    log.sync()
    log.append(b"not synced", {TABLE})
    after = fs.crash()
    ((_, path),) = list_segments(after, "/log")
    assert after.file_size(path) == SEGMENT
    assert replay(after, "/log") == [b"synced"]
    log.close()


def torn_segment(tmp_path, keep_of_last: int):
    """Write four synced records, then cut the last one to its first bytes (zeros after)."""
    fs = OSFileSystem()
    log = CommitLog(fs, str(tmp_path), sync_mode="batch", segment_size=SEGMENT)
    payloads = [b"payload-%d-" % i + b"x" * 40 for i in range(4)]
    for payload in payloads:
        position = log.append(payload, {TABLE})
        log.wait_synced(position)
    log.close(sync=False)
    ((sid, path),) = list_segments(fs, str(tmp_path))
    raw = bytearray(Path(path).read_bytes())
    record = len(encode_record(payloads[-1]))
    start = position[1] - record
    raw[start + keep_of_last : position[1]] = bytes(record - keep_of_last)
    Path(path).write_bytes(bytes(raw))
    return fs, sid, path, payloads


@pytest.mark.parametrize("keep", [1, 4, 12, 30])
def test_torn_last_record_before_the_zero_tail_ends_replay_quietly(tmp_path, keep):
    fs, sid, path, payloads = torn_segment(tmp_path, keep)
    assert [p for _, p in replay_segment(fs, sid, path, last=True)] == payloads[:3]


def test_torn_record_in_an_earlier_segment_is_corruption(tmp_path):
    fs, sid, path, _ = torn_segment(tmp_path, 12)
    with pytest.raises(CorruptionError) as info:
        list(replay_segment(fs, sid, path, last=False))
    assert info.value.path == path


def test_corrupt_crc_mid_segment_raises_with_file_and_offset(tmp_path):
    fs = OSFileSystem()
    log = CommitLog(fs, str(tmp_path), sync_mode="batch", segment_size=SEGMENT)
    positions = [log.append(b"payload-%d" % i, {TABLE}) for i in range(5)]
    log.sync()
    log.close()
    ((sid, path),) = list_segments(fs, str(tmp_path))
    raw = bytearray(Path(path).read_bytes())
    second = positions[0][1]
    raw[positions[1][1] - 1] ^= 0x40  # the payload CRC of the second record
    Path(path).write_bytes(bytes(raw))
    replayed = []
    with pytest.raises(CorruptionError) as info:
        for _, payload in replay_segment(fs, sid, path, last=True):
            replayed.append(payload)
    assert replayed == [b"payload-0"]
    assert (info.value.path, info.value.offset) == (path, second)


def test_clean_close_cuts_the_zero_tail(tmp_path):
    fs = OSFileSystem()
    log = CommitLog(fs, str(tmp_path), sync_mode="periodic", segment_size=SEGMENT)
    log.append(b"a", {TABLE})
    end = log.append(b"b", {TABLE})
    log.close()
    ((_, path),) = list_segments(fs, str(tmp_path))
    assert os.path.getsize(path) == end[1]
    assert replay(fs, str(tmp_path)) == [b"a", b"b"]


def test_rollover_preallocates_each_segment_and_syncs_the_old_one_first():
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="periodic", sync_period_ms=600_000, segment_size=256)
    payloads = [b"%03d" % i + b"y" * 60 for i in range(12)]
    for payload in payloads:
        log.append(payload, {TABLE})
    segments = list_segments(fs, "/log")
    assert len(segments) > 3
    assert all(fs.file_size(path) == 256 for _, path in segments[:-1])
    # Never synced by the timer, yet every full segment is durable: rolling synced it.
    after = fs.crash()
    survived = replay(after, "/log")
    assert survived == payloads[: len(survived)]
    assert len(survived) >= len(payloads) - 3
    log.close()


def test_a_record_larger_than_a_segment_gets_a_segment_of_its_own():
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="batch", segment_size=128)
    big = b"B" * 1000
    first = log.append(big, {TABLE})  # the empty first segment is replaced by a bigger one
    assert first[0] == 1
    second = log.append(b"small", {TABLE})
    third = log.append(big, {TABLE})
    log.sync()
    assert (second[0], third[0]) == (2, 3)
    assert replay(fs.crash(), "/log") == [big, b"small", big]
    log.close()


def test_a_record_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(commitlog_module, "MAX_RECORD_SIZE", 100)
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="batch", segment_size=SEGMENT)
    with pytest.raises(InvalidRequest):
        log.append(b"z" * 101, {TABLE})
    log.wait_synced(log.append(b"fits", {TABLE}))
    assert replay(fs.crash(), "/log") == [b"fits"]
    log.close()


def test_a_waiter_on_a_killed_log_gets_an_error_not_a_hang():
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="batch", segment_size=SEGMENT)
    position = log.append(b"never synced", {TABLE})
    log.close(sync=False)
    with pytest.raises(EngineClosed):
        log.wait_synced(position)


def test_a_segment_that_cannot_be_created_stops_the_log():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/log")
    log = CommitLog(fs, "/log", sync_mode="batch", segment_size=128)
    log.wait_synced(log.append(b"a" * 60, {TABLE}))
    fs.arm(2)  # the old segment's sync at rollover, then creating the next one fails
    with pytest.raises(SimulatedCrash):
        log.append(b"b" * 60, {TABLE})
    with pytest.raises(EngineClosed):
        log.append(b"c", {TABLE})
    assert replay(fs.crash(), "/log") == [b"a" * 60]


def test_a_version_1_segment_written_before_preallocation_still_replays():
    fs = MemoryFileSystem()
    fs.makedirs("/log")
    head = COMMITLOG_MAGIC_V1 + (7).to_bytes(8, "big")
    data = [head + CRC.pack(zlib.crc32(head))]
    for payload in (b"old-1", b"old-2"):
        length = len(payload).to_bytes(4, "big")
        data += [FRAME.pack(len(payload), zlib.crc32(length)), payload]
        data.append(CRC.pack(zlib.crc32(payload)))
    handle = fs.create(f"/log/{segment_name(7)}")
    handle.write(b"".join(data) + b"\x01\x02")  # and a torn tail
    handle.sync()
    assert replay(fs, "/log") == [b"old-1", b"old-2"]
    assert COMMITLOG_HEADER.size == len(data[0])


def test_segments_are_discarded_only_after_their_data_is_flushed(tmp_path):
    from stores.wide.storage import StorageEngine

    directory = tmp_path / "db"
    engine = StorageEngine.open(
        str(directory), background=False, commitlog_segment_size=2048, commitlog_sync="batch"
    )
    setup(engine)
    for i in range(60):
        engine.apply(put(b"u%d" % (i % 3), b"%04d" % i, b"v" * 40, i + 1))
    before = engine.commitlog_info()["segments"]
    assert len(before) > 3
    engine.flush()
    after = engine.commitlog_info()
    assert after["segments"] == [after["active_segment"]]
    on_disk = sorted(p.name for p in (directory / "commitlog").iterdir())
    assert on_disk == [segment_name(after["active_segment"])]
    for i in range(60, 70):
        engine.apply(put(b"u0", b"%04d" % i, b"v" * 40, i + 1))
    engine.kill()
    reopened = StorageEngine.open(str(directory), background=False)
    rows = [r for p in reopened.scan("ks", "t") for r in p.rows]
    assert len(rows) == 70
    reopened.close()


WRITER = textwrap.dedent(
    """
    import sys, uuid
    sys.path.insert(0, {root!r})
    from stores.wide.storage.commitlog import CommitLog
    from stores.wide.storage.fs import OSFileSystem
    log = CommitLog(OSFileSystem(), {directory!r}, sync_mode="periodic",
                    sync_period_ms=600000, segment_size=1 << 20)
    table = uuid.uuid4()
    i = 0
    while True:
        log.append(b"record-%d" % i, {{table}})
        sys.stdout.write("%d\\n" % i)
        sys.stdout.flush()
        i += 1
    """
)


def test_sigkilled_periodic_writer_keeps_every_append_without_any_sync(tmp_path):
    script = WRITER.format(root=str(ROOT), directory=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    acked = -1
    try:
        for line in process.stdout:
            acked = int(line)
            if acked >= 2000:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert acked >= 2000, process.stderr.read()
    replayed = replay(OSFileSystem(), str(tmp_path))
    # The one segment was synced only when created, yet the page cache kept
    # every record copied into its mapping before the kill.
    assert replayed[: acked + 1] == [b"record-%d" % i for i in range(acked + 1)]
