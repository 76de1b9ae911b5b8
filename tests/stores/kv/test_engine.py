"""The engine's seams: propagation, replay, dump_key, key waiters, threads."""

import threading

import pytest

from stores.kv.engine import Engine
from stores.kv.expiry import ManualClock
from stores.kv.replies import NULL_ARRAY, OK, Blocked, ErrorReply
from tests.stores.kv.recording import RecordingPersistence


@pytest.fixture
def recorded():
    clock = ManualClock()
    engine = Engine(clock=clock, background=False)
    recorder = RecordingPersistence()
    engine.set_persistence(recorder)
    yield engine, engine.new_session(), recorder, clock
    engine.close()


def snapshot(engine, db):
    """Return db's keys, comparable values and expiry times."""
    ks = engine.databases[db]
    out = {}
    for key, value in ks.data.items():
        if hasattr(value, "members"):
            value = dict(value.members)
        elif not isinstance(value, (bytes, dict, set)):
            value = list(value)
        out[key] = (value, ks.expires.get(key))
    return out


def run(session, *args):
    return session.execute([a if isinstance(a, bytes) else str(a).encode() for a in args])


def test_relative_expiries_propagate_as_absolute(recorded):
    engine, s, rec, clock = recorded
    now = clock.now
    run(s, "SET", "a", "1", "EX", "10")
    run(s, "EXPIRE", "a", "20")
    run(s, "SETEX", "b", "5", "v")
    run(s, "GETEX", "b", "PX", "700")
    assert rec.commands() == [
        [b"SET", b"a", b"1", b"PXAT", b"%d" % (now + 10000)],
        [b"PEXPIREAT", b"a", b"%d" % (now + 20000)],
        [b"SET", b"b", b"v", b"PXAT", b"%d" % (now + 5000)],
        [b"PEXPIREAT", b"b", b"%d" % (now + 700)],
    ]


def test_effect_equivalent_propagation(recorded):
    engine, s, rec, clock = recorded
    run(s, "SADD", "s", "a", "b", "c")
    popped = run(s, "SPOP", "s")
    run(s, "SET", "f", "1.5")
    run(s, "INCRBYFLOAT", "f", "1")
    run(s, "HINCRBYFLOAT", "h", "x", "0.5")
    run(s, "RPUSH", "l", "x")
    run(s, "BLPOP", "l", "0")
    run(s, "GET", "f")
    run(s, "SET", "nx", "1", "NX")
    run(s, "SET", "nx", "2", "NX")
    commands = rec.commands()
    assert [b"SREM", b"s", popped] in commands
    assert [b"SET", b"f", b"2.5", b"KEEPTTL"] in commands
    assert [b"HSET", b"h", b"x", b"0.5"] in commands
    assert [b"LPOP", b"l"] in commands
    assert not any(c[0] == b"GET" for c in commands)
    assert commands.count([b"SET", b"nx", b"1", b"NX"]) == 1
    assert [b"SET", b"nx", b"2", b"NX"] not in commands


def test_transactions_propagate_wrapped(recorded):
    engine, s, rec, clock = recorded
    run(s, "MULTI")
    run(s, "SET", "a", "1")
    run(s, "GET", "a")
    run(s, "INCR", "a")
    assert run(s, "EXEC") == [OK, b"1", 2]
    assert rec.commands() == [[b"MULTI"], [b"SET", b"a", b"1"], [b"INCR", b"a"], [b"EXEC"]]


def test_before_write_is_called_while_rewriting(recorded):
    engine, s, rec, clock = recorded
    rec.rewriting = True
    run(s, "SET", "a", "1")
    run(s, "RENAME", "a", "b")
    run(s, "GET", "b")
    run(s, "FLUSHDB")
    run(s, "FLUSHALL")
    assert rec.before == [(0, [b"a"]), (0, [b"a", b"b"]), (0, None), (-1, None)]


