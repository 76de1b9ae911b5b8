"""The in-process client: connect options, redis-py shapes, pipelines, close."""

import pytest
import redis

import stores.kv
from stores.kv.client import Client


def test_connect_memory_and_options():
    client = stores.kv.connect(
        "memory:", maxmemory="1mb", maxmemory_policy="allkeys-lru", decode_responses=True
    )
    assert client.config_get("maxmemory") == {"maxmemory": "1048576"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    client.set("k", "v")
    assert client.get("k") == "v"
    client.close()
    assert client.engine.closed


def test_connect_db_option():
    client = stores.kv.connect("memory:", db=3)
    client.set("k", "v")
    assert client.engine.databases[3].data == {b"k": b"v"}
    client.close()


def test_bad_engine_option_is_a_clear_error():
    from stores.kv.errors import ConfigError

    with pytest.raises(ConfigError, match="memory value"):
        stores.kv.connect("memory:", maxmemory="lots")
    with pytest.raises(ConfigError, match="Unknown option"):
        stores.kv.connect("memory:", no_such_option=1)


def test_argument_encoding_matches_redis_py(kv):
    kv.set("int", 5)
    kv.set("float", 2.5)
    kv.set(b"bytes", bytearray(b"ba"))
    kv.set("mv", memoryview(b"mem"))
    assert kv.mget("int", "float", "bytes", "mv") == [b"5", b"2.5", b"ba", b"mem"]
    with pytest.raises(redis.exceptions.DataError):
        kv.set("bool", True)
    with pytest.raises(redis.exceptions.DataError):
        kv.set("obj", object())


def test_error_classes_are_redis_pys(kv):
    kv.set("s", "v")
    with pytest.raises(redis.exceptions.ResponseError):
        kv.lpush("s", "x")
    kv.config_set("maxmemory", 1)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        kv.set("more", "x" * 100)


def test_clients_share_an_engine(kv):
    other = Client(kv.engine)
    kv.set("shared", "1")
    assert other.get("shared") == b"1"
    other.close()
    assert kv.get("shared") == b"1"


def test_pipeline_context_and_reuse(kv):
    with kv.pipeline(transaction=False) as pipe:
        pipe.set("a", 1)
        pipe.get("a")
        assert pipe.execute() == [True, b"1"]
        pipe.incr("a")
        assert pipe.execute() == [2]
        assert pipe.execute() == []


def test_hot_paths_agree_with_the_generic_path(kv):
    kv.zadd("z", {"a": 1, "b": 2})
    generic = redis.commands.core.CoreCommands
    assert kv.zrevrange("z", 0, -1, withscores=True) == generic.zrevrange(
        kv, "z", 0, -1, withscores=True
    )
    assert kv.zrevrange("z", 0, -1) == generic.zrevrange(kv, "z", 0, -1)
    assert kv.zrevrange("z", 0, -1, withscores=True, score_cast_func=int) == [(b"b", 2), (b"a", 1)]
    assert kv.get("missing") == generic.get(kv, "missing")
    assert kv.incr("n", 5) == 5
    assert kv.hset("h", "f", "v") == 1
    assert kv.lpush("l", "a", "b") == 2
    assert kv.zincrby("z", 0.5, "a") == 1.5
    with pytest.raises(redis.exceptions.ResponseError):
        kv.zincrby("h", 1, "a")


def test_directory_target_uses_persistence_or_fails_clearly(tmp_path):
    import importlib.util

    if importlib.util.find_spec("stores.kv.persistence") is None:
        with pytest.raises(RuntimeError, match="persistence is not available"):
            stores.kv.connect(str(tmp_path))
        return
    client = stores.kv.connect(str(tmp_path), appendonly=True)
    client.set("k", "v")
    client.close()


def test_unread_pubsub_messages_are_bounded(kv):
    p = kv.pubsub()
    p.max_pending = 100
    p.subscribe("ch")
    for i in range(150):
        kv.publish("ch", i)
    assert len(p._messages) <= 100
    with pytest.raises(redis.exceptions.ConnectionError):
        p.get_message()
    assert kv.publish("ch", "x") == 0


def test_hot_paths_inside_a_raw_multi_behave_like_redis_py(kv):
    assert kv.execute_command("MULTI") == b"OK"
    assert kv.get("a") == b"QUEUED"
    assert kv.incr("n") == b"QUEUED"
    assert kv.lpush("l", "x") == b"QUEUED"
    assert kv.execute_command("EXEC") == [None, 1, 1]


def test_pipelines_dropped_without_close_do_not_leak_sessions(kv):
    import gc

    before = len(kv.engine.sessions)
    for _ in range(200):
        pipe = kv.pipeline()
        pipe.set("a", 1)
        pipe.execute()
    del pipe
    gc.collect()
    assert len(kv.engine.sessions) <= before + 1


class _CountingPersistence:
    """Counts after_command calls; fails them while ``failing`` is set."""

    enabled = True
    rewriting = False
    write_error = None

    def __init__(self):
        self.after_commands = 0
        self.propagated = []
        self.failing = False

    def propagate(self, db, argv):
        self.propagated.append(argv)

    def before_write(self, db, keys):
        pass

    def after_command(self):
        from stores.kv.persistence.errors import PersistenceError

        self.after_commands += 1
        if self.failing:
            raise PersistenceError(
                "MISCONF Errors writing to the AOF file: No space left on device"
            )

    def close(self):
        pass


@pytest.mark.parametrize("transaction", [False, True])
def test_a_pipeline_flushes_persistence_once_per_batch(transaction):
    client = stores.kv.connect("memory:")
    recorder = _CountingPersistence()
    client.engine.set_persistence(recorder)
    with client.pipeline(transaction=transaction) as pipe:
        for i in range(10):
            pipe.set(f"k{i}", "v")
        pipe.incr("n")
        assert pipe.execute() == [True] * 10 + [1]
    assert recorder.after_commands == 1
    assert len([argv for argv in recorder.propagated if argv[0] == b"SET"]) == 10
    client.set("one", "more")  # a lone command still flushes itself
    assert recorder.after_commands == 2
    client.close()


@pytest.mark.parametrize("transaction", [False, True])
def test_a_pipeline_whose_flush_fails_acknowledges_nothing(transaction):
    client = stores.kv.connect("memory:")
    recorder = _CountingPersistence()
    client.engine.set_persistence(recorder)
    recorder.failing = True
    pipe = client.pipeline(transaction=transaction)
    pipe.set("a", "1")
    pipe.get("a")
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        pipe.execute()
    if not transaction:
        pipe.set("a", "1")
        pipe.get("a")
        results = pipe.execute(raise_on_error=False)
        assert len(results) == 2
        assert all(isinstance(r, redis.ResponseError) and "MISCONF" in str(r) for r in results)
    recorder.failing = False
    assert not client.session.batching and not pipe.session.batching
    client.close()


def test_hot_paths_encode_integer_arguments_as_redis_py_does(kv):
    sent = []
    run = kv._run
    kv._run = lambda argv, *cmd: (sent.append(argv), run(argv, *cmd))[1]
    kv.zadd("z", {"a": 1})
    generic = redis.commands.core.CoreCommands
    for amount in (1, -1, 0, 10_000, 10_001, -1025, 2**62):
        kv.zincrby("z", amount, "a")
        generic.zincrby(kv, "z", amount, "a")
        assert sent[-2] == sent[-1], amount
    for start, end in ((0, 9), (-1, -1), (5, 20_000), (0, "3"), ("0", 1)):
        assert kv.zrevrange("z", start, end) == generic.zrevrange(kv, "z", start, end)
        assert sent[-2] == sent[-1], (start, end)
    with pytest.raises(redis.exceptions.DataError):
        kv.zincrby("z", True, "a")  # redis-py refuses bools
    kv._run = run


@pytest.mark.parametrize("decode", [False, True])
def test_a_transaction_gives_doubles_as_the_generic_path(decode):
    # MULTI/EXEC replies that are doubles skip _finish when redis-py's own
    # callback would only parse them back: the values must be the same.
    kv = stores.kv.connect("memory:", background=False, decode_responses=decode)
    increments = [1, -1, 0.1, 1e-17, 2.5, -0.0, 1e308, 1e308, 1]  # the last two stay inf
    pipe = kv.pipeline(transaction=True)
    for increment in increments:
        pipe.zincrby("z", increment, "m")
        pipe.zincrby("w", increment, "n")
    pipe.zscore("z", "m")
    pipe.zadd("y", {"a": -0.0})
    pipe.zincrby("y", -0.0, "a")
    piped = pipe.execute()
    kv.delete("z", "w", "y")
    one_by_one = []
    for increment in increments:
        one_by_one.append(kv.execute_command("ZINCRBY", "z", increment, "m"))
        one_by_one.append(kv.execute_command("ZINCRBY", "w", increment, "n"))
    one_by_one.append(kv.execute_command("ZSCORE", "z", "m"))
    one_by_one.append(kv.execute_command("ZADD", "y", -0.0, "a"))
    one_by_one.append(kv.execute_command("ZINCRBY", "y", -0.0, "a"))
    assert [repr(v) for v in piped] == [repr(v) for v in one_by_one]
    assert [type(v) for v in piped] == [type(v) for v in one_by_one]
    # A callback set by the caller still sees the reply as redis-py gives it.
    kv.set_response_callback("ZINCRBY", lambda response, **options: ("cb", response))
    pipe = kv.pipeline(transaction=True)
    pipe.zincrby("fresh", 1, "m")
    text = "1" if decode else b"1"
    assert pipe.execute() == [("cb", text)]
    kv.close()


def test_pipeline_argument_encoding_matches_the_client(kv):
    # The pipeline encodes queued commands itself (_argv): the same bytes as
    # redis-py's generic path for every argument type, and any command name.
    sent = []
    run = kv._run
    kv._run = lambda argv, *cmd: (sent.append(argv), run(argv, *cmd))[1]
    args = ("SET", "k", "é", 5, 2.5, b"b", bytearray(b"ba"), memoryview(b"mv"), -1, 2**70)
    with pytest.raises(redis.exceptions.ResponseError):
        kv.execute_command(*args)
    assert sent[-1] == [
        b"SET",
        b"k",
        "é".encode(),
        b"5",
        b"2.5",
        b"b",
        b"ba",
        b"mv",
        b"-1",
        b"%d" % 2**70,
    ]
    assert kv._argv(args) == sent[-1]
    assert kv._argv(("set", "k", "v")) == [b"set", b"k", b"v"]
    assert kv._argv(("CONFIG GET", "maxmemory")) == [b"CONFIG", b"GET", b"maxmemory"]
    assert kv._argv((b"GET", "k")) == [b"GET", b"k"]
    with pytest.raises(redis.exceptions.DataError):
        kv._argv(("SET", "k", True))  # redis-py refuses bools, which are ints too
    kv._run = run
    latin = stores.kv.connect("memory:", background=False, encoding="latin-1")
    assert latin._argv(("SET", "k", "é")) == [b"SET", b"k", "é".encode("latin-1")]
    latin.close()


def test_a_transaction_finds_callbacks_whatever_the_case_of_the_name(kv):
    kv.set_response_callback("incr", lambda response, **options: ("incr", response))
    pipe = kv.pipeline(transaction=True)
    pipe.execute_command("incr", "n")
    pipe.incr("n")
    pipe.execute_command("zincrby", "z", 1, "m")
    pipe.execute_command("ZScore", "z", "m")
    pipe.execute_command("expire", "n", 100)
    pipe.execute_command("INCRBYFLOAT", "f", 1.5)
    # redis-py sends incr() as INCRBY, whose callback is not the one set.
    assert pipe.execute() == [("incr", 1), 2, 1.0, 1.0, True, 1.5]


def test_a_pipelines_hot_methods_queue_what_redis_pys_methods_queue(kv):
    import datetime

    from redis.commands.core import CoreCommands

    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    calls = [
        ("zincrby", ("board", 1, "m"), {}),
        ("zincrby", (b"board", -7, b"m"), {}),
        ("zincrby", ("board", 2**70, "m"), {}),
        ("zincrby", ("board", 0.5, "m"), {}),  # not an int: redis-py's method
        ("incr", ("n",), {}),
        ("incr", (b"n", 12345), {}),
        ("hset", ("h", "f", "é"), {}),
        ("hset", ("h", b"f", 3), {}),  # an int value: redis-py's method
        ("hset", ("h",), {"mapping": {"a": "1"}}),
        ("expireat", ("k", when), {}),
        ("expireat", ("k", 1893456000), {}),
        ("expireat", ("k", 1893456000), {"gt": True}),
        ("expireat", ("k", 1893456000.5), {}),
    ]
    hot = kv.pipeline(transaction=True)
    generic = kv.pipeline(transaction=True)
    for name, args, kwargs in calls:
        assert getattr(hot, name)(*args, **kwargs) is hot
        getattr(CoreCommands, name)(generic, *args, **kwargs)
    assert hot.command_stack == generic.command_stack
    assert len(hot._encoded) == len(hot.command_stack)
    for (args, _), argv in zip(hot.command_stack, hot._encoded, strict=True):
        assert argv is None or argv == hot._argv(args), args
    assert sum(argv is not None for argv in hot._encoded) == 8
    generic.reset()
    hot.reset()
    assert hot._encoded == []
    kv.set("n", "1")
    # While WATCHing, before MULTI, a command runs at once and queues nothing.
    hot.watch("w")
    assert hot.incr("n") == 2
    assert hot.zincrby("board", 1, "m") == 1.0
    assert hot.command_stack == [] and hot._encoded == []
    hot.multi()
    hot.incr("n").zincrby("board", 1, "m").hset("h", "f", "v").expireat("board", when)
    assert hot.execute() == [3, 2.0, 1, True]
    assert kv.expiretime("board") == int(when.timestamp())
