"""INFO persistence: Redis 7's field names and order."""

from stores.kv.persistence import PersistenceConfig, open_persistence
from stores.kv.persistence.fs import FaultInjectingFileSystem
from tests.stores.kv.persistence.dict_engine import DictEngine

REDIS_7_ORDER = [
    "loading",
    "async_loading",
    "current_cow_peak",
    "current_cow_size",
    "current_cow_size_age",
    "current_fork_perc",
    "current_save_keys_processed",
    "current_save_keys_total",
    "rdb_changes_since_last_save",
    "rdb_bgsave_in_progress",
    "rdb_last_save_time",
    "rdb_last_bgsave_status",
    "rdb_last_bgsave_time_sec",
    "rdb_current_bgsave_time_sec",
    "rdb_saves",
    "rdb_last_cow_size",
    "rdb_last_load_keys_expired",
    "rdb_last_load_keys_loaded",
    "aof_enabled",
    "aof_rewrite_in_progress",
    "aof_rewrite_scheduled",
    "aof_last_rewrite_time_sec",
    "aof_current_rewrite_time_sec",
    "aof_last_bgrewrite_status",
    "aof_rewrites",
    "aof_rewrites_consecutive_failures",
    "aof_last_write_status",
    "aof_last_cow_size",
    "module_fork_in_progress",
    "module_fork_last_cow_size",
]
AOF_ONLY = [
    "aof_current_size",
    "aof_base_size",
    "aof_pending_rewrite",
    "aof_buffer_length",
    "aof_pending_bio_fsync",
    "aof_delayed_fsync",
]


def open_with(appendonly):
    fs = FaultInjectingFileSystem()
    config = PersistenceConfig(appendonly=appendonly, save="", background_threads=False)
    engine = DictEngine()
    return engine, open_persistence(engine, "/d", config, fs=fs)


def test_fields_and_order_with_the_aof_off():
    _, p = open_with(False)
    assert list(p.info()) == REDIS_7_ORDER
    p.close()


def test_fields_and_values_with_the_aof_on():
    engine, p = open_with(True)
    engine.execute(0, [b"SET", b"a", b"1"])
    engine.execute(0, [b"DEL", b"a"])
    info = p.info()
    assert list(info) == REDIS_7_ORDER + AOF_ONLY
    assert info["aof_enabled"] == 1
    assert info["rdb_changes_since_last_save"] == 2
    assert info["aof_rewrite_in_progress"] == 0 and info["rdb_bgsave_in_progress"] == 0
    assert info["aof_current_size"] == info["aof_base_size"] + fs_size_of_incr(p)
    p.close()


def fs_size_of_incr(p):
    name = p.manifest.incrs[-1][0]
    return p.fs.size(f"/d/appendonlydir/{name}")
