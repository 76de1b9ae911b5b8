"""Compaction policies as pure functions of the SSTable set.

Owns size-tiered (Cassandra's STCS defaults: min_threshold 4, max_threshold
32, bucket_low 0.5, bucket_high 1.5, min_sstable_size 50 MiB) and
time-window (TWCS: windows by max timestamp, STCS inside the newest window,
one SSTable per older window, fully expired SSTables dropped whole). Input
is a list of SSTableInfo, output a CompactionTask or None; never does I/O
or reads the clock, so it can be unit-tested and simulated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MiB = 1024 * 1024

STCS_DEFAULTS = {
    "min_threshold": 4,
    "max_threshold": 32,
    "bucket_low": 0.5,
    "bucket_high": 1.5,
    "min_sstable_size": 50 * MiB,
}
TIME_UNITS = {"MINUTES": 60, "HOURS": 3600, "DAYS": 86400}


@dataclass(frozen=True, slots=True)
class SSTableInfo:
    """What a policy may know about an SSTable."""

    generation: int
    size: int
    min_timestamp: int
    max_timestamp: int
    max_local_deletion_time: int
    min_token: int | None = None
    max_token: int | None = None


@dataclass(frozen=True, slots=True)
class CompactionTask:
    """Merge ``inputs`` into new SSTables; drop ``expired`` SSTables whole."""

    inputs: tuple[int, ...]
    reason: str
    expired: tuple[int, ...] = field(default=())


def _option(options: dict[str, Any], name: str, default):
    value = options.get(name, default)
    return type(default)(value)


def size_tiered_buckets(
    sstables: list[SSTableInfo], options: dict[str, Any] | None = None
) -> list[list[SSTableInfo]]:
    """Group SSTables of similar size, as Cassandra's STCS does."""
    options = options or {}
    low = _option(options, "bucket_low", STCS_DEFAULTS["bucket_low"])
    high = _option(options, "bucket_high", STCS_DEFAULTS["bucket_high"])
    min_size = _option(options, "min_sstable_size", STCS_DEFAULTS["min_sstable_size"])
    buckets: list[tuple[float, list[SSTableInfo]]] = []
    for info in sorted(sstables, key=lambda s: (s.size, s.generation)):
        for index, (average, members) in enumerate(buckets):
            if (average * low < info.size < average * high) or (
                info.size < min_size and average < min_size
            ):
                members.append(info)
                buckets[index] = (sum(m.size for m in members) / len(members), members)
                break
        else:
            buckets.append((float(info.size), [info]))
    return [members for _, members in buckets]


def size_tiered_task(
    sstables: list[SSTableInfo], options: dict[str, Any] | None = None
) -> CompactionTask | None:
    """Return the STCS task: the most interesting bucket with >= min_threshold SSTables."""
    options = options or {}
    min_threshold = _option(options, "min_threshold", STCS_DEFAULTS["min_threshold"])
    max_threshold = _option(options, "max_threshold", STCS_DEFAULTS["max_threshold"])
    if min_threshold < 2 or max_threshold < min_threshold:
        return None
    best: list[SSTableInfo] | None = None
    for bucket in size_tiered_buckets(sstables, options):
        if len(bucket) < min_threshold:
            continue
        # Without read-hotness figures, prefer the bucket of smallest SSTables:
        # it is the cheapest to compact and removes the most files per byte.
        trimmed = sorted(bucket, key=lambda s: (s.size, s.generation))[:max_threshold]
        average = sum(s.size for s in trimmed) / len(trimmed)
        if best is None or average < sum(s.size for s in best) / len(best):
            best = trimmed
    if best is None:
        return None
    return CompactionTask(tuple(sorted(s.generation for s in best)), "size-tiered bucket")


def fully_expired(
    sstables: list[SSTableInfo], gc_before: int, memtable_min_timestamp: int | None = None
) -> list[SSTableInfo]:
    """Return SSTables holding only data expired before ``gc_before`` and shadowing nothing.

    As Cassandra does: every cell's and tombstone's deletion time is before
    gc_before, and the SSTable's newest timestamp is older than the oldest
    timestamp of every other live SSTable (and memtable) it overlaps.
    """
    candidates = [s for s in sstables if s.max_local_deletion_time < gc_before]
    result = []
    for candidate in candidates:
        others = [s for s in sstables if s not in candidates]
        oldest_other = min((s.min_timestamp for s in others), default=2**63 - 1)
        if memtable_min_timestamp is not None:
            oldest_other = min(oldest_other, memtable_min_timestamp)
        if candidate.max_timestamp < oldest_other:
            result.append(candidate)
    return result


def time_window_of(timestamp_us: int, window_seconds: int) -> int:
    """Return the start (seconds) of the window holding ``timestamp_us``."""
    seconds = timestamp_us // 1_000_000
    return seconds - seconds % window_seconds


def time_window_task(
    sstables: list[SSTableInfo],
    options: dict[str, Any],
    *,
    now: int,
    gc_grace_seconds: int,
    memtable_min_timestamp: int | None = None,
) -> CompactionTask | None:
    """Return the TWCS task for ``sstables`` at time ``now`` (seconds)."""
    expired = fully_expired(sstables, now - gc_grace_seconds, memtable_min_timestamp)
    if expired:
        generations = tuple(sorted(s.generation for s in expired))
        return CompactionTask((), "fully expired SSTables", generations)
    unit = str(options.get("compaction_window_unit", "DAYS")).upper()
    size = int(options.get("compaction_window_size", 1))
    window = TIME_UNITS.get(unit, 86400) * max(1, size)
    windows: dict[int, list[SSTableInfo]] = {}
    for info in sstables:
        windows.setdefault(time_window_of(info.max_timestamp, window), []).append(info)
    if not windows:
        return None
    newest = max(windows)
    for start in sorted(windows, reverse=True):
        members = windows[start]
        if start == newest:
            task = size_tiered_task(members, options)
            if task is not None:
                return CompactionTask(task.inputs, f"time window {start} (size-tiered)")
        elif len(members) >= 2:
            max_threshold = int(options.get("max_threshold", 32))
            chosen = sorted(members, key=lambda s: s.generation)[:max_threshold]
            return CompactionTask(
                tuple(s.generation for s in chosen), f"time window {start} (major)"
            )
    return None


def next_task(
    sstables: list[SSTableInfo],
    compaction: dict[str, Any],
    *,
    now: int,
    gc_grace_seconds: int,
    memtable_min_timestamp: int | None = None,
) -> CompactionTask | None:
    """Return the next task for a table's SSTables under its compaction options."""
    strategy = str(compaction.get("class", "SizeTieredCompactionStrategy")).rsplit(".", 1)[-1]
    if str(compaction.get("enabled", "true")).lower() == "false":
        return None
    if strategy == "TimeWindowCompactionStrategy":
        return time_window_task(
            sstables,
            compaction,
            now=now,
            gc_grace_seconds=gc_grace_seconds,
            memtable_min_timestamp=memtable_min_timestamp,
        )
    expired = fully_expired(sstables, now - gc_grace_seconds, memtable_min_timestamp)
    if expired:
        return CompactionTask(
            (), "fully expired SSTables", tuple(sorted(s.generation for s in expired))
        )
    return size_tiered_task(sstables, compaction)
