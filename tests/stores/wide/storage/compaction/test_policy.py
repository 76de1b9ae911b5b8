"""Compaction policies are pure functions: tested and simulated without I/O."""

import random

from stores.wide.storage.cells import NO_DELETION
from stores.wide.storage.compaction.policy import (
    MiB,
    SSTableInfo,
    fully_expired,
    next_task,
    size_tiered_buckets,
    size_tiered_task,
    time_window_task,
)

STCS = {"class": "SizeTieredCompactionStrategy"}
HOUR_US = 3600 * 1_000_000


def info(generation, size, min_ts=0, max_ts=0, max_ldt=NO_DELETION):
    return SSTableInfo(generation, size, min_ts, max_ts, max_ldt)


def test_small_sstables_share_one_bucket_below_min_sstable_size():
    tables = [info(i, (i + 1) * MiB) for i in range(10)]
    assert len(size_tiered_buckets(tables)) == 1


def test_large_sstables_bucket_by_half_to_one_and_a_half_times_the_average():
    tables = [info(1, 100 * MiB), info(2, 120 * MiB), info(3, 1000 * MiB), info(4, 1100 * MiB)]
    buckets = size_tiered_buckets(tables)
    assert sorted(sorted(s.generation for s in b) for b in buckets) == [[1, 2], [3, 4]]


def test_min_threshold_four_by_default():
    tables = [info(i, 100 * MiB + i) for i in range(3)]
    assert size_tiered_task(tables) is None
    tables.append(info(9, 100 * MiB))
    assert size_tiered_task(tables).inputs == (0, 1, 2, 9)


def test_max_threshold_caps_a_task_and_options_override_defaults():
    tables = [info(i, MiB) for i in range(40)]
    assert len(size_tiered_task(tables).inputs) == 32
    assert len(size_tiered_task(tables, {"max_threshold": "8"}).inputs) == 8
    assert size_tiered_task(tables[:5], {"min_threshold": 6}) is None


def test_the_smallest_eligible_bucket_goes_first():
    small = [info(i, MiB) for i in range(4)]
    large = [info(10 + i, 500 * MiB) for i in range(4)]
    assert size_tiered_task(small + large).inputs == (0, 1, 2, 3)


def test_fully_expired_requires_gc_grace_and_no_newer_overlap():
    expired = info(1, MiB, min_ts=10, max_ts=20, max_ldt=100)
    older_live = info(2, MiB, min_ts=5, max_ts=50)
    newer_live = info(3, MiB, min_ts=30, max_ts=50)
    assert fully_expired([expired, newer_live], gc_before=101) == [expired]
    assert fully_expired([expired, newer_live], gc_before=100) == []
    # Dropping it could resurrect older data it shadows elsewhere.
    assert fully_expired([expired, older_live], gc_before=101) == []
    assert fully_expired([expired], gc_before=101, memtable_min_timestamp=15) == []


def test_time_window_compacts_older_windows_whole_and_newest_size_tiered():
    window = {
        "class": "TimeWindowCompactionStrategy",
        "compaction_window_unit": "HOURS",
        "compaction_window_size": 1,
    }
    old = [info(i, MiB, i * 10, 5 * HOUR_US + i) for i in range(2)]
    new = [info(10 + i, MiB, 10 * HOUR_US, 10 * HOUR_US + i) for i in range(3)]
    task = time_window_task(old + new, window, now=11 * 3600, gc_grace_seconds=0)
    assert task.inputs == (0, 1) and "major" in task.reason
    # Three SSTables in the newest window are below min_threshold.
    assert time_window_task(new, window, now=11 * 3600, gc_grace_seconds=0) is None
    newer = new + [info(20, MiB, 10 * HOUR_US, 10 * HOUR_US + 9)]
    assert time_window_task(newer, window, now=11 * 3600, gc_grace_seconds=0).inputs == (
        10,
        11,
        12,
        20,
    )


def test_time_window_drops_fully_expired_sstables_whole():
    window = {"class": "TimeWindowCompactionStrategy"}
    expired = info(1, MiB, 0, 10, max_ldt=1000)
    live = info(2, MiB, 20, 30)
    task = next_task([expired, live], window, now=2000, gc_grace_seconds=500)
    assert task.inputs == () and task.expired == (1,)


def test_disabled_compaction_returns_nothing():
    tables = [info(i, MiB) for i in range(10)]
    assert next_task(tables, {**STCS, "enabled": "false"}, now=0, gc_grace_seconds=0) is None


def test_simulated_flushes_keep_the_sstable_count_logarithmic():
    """Flush 1 MiB SSTables and apply the policy; the live set stays small.

    min_sstable_size 0 gives pure size tiers, whose write amplification is
    about log4 of the data size over the flush size (log4(500) ~ 4.5).
    """
    options = {**STCS, "min_sstable_size": 0}
    rng = random.Random(7)
    live: list[SSTableInfo] = []
    generation = 0
    written = 0
    for _ in range(500):
        generation += 1
        live.append(info(generation, MiB + rng.randrange(1000)))
        while (task := next_task(live, options, now=0, gc_grace_seconds=0)) is not None:
            chosen = [s for s in live if s.generation in task.inputs]
            live = [s for s in live if s.generation not in task.inputs]
            generation += 1
            size = sum(s.size for s in chosen)
            written += size
            live.append(info(generation, size))
        assert len(live) < 4 + 3 * 8
    # Each byte is rewritten a handful of times, not once per flush.
    assert written / (500 * MiB) < 6