def test_replaying_the_propagated_log_rebuilds_the_data(recorded):
    engine, s, rec, clock = recorded
    script = [
        ("SET", "s", "v", "EX", "100"),
        ("HSET", "h", "a", "1", "b", "2"),
        ("HINCRBYFLOAT", "h", "a", "0.25"),
        ("RPUSH", "l", "1", "2", "3"),
        ("LPOP", "l"),
        ("SADD", "set", "a", "b", "c", "d"),
        ("SPOP", "set", "2"),
        ("ZADD", "z", "1", "a", "2", "b"),
        ("ZINCRBY", "z", "1.5", "a"),
        ("ZPOPMAX", "z"),
        ("INCRBYFLOAT", "n", "1.1"),
        ("EXPIRE", "n", "50"),
        ("RENAME", "h", "h2"),
        ("SELECT", "3"),
        ("SET", "other", "db3"),
    ]
    for args in script:
        run(s, *args)
    fresh = Engine(clock=clock, background=False)
    for db, argv in rec.propagated:
        fresh.replay(db, argv)
    for db in range(16):
        assert snapshot(fresh, db) == snapshot(engine, db)
    assert snapshot(engine, 0) and snapshot(engine, 3)
    fresh.close()


@pytest.mark.parametrize(
    "setup",
    [
        [("SET", "k", "v")],
        [("HSET", "k", *[str(i) for i in range(400)])],
        [("RPUSH", "k", *[str(i) for i in range(300)])],
        [("SADD", "k", *[str(i) for i in range(300)])],
        [("ZADD", "k", "1.1", "a", "-inf", "b", "0.30000000000000004", "c", "inf", "d")],
        [("SET", "k", "v"), ("PEXPIRE", "k", "12345")],
    ],
)
def test_dump_key_recreates_value_and_ttl(recorded, setup):
    engine, s, rec, clock = recorded
    for args in setup:
        run(s, *args)
    commands = engine.dump_key(0, b"k")
    assert all(len(c) <= 2 + 2 * 64 for c in commands)
    fresh = Engine(clock=clock, background=False)
    for argv in commands:
        fresh.replay(0, argv)
    assert fresh.databases[0].data[b"k"].__class__ is engine.databases[0].data[b"k"].__class__
    original, rebuilt = engine.databases[0].data[b"k"], fresh.databases[0].data[b"k"]
    if hasattr(original, "members"):
        assert rebuilt.members == original.members and list(rebuilt.sl) == list(original.sl)
    else:
        assert rebuilt == original
    assert fresh.databases[0].expires.get(b"k") == engine.databases[0].expires.get(b"k")
    fresh.close()


def test_blocking_command_returns_blocked_and_waiter_is_woken(recorded):
    engine, s, rec, clock = recorded
    reply = run(s, "BLPOP", "q1", "q2", "1.5")
    assert isinstance(reply, Blocked) and reply.keys == [b"q1", b"q2"] and reply.timeout == 1.5
    woken = []
    engine.add_key_waiter(0, reply.keys, lambda: woken.append(1))
    other = engine.new_session()
    run(other, "SET", "unrelated", "x")
    assert woken == []
    run(other, "RPUSH", "q2", "job")
    assert woken == [1]
    assert engine.waiters == {}
    assert run(s, "BLPOP", "q1", "q2", "1.5") == [b"q2", b"job"]
    assert [b"LPOP", b"q2"] in rec.commands()


def test_blocking_inside_multi_never_blocks(recorded):
    engine, s, rec, clock = recorded
    run(s, "MULTI")
    run(s, "BLPOP", "empty", "0")
    run(s, "BZPOPMIN", "empty", "0")
    assert run(s, "EXEC") == [NULL_ARRAY, NULL_ARRAY]


