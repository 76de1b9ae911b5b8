"""Server commands: PING, ECHO, TIME, INFO, CONFIG, SLOWLOG, COMMAND, the save family."""

from tests.stores.kv.compat import error_of


def test_ping_echo_time(r):
    assert r.ping() is True
    assert r.echo("hi") == b"hi"
    seconds, micros = r.time()
    assert seconds > 1_600_000_000 and 0 <= micros < 1_000_000


def test_info_sections_and_fields(r):
    r.set("a", "1")
    r.set("b", "2", ex=100)
    info = r.info()
    for field in (
        "redis_version",
        "connected_clients",
        "used_memory",
        "used_memory_human",
        "maxmemory_policy",
        "total_commands_processed",
        "keyspace_hits",
        "keyspace_misses",
        "expired_keys",
        "evicted_keys",
    ):
        assert field in info, field
    assert info["db0"]["keys"] == 2 and info["db0"]["expires"] == 1
    assert set(r.info("keyspace")) == {"db0"}
    memory = r.info("memory")
    assert memory["maxmemory"] == 0 and memory["used_memory"] > 0
    assert "rdb_last_save_time" in r.info("persistence")
    assert "role" in r.info("replication")


def test_config_get_set(r):
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_set("maxmemory", "1mb") is True
    assert r.config_get("maxmemory") == {"maxmemory": "1048576"}
    assert r.config_set("maxmemory-policy", "allkeys-lru") is True
    assert r.config_get("maxmemory-p*") == {"maxmemory-policy": "allkeys-lru"}
    assert set(r.config_get("maxmemory*")) >= {"maxmemory", "maxmemory-policy", "maxmemory-samples"}
    assert r.config_get("appendfsync") == {"appendfsync": "everysec"}
    assert r.config_get("nonexistent-param") == {}
    assert error_of(r.config_set, "maxmemory", "lots") == (
        "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    )
    assert (
        error_of(r.config_set, "no-such-thing", "1")
        == "Unknown option or number of arguments for CONFIG SET - 'no-such-thing'"
    )
    r.config_set("maxmemory", 0)
    r.config_set("maxmemory-policy", "noeviction")


def test_slowlog(r):
    assert r.slowlog_reset() is True
    r.config_set("slowlog-log-slower-than", 0)
    r.set("a", "1")
    assert r.slowlog_len() >= 1
    entries = r.slowlog_get(5)
    assert entries and all({"id", "start_time", "duration", "command"} <= set(e) for e in entries)
    r.config_set("slowlog-log-slower-than", 10000)
    assert r.slowlog_reset() is True
    assert r.slowlog_len() == 0
    assert (
        error_of(r.execute_command, "SLOWLOG", "NOPE")
        == "unknown subcommand 'NOPE'. Try SLOWLOG HELP."
    )


def test_command_count_info(r):
    assert r.command_count() > 100
    info = r.command()
    assert "get" in info and info["get"]["arity"] == 2
    assert info["set"]["arity"] == -3
    assert info["get"]["first_key_pos"] == 1


def test_save_family(r):
    assert r.save() is True
    assert isinstance(r.lastsave().year, int)
    assert r.dbsize() == 0


def raw(r, *args):
    """Run a COMMAND subcommand without redis-py's COMMAND callback."""
    saved = r.response_callbacks.pop("COMMAND", None)
    try:
        return r.execute_command(*args)
    finally:
        if saved is not None:
            r.response_callbacks["COMMAND"] = saved


def test_command_docs_and_getkeys(r):
    docs = raw(r, "COMMAND", "DOCS", "get")
    if isinstance(docs, dict):
        assert b"summary" in docs[b"get"]
    else:
        assert docs[0] == b"get" and b"summary" in docs[1]
    assert raw(r, "COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == [b"a", b"b"]
    assert raw(r, "COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "x", "y") == [b"d", b"x", b"y"]
    assert error_of(raw, r, "COMMAND", "GETKEYS", "PING", "x") == "The command has no key arguments"
    assert error_of(raw, r, "COMMAND", "GETKEYS", "NOPE", "x") == "Invalid command specified"
    assert (
        error_of(raw, r, "COMMAND", "GETKEYS", "GET", "a", "b")
        == "Invalid number of arguments specified for command"
    )
    assert (
        error_of(raw, r, "COMMAND", "GETKEYS", "GET")
        == "wrong number of arguments for 'command|getkeys' command"
    )
    assert raw(r, "COMMAND", "INFO", "get", "nosuchcommand")[1] is None


def test_bgsave_and_bgrewriteaof_reply(r):
    assert r.lastsave()
    assert r.config_get("slowlog-max-len") == {"slowlog-max-len": "128"}
    assert (
        error_of(r.execute_command, "CONFIG", "GET")
        == "wrong number of arguments for 'config|get' command"
    )
    assert (
        error_of(r.execute_command, "CONFIG", "FOO") == "unknown subcommand 'FOO'. Try CONFIG HELP."
    )
