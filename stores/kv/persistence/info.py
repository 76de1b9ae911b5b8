"""The INFO persistence section: Redis 7's field names, in Redis's order.

Owns the mapping from the Persistence object's state to INFO fields. The
copy-on-write and fork fields are 0: there is no fork. Never changes state.
"""

from __future__ import annotations

import time
from typing import Any


def persistence_info(p: Any) -> dict[str, int | str]:
    """Return the INFO persistence fields for Persistence ``p``."""
    now = time.time()
    job, started = p._job, p._job_started
    walk = p._walks[-1] if p._walks else None
    writer = p._writer
    fields: dict[str, int | str] = {
        "loading": 0,
        "async_loading": 0,
        "current_cow_peak": 0,
        "current_cow_size": 0,
        "current_cow_size_age": 0,
        "current_fork_perc": "0.00",
        "current_save_keys_processed": walk.keys_processed if walk else 0,
        "current_save_keys_total": walk.keys_total if walk else 0,
        "rdb_changes_since_last_save": p.changes_since_save,
        "rdb_bgsave_in_progress": int(job == "save"),
        "rdb_last_save_time": p.last_save_time,
        "rdb_last_bgsave_status": p.last_bgsave_status,
        "rdb_last_bgsave_time_sec": p.last_bgsave_seconds,
        "rdb_current_bgsave_time_sec": int(now - started) if job == "save" else -1,
        "rdb_saves": p.rdb_saves,
        "rdb_last_cow_size": 0,
        "rdb_last_load_keys_expired": 0,
        "rdb_last_load_keys_loaded": p.loaded_keys,
        "aof_enabled": int(p.aof_enabled),
        "aof_rewrite_in_progress": int(job == "rewrite"),
        "aof_rewrite_scheduled": int(p.rewrite_scheduled),
        "aof_last_rewrite_time_sec": p.last_rewrite_seconds,
        "aof_current_rewrite_time_sec": int(now - started) if job == "rewrite" else -1,
        "aof_last_bgrewrite_status": p.last_rewrite_status,
        "aof_rewrites": p.aof_rewrites,
        "aof_rewrites_consecutive_failures": p.aof_rewrite_failures,
        "aof_last_write_status": "err" if writer is not None and writer.last_write_error else "ok",
        "aof_last_cow_size": 0,
        "module_fork_in_progress": 0,
        "module_fork_last_cow_size": 0,
    }
    if writer is not None:
        fields["aof_current_size"] = p.aof_current_size()
        fields["aof_base_size"] = p.aof_base_size
        fields["aof_pending_rewrite"] = int(p.rewrite_scheduled)
        fields["aof_buffer_length"] = writer.buffer_length()
        fields["aof_pending_bio_fsync"] = 0
        fields["aof_delayed_fsync"] = 0
    return fields
