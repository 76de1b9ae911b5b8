"""A transaction in one step (``run_transaction``) against MULTI, queuing and EXEC.

The in-process pipeline hands the engine a whole MULTI/EXEC transaction at
once. These tests run the same random transactions on two persisted
engines, one in one step and one through the three ``Session.execute``
steps, and require the same queue errors and EXEC replies, the same data,
the same counters and the same AOF bytes; then they compare redis-py's
results with a real redis-server and check what other clients must see
(WATCH, blocked waiters, OOM, the slow log) and when the one step declines.
"""

from __future__ import annotations

import random
import threading

import pytest
import redis

import stores.kv
import stores.kv.client
from stores.kv import transactions
from stores.kv.expiry import ManualClock
from stores.kv.replies import NULL_ARRAY, ErrorReply
from stores.kv.transactions import EXECABORT, run_transaction
from tests.stores.kv.test_fast_lane import contents, incr_files, persisted, random_command


def three_steps(session, argvs):
    """Return queue errors and EXEC's reply as MULTI, each command, EXEC give them."""
    errors = []
    with session.engine.lock:
        session.execute([b"MULTI"])
        for index, argv in enumerate(argvs):
            reply = session.execute(list(argv))
            if type(reply) is ErrorReply:
                errors.append((index, reply))
        return errors, session.execute([b"EXEC"])


def random_transaction(rng: random.Random) -> list[list[bytes]]:
    """Return 1-6 commands, now and then one that aborts the transaction at queuing."""
    argvs = [random_command(rng) for _ in range(rng.randint(1, 6))]
    roll = rng.random()
    if roll < 0.05:
        argvs.insert(rng.randrange(len(argvs) + 1), [b"NOSUCH", b"a"])
    elif roll < 0.1:
        argvs.insert(rng.randrange(len(argvs) + 1), [b"GET"])
    elif roll < 0.13:
        argvs.insert(rng.randrange(len(argvs) + 1), [b"HSET", b"h0", b"f"])
    elif roll < 0.2:
        argvs.append([b"EXPIREAT", b"z0", b"%d" % (2_000_000_000 + rng.randrange(100))])
    return argvs


def counters(client) -> tuple:
    stats = client.info("stats")
    return (
        stats["total_commands_processed"],
        stats["keyspace_hits"],
        stats["keyspace_misses"],
        stats["expired_keys"],
        client.info("persistence")["rdb_changes_since_last_save"],
    )


@pytest.mark.parametrize("seed", range(8))
def test_one_step_matches_three_steps(
    tmp_path, taken, handlers_without_fast_paths, monkeypatch, seed
):
    rng = random.Random(seed)
    clock = ManualClock()
    one = persisted(tmp_path / "one", clock)
    three = persisted(tmp_path / "three", clock)
    # The reference runs every queued command through its handler's own
    # code (no fast paths inside its EXEC, none shared by the handlers).
    lane_open = transactions._lane_open
    monkeypatch.setattr(
        transactions, "_lane_open", lambda engine: engine is not three.engine and lane_open(engine)
    )
    for step in range(150):
        argvs = random_transaction(rng)
        got = run_transaction(one.session, [list(a) for a in argvs])
        want = three_steps(three.session, argvs)
        assert got is not None
        assert got == want, (step, argvs)
        if rng.random() < 0.1:
            clock.advance(rng.choice([10, 100, 10_000]))
    assert contents(one.engine) == contents(three.engine)
    # Every counter but the commands processed: the three steps count the
    # INFO calls of this comparison on the same engines, in the same order.
    assert counters(one) == counters(three)
    assert one.session.db == three.session.db
    one.close()
    three.close()
    assert incr_files(tmp_path / "one") == incr_files(tmp_path / "three")
    assert min(taken.get(name, 0) for name in (b"INCR", b"LPUSH", b"HSET", b"ZINCRBY")) >= 1, taken
    assert sum(taken.values()) >= 50, taken