def test_client_blpop_waits_for_a_push(kv):
    results = []
    worker = threading.Thread(target=lambda: results.append(kv.blpop(["jobs"], timeout=5)))
    worker.start()
    from stores.kv.client import Client

    pusher = Client(kv.engine)
    for _ in range(500):
        if kv.engine.waiters:
            break
        threading.Event().wait(0.005)
    pusher.rpush("jobs", "j1")
    worker.join(5)
    assert results == [(b"jobs", b"j1")]


def test_errors_come_back_as_replies_not_exceptions(session):
    assert session.execute([b"GET"]) == ErrorReply(
        "ERR wrong number of arguments for 'get' command"
    )
    assert isinstance(session.execute([b"nope"]), ErrorReply)
    assert session.execute([]).message.startswith("ERR unknown command")
    assert session.execute([b"get", b"x"]) is None
    assert session.execute([b"gEt", b"x"]) is None


def test_subscribed_resp2_session_is_restricted(session):
    session.push_handler = lambda push: None
    session.execute([b"SUBSCRIBE", b"ch"])
    reply = session.execute([b"GET", b"k"])
    assert reply.message == (
        "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
        "are allowed in this context"
    )
    assert session.execute([b"PING"]) == [b"pong", b""]


def test_threads_do_not_lose_increments(kv):
    from stores.kv.client import Client

    def work():
        client = Client(kv.engine)
        for _ in range(2000):
            client.incr("counter")
            client.hincrby("h", "f")
            client.lpush("l", "x")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert kv.get("counter") == b"8000"
    assert kv.hget("h", "f") == b"8000"
    assert kv.llen("l") == 8000


def test_select_gives_independent_databases(session):
    session.execute([b"SET", b"k", b"db0"])
    session.execute([b"SELECT", b"5"])
    assert session.execute([b"GET", b"k"]) is None
    session.execute([b"SET", b"k", b"db5"])
    session.execute([b"SELECT", b"0"])
    assert session.execute([b"GET", b"k"]) == b"db0"


def test_requirepass_guards_until_authenticated(engine):
    engine.config.set("requirepass", "secret")
    session = engine.new_session()
    assert session.execute([b"GET", b"k"]).message == "NOAUTH Authentication required."
    session.authenticated = True
    assert session.execute([b"GET", b"k"]) is None


def test_resp3_subscribers_may_run_any_command(session):
    session.push_handler = lambda push: None
    session.protocol = 3
    session.execute([b"SUBSCRIBE", b"ch"])
    assert session.execute([b"SET", b"k", b"v"]) == "OK"
    session.protocol = 2
    assert isinstance(session.execute([b"GET", b"k"]), ErrorReply)
    session.execute([b"UNSUBSCRIBE"])
    assert session.execute([b"GET", b"k"]) == b"v"


def test_persistence_write_error_refuses_writes_only(recorded):
    engine, s, rec, clock = recorded
    run(s, "SET", "k", "v")
    rec.write_error = "MISCONF Errors writing to the AOF file: No space left on device"
    assert run(s, "SET", "k", "w").message == rec.write_error
    assert run(s, "GET", "k") == b"v"
    run(s, "MULTI")
    run(s, "INCR", "n")
    assert run(s, "EXEC")[0].message == rec.write_error
    rec.write_error = None
    assert run(s, "SET", "k", "w") == OK


def test_after_command_errors_become_the_reply(recorded):
    from stores.kv.errors import CommandError

    engine, s, rec, clock = recorded

    def refuse():
        raise CommandError("MISCONF Errors writing to the AOF file: disk gone")

    rec.after_command = refuse
    assert run(s, "SET", "k", "v").message == "MISCONF Errors writing to the AOF file: disk gone"


def test_dropped_engine_is_collected_and_its_cron_stops():
    import gc
    import weakref

    engine = Engine(background=True)
    thread = engine._cron_thread
    ref = weakref.ref(engine)
    del engine
    gc.collect()
    assert ref() is None
    thread.join(2)
    assert not thread.is_alive()
