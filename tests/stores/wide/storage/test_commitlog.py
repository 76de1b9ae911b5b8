"""Commit log: framing, replay, torn tails, corruption, group commit, discard."""

import threading
import time
import uuid

import pytest

from stores.wide.storage.commitlog import CommitLog, list_segments, replay_segment
from stores.wide.storage.errors import CorruptionError, StorageError
from stores.wide.storage.format import COMMITLOG_HEADER
from stores.wide.storage.fs import MemoryFileSystem, OSFileSystem

TABLE = uuid.uuid4()


def make_log(fs, **options):
    fs.makedirs("/log")
    options.setdefault("sync_mode", "batch")
    return CommitLog(fs, "/log", **options)


def replay_all(fs):
    segments = list_segments(fs, "/log")
    payloads = []
    for index, (sid, path) in enumerate(segments):
        last = index == len(segments) - 1
        payloads += [p for _, p in replay_segment(fs, sid, path, last=last)]
    return payloads


def test_append_sync_and_replay_after_crash():
    fs = MemoryFileSystem()
    log = make_log(fs)
    positions = []
    for i in range(10):
        positions.append(log.append(b"record-%d" % i, {TABLE}))
        log.wait_synced(positions[-1])
    assert positions == sorted(positions)
    assert replay_all(fs.crash()) == [b"record-%d" % i for i in range(10)]
    log.close()


def test_unsynced_records_are_lost_in_a_power_cut():
    fs = MemoryFileSystem()
    log = make_log(fs, sync_mode="periodic", sync_period_ms=60_000)
    log.append(b"acked-but-unsynced", {TABLE})
    assert replay_all(fs.crash()) == []
    log.sync()
    assert replay_all(fs.crash()) == [b"acked-but-unsynced"]
    log.close()


def test_torn_tail_ends_replay_quietly():
    fs = MemoryFileSystem()
    log = make_log(fs, segment_size=4096)
    log.wait_synced(log.append(b"first", {TABLE}))
    log.append(b"second record that is torn" * 10, {TABLE})
    for seed in range(20):
        replayed = replay_all(fs.crash(torn=True, seed=seed))
        assert replayed[0] == b"first"
        assert len(replayed) <= 2
    log.close()


def test_flipped_byte_in_the_middle_is_reported_with_file_and_offset():
    fs = MemoryFileSystem()
    log = make_log(fs)
    for i in range(3):
        log.wait_synced(log.append(b"payload-%d" % i, {TABLE}))
    log.close()
    ((sid, path),) = list_segments(fs, "/log")
    first_record = COMMITLOG_HEADER.size
    fs.corrupt(path, first_record + 13)  # inside the first payload
    with pytest.raises(CorruptionError) as info:
        list(replay_segment(fs, sid, path, last=True))
    assert info.value.path == path
    assert info.value.offset == first_record


def test_flipped_length_byte_is_detected_too():
    fs = MemoryFileSystem()
    log = make_log(fs)
    for i in range(3):
        log.wait_synced(log.append(b"payload-%d" % i, {TABLE}))
    log.close()
    ((sid, path),) = list_segments(fs, "/log")
    fs.corrupt(path, COMMITLOG_HEADER.size + 5)  # a length byte
    with pytest.raises(CorruptionError):
        list(replay_segment(fs, sid, path, last=True))


def test_damage_in_an_earlier_segment_is_corruption_not_a_torn_tail():
    fs = MemoryFileSystem()
    log = make_log(fs, segment_size=64)
    for i in range(6):
        log.wait_synced(log.append(b"p" * 30 + b"%d" % i, {TABLE}))
    log.close()
    segments = list_segments(fs, "/log")
    assert len(segments) >= 3
    sid, path = segments[0]
    size = fs.file_size(path)
    fs.corrupt(path, size - 1)
    with pytest.raises(CorruptionError):
        list(replay_segment(fs, sid, path, last=False))


def test_segments_roll_and_discard_only_when_clean():
    fs = MemoryFileSystem()
    log = make_log(fs, segment_size=64)
    other = uuid.uuid4()
    log.append(b"x" * 40, {TABLE})
    log.append(b"y" * 40, {other})
    log.append(b"z" * 40, {TABLE})
    assert len(log.segments) == 3
    removed = log.discard_segments(lambda sid, tables: other not in tables)
    assert removed == [1]
    assert sorted(log.segments) == [2, 3]
    log.close()


class SlowSyncFileSystem(MemoryFileSystem):
    """fsync takes a while, as on a real disk, so writers pile up behind it."""

    def create_mapped(self, path, size):
        handle = super().create_mapped(path, size)
        real_sync = handle.sync

        def slow_sync():
            time.sleep(0.002)
            real_sync()

        handle.sync = slow_sync
        return handle


def test_group_commit_shares_fsyncs_between_concurrent_writers():
    fs = SlowSyncFileSystem()
    log = make_log(fs)
    barrier = threading.Barrier(8)

    def writer(n):
        barrier.wait()
        for i in range(50):
            log.wait_synced(log.append(b"w%d-%d" % (n, i), {TABLE}))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(replay_all(fs.crash())) == 400
    # Every write waited for an fsync covering it, yet writers shared them.
    assert 0 < log.syncs < 400
    log.close()


def test_unknown_sync_mode_is_rejected():
    with pytest.raises(StorageError):
        make_log(MemoryFileSystem(), sync_mode="sometimes")


def test_segments_rolling_under_a_busy_periodic_sync_lose_nothing(tmp_path):
    fs = OSFileSystem()
    directory = str(tmp_path)
    log = CommitLog(fs, directory, sync_mode="periodic", sync_period_ms=1, segment_size=300)

    def writer(n):
        for i in range(400):
            log.append(b"w%d-%d" % (n, i), {TABLE})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    segments = list_segments(fs, directory)
    assert len(segments) > 10
    payloads = []
    for index, (sid, path) in enumerate(segments):
        payloads += [p for _, p in replay_segment(fs, sid, path, last=index == len(segments) - 1)]
    assert sorted(payloads) == sorted(b"w%d-%d" % (n, i) for n in range(2) for i in range(400))