def test_one_step_leaves_an_aof_with_multi_exec_around_the_writes(tmp_path):
    client = persisted(tmp_path, ManualClock())
    pipe = client.pipeline(True)
    pipe.get("nothing").incr("n").expireat("n", 2_000_000_000).hset("h", "f", "v")
    assert pipe.execute() == [None, 1, True, 1]
    pipe.get("n").get("nothing")
    assert pipe.execute() == [b"1", None]  # no write: nothing logged
    client.close()
    assert incr_files(tmp_path).endswith(
        b"*1\r\n$5\r\nMULTI\r\n"
        b"*3\r\n$6\r\nINCRBY\r\n$1\r\nn\r\n$1\r\n1\r\n"
        b"*3\r\n$9\r\nPEXPIREAT\r\n$1\r\nn\r\n$13\r\n2000000000000\r\n"
        b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"
        b"*1\r\n$4\r\nEXEC\r\n"
    )


def test_the_leaderboard_transaction_matches_real_redis(r):
    def view():
        pipe = r.pipeline(transaction=True)
        pipe.zincrby("leaderboard:views:all", 1, "post-1")
        pipe.zincrby("leaderboard:views:day:2026-11-26", 1, "post-1")
        pipe.expireat("leaderboard:views:day:2026-11-26", 2_000_000_000)
        pipe.hset("leaderboard:titles", "post-1", "A title")
        pipe.incr("leaderboard:version")
        return pipe.execute()

    assert view() == [1.0, 1.0, True, 1, 1]
    assert view() == [2.0, 2.0, True, 0, 2]
    assert r.zrevrange("leaderboard:views:all", 0, 9, withscores=True) == [(b"post-1", 2.0)]
    assert r.ttl("leaderboard:views:day:2026-11-26") > 0


def test_a_runtime_error_is_returned_and_the_rest_applies_as_on_redis(r):
    r.set("s", "text")
    pipe = r.pipeline()
    pipe.incr("n").zincrby("s", 1, "m").incr("s").hset("h", "f", "v").incr("n")
    results = pipe.execute(raise_on_error=False)
    assert results[0] == 1 and results[3] == 1 and results[4] == 2
    assert "WRONGTYPE" in str(results[1])
    assert str(results[2]) == "value is not an integer or out of range"
    pipe.incr("n").zincrby("s", 1, "m")
    with pytest.raises(redis.exceptions.ResponseError) as info:
        pipe.execute()
    assert "Command # 2 (ZINCRBY s 1 m) of pipeline caused error: WRONGTYPE" in str(info.value)
    assert r.get("n") == b"3"


@pytest.mark.parametrize(
    "bad", [("NOSUCHCOMMAND", "x"), ("GET",), ("HSET", "h", "f")], ids=["unknown", "get", "hset"]
)
def test_a_queuing_error_aborts_everything_as_on_redis(r, bad):
    pipe = r.pipeline()
    pipe.incr("n").execute_command(*bad).hset("h", "f", "v")
    with pytest.raises(redis.exceptions.ResponseError) as info:
        pipe.execute()
    text = str(info.value)
    assert text.startswith("Command # 2 (")
    assert "unknown command" in text or "wrong number of arguments" in text
    assert r.exists("n", "h") == 0
    # The session is usable afterwards.
    assert r.pipeline().incr("n").execute() == [1]


def test_a_watch_conflict_aborts_as_on_redis(r):
    r.set("k", "1")
    other_pipe = r.pipeline()
    other_pipe.watch("k")
    r.set("k", "2")
    other_pipe.multi()
    other_pipe.incr("k").set("other", "x")
    with pytest.raises(redis.exceptions.WatchError):
        other_pipe.execute()
    assert r.get("k") == b"2" and r.exists("other") == 0
    other_pipe.reset()
    other_pipe.watch("k")
    other_pipe.multi()
    other_pipe.incr("k")
    assert other_pipe.execute() == [3]


def test_a_blocking_pop_inside_the_transaction_does_not_block_as_on_redis(r):
    pipe = r.pipeline()
    pipe.blpop(["empty"], timeout=0).lpush("l", "a").blpop(["l"], timeout=0)
    assert pipe.execute() == [None, 1, (b"l", b"a")]


def test_oom_while_queuing_aborts_as_on_redis(r):
    r.set("before", "x")
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 1)
    try:
        # Redis 7 refuses every command queued over the limit, reads too.
        for first in ("GET", "SET"):
            pipe = r.pipeline()
            if first == "GET":
                pipe.get("before")
            pipe.set("k", "v").incr("n")
            with pytest.raises(redis.exceptions.OutOfMemoryError) as info:
                pipe.execute()
            text = str(info.value)
            assert text.startswith("Command # 1 (")
            assert "command not allowed when used memory > 'maxmemory'" in text
        # Outside a transaction reads are allowed.
        assert r.get("before") == b"x"
    finally:
        r.config_set("maxmemory", 0)
    assert r.exists("k", "n") == 0


def test_another_clients_watch_sees_the_writes():
    client = stores.kv.connect("memory:", background=False)
    watcher = client.engine.new_session()
    assert watcher.execute([b"WATCH", b"n"]) is not None
    pipe = client.pipeline()
    pipe.incr("n")
    assert pipe.execute() == [1]
    watcher.execute([b"MULTI"])
    watcher.execute([b"SET", b"n", b"9"])
    assert watcher.execute([b"EXEC"]) is NULL_ARRAY
    assert client.get("n") == b"1"
    client.close()


def test_a_blocked_waiter_is_woken_by_the_transaction():
    client = stores.kv.connect("memory:", background=False)
    results = []
    waiter = client.engine.new_session()
    other = stores.kv.client.Client(client.engine, session=waiter)
    thread = threading.Thread(target=lambda: results.append(other.blpop(["q"], timeout=10)))
    thread.start()
    for _ in range(500):
        if client.engine.waiters:
            break
        threading.Event().wait(0.01)
    assert client.engine.waiters
    pipe = client.pipeline()
    pipe.incr("n").rpush("q", "job")
    assert pipe.execute() == [1, 1]
    thread.join(timeout=10)
    assert results == [(b"q", b"job")]
    client.close()


def test_the_slow_log_sees_exec_and_not_multi_from_a_millisecond():
    client = stores.kv.connect("memory:", background=False)
    client.config_set("slowlog-log-slower-than", 1000)
    client.slowlog_reset()
    pipe = client.pipeline()
    pipe.incr("n").incr("n")
    assert pipe.execute() == [1, 2]
    assert client.slowlog_len() == 0
    client.close()


def test_the_one_step_declines_where_only_three_steps_are_right():
    client = stores.kv.connect("memory:", background=False)
    session = client.engine.new_session()
    before = client.engine.commands_processed
    # An EXEC inside the commands acts at once: three steps.
    assert run_transaction(session, [[b"INCR", b"n"], [b"EXEC"]]) is None
    # A MULTI already open.
    session.execute([b"MULTI"])
    assert run_transaction(session, [[b"INCR", b"n"]]) is None
    session.execute([b"DISCARD"])
    # The slow log times every command: it then logs MULTI too.
    client.config_set("slowlog-log-slower-than", 0)
    assert run_transaction(session, [[b"INCR", b"n"]]) is None
    assert client.engine.commands_processed == before + 3  # MULTI, DISCARD, CONFIG
    assert client.get("n") is None
    # The pipeline then takes the three steps, with the same results.
    client.slowlog_reset()
    pipe = client.pipeline()
    pipe.incr("n").incr("n")
    assert pipe.execute() == [1, 2]
    logged = [entry["command"] for entry in client.slowlog_get(10)]
    assert b"MULTI" in logged and b"EXEC" in logged
    client.close()


def test_missing_auth_takes_three_steps_and_fails_as_before():
    client = stores.kv.connect("memory:", background=False, requirepass="secret")
    pipe = client.pipeline()
    pipe.incr("n")
    with pytest.raises(redis.exceptions.AuthenticationError):
        pipe.execute()
    assert run_transaction(pipe.session, [[b"INCR", b"n"]]) is None
    client.close()


def test_an_argument_that_cannot_be_encoded_sends_nothing():
    client = stores.kv.connect("memory:", background=False)
    pipe = client.pipeline()
    pipe.incr("n").set("k", None)
    with pytest.raises(redis.exceptions.DataError):
        pipe.execute()
    assert pipe.session.multi is None
    assert client.exists("n") == 0
    assert pipe.incr("n").execute() == [1]
    client.close()


def test_the_three_step_reply_of_an_execabort_is_the_one_step_reply():
    client = stores.kv.connect("memory:", background=False)
    errors, reply = run_transaction(client.session, [[b"INCR", b"n"], [b"GET"]])
    assert reply == ErrorReply(EXECABORT)
    assert errors == [(1, ErrorReply("ERR wrong number of arguments for 'get' command"))]
    client.close()


def test_a_transaction_over_two_databases_is_logged_command_by_command_and_reloads(tmp_path):
    clock = ManualClock()
    client = persisted(tmp_path, clock)
    pipe = client.pipeline()
    pipe.incr("a").execute_command("SELECT", 1).incr("b").execute_command("SELECT", 0)
    assert pipe.execute() == [1, True, 1, True]
    pipe.incr("a").hset("h", "f", "v")
    assert pipe.execute() == [2, 1]
    changes = client.info("persistence")["rdb_changes_since_last_save"]
    client.close()
    assert incr_files(tmp_path).endswith(
        b"*1\r\n$5\r\nMULTI\r\n"
        b"*3\r\n$6\r\nINCRBY\r\n$1\r\na\r\n$1\r\n1\r\n"
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"
        b"*3\r\n$6\r\nINCRBY\r\n$1\r\nb\r\n$1\r\n1\r\n"
        b"*1\r\n$4\r\nEXEC\r\n"
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
        b"*1\r\n$5\r\nMULTI\r\n"
        b"*3\r\n$6\r\nINCRBY\r\n$1\r\na\r\n$1\r\n1\r\n"
        b"*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\nv\r\n"
        b"*1\r\n$4\r\nEXEC\r\n"
    )
    assert changes == 4  # MULTI and EXEC are not changes
    again = persisted(tmp_path, clock)
    assert again.get("a") == b"2" and again.hget("h", "f") == b"v"
    again.execute_command("SELECT", 1)
    assert again.get("b") == b"1"
    again.close()


@pytest.mark.parametrize(
    "bad",
    [
        [b"INCR", b"n", b"extra"],  # fixed arity, too many
        [b"ZINCRBY", b"z", b"1"],  # fixed arity, too few
        [b"HSET", b"h", b"f"],  # variable arity, too few
        [b"HSET", b"h", b"f", b"v", b"g"],  # enough to queue: fails when run
        [b"EXPIREAT", b"k"],
        [b"SUBSCRIBE", b"ch"],  # may not be queued (no_multi)
        [b"nosuch"],
    ],
)
def test_one_steps_queue_checks_are_the_three_steps_ones(bad):
    one = stores.kv.connect("memory:", background=False)
    three = stores.kv.connect("memory:", background=False)
    argvs = [[b"INCR", b"n"], bad, [b"EXPIREAT", b"n", b"4000000000"]]
    assert run_transaction(one.session, [list(a) for a in argvs]) == three_steps(
        three.session, argvs
    )
    assert contents(one.engine) == contents(three.engine)
    one.close()
    three.close()
