"""``Engine.write_lane``: the fast lane's conditions folded into one attribute.

``Session.execute`` first reads ``engine.write_lane``: the log an untimed
fast write runs with, or None. It must always equal what the checks it
replaces would give (the fast lane open, the slow log not timing fast
paths, no persistence refusal, no rewrite, persistence's own
``write_lane``), whatever changed last and from whichever thread. These
tests change every input in random orders and compare after each step;
the differential tests in test_fast_lane.py and test_read_lane.py check
that the commands themselves behave the same either way.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import redis

import stores.kv
from stores.kv.commands import no_log
from stores.kv.expiry import ManualClock
from stores.kv.hooks import NoPersistence
from stores.kv.replies import OK


def persisted(directory: Path, **options):
    return stores.kv.connect(
        directory,
        appendonly=True,
        appendfsync="everysec",
        clock=ManualClock(),
        background=False,
        **options,
    )


def expected_lane(engine):
    """Return the log the former per-command checks would have chosen, or None."""
    if not engine.fast_lane_open or engine.slowlog_times_fast_paths:
        return None
    if not engine.persisting:
        return no_log
    persistence = engine.persistence
    lane = getattr(persistence, "write_lane", None)
    if getattr(persistence, "write_error", None) is not None or persistence.rewriting:
        return None
    return lane


def test_the_lane_is_open_on_a_fresh_engine_with_and_without_persistence(tmp_path):
    memory = stores.kv.connect("memory:", background=False)
    assert memory.engine.write_lane is no_log
    memory.close()
    client = persisted(tmp_path)
    engine = client.engine
    assert engine.write_lane is not None
    assert engine.write_lane is engine.persistence.write_lane
    client.close()


@pytest.mark.parametrize("seed", range(8))
def test_the_lane_follows_every_input_in_any_order(tmp_path, seed):
    rng = random.Random(seed)
    client = persisted(tmp_path)
    engine = client.engine
    persistence = engine.persistence
    client.lpush("l", "a")
    watcher = engine.new_session()
    multi = engine.new_session()

    def waiter():
        pass

    state = {"watch": False, "multi": False, "waiter": False}
    steps = [
        lambda: (watcher.execute([b"WATCH", b"w"]), state.update(watch=True)),
        lambda: (watcher.execute([b"UNWATCH"]), state.update(watch=False)),
        lambda: client.config_set("maxmemory", "100mb"),
        lambda: client.config_set("maxmemory", 0),
        lambda: client.config_set("slowlog-log-slower-than", rng.choice([0, 500, 999])),
        lambda: client.config_set("slowlog-log-slower-than", rng.choice([1000, 10000, -1])),
        lambda: setattr(persistence, "write_error", "MISCONF test refusal"),
        lambda: setattr(persistence, "write_error", None),
        lambda: setattr(persistence, "rewriting", True),
        lambda: setattr(persistence, "rewriting", False),
        lambda: persistence.set_appendfsync(rng.choice(["always", "everysec", "no"])),
        lambda: (engine.add_key_waiter(0, [b"b"], waiter), state.update(waiter=True)),
        lambda: (engine.remove_key_waiter(0, [b"b"], waiter), state.update(waiter=False)),
        lambda: (multi.execute([b"MULTI"]), multi.execute([b"SET", b"k", b"v"])),
        lambda: multi.execute([b"EXEC"]),
    ]
    for _ in range(300):
        rng.choice(steps)()
        assert engine.write_lane is expected_lane(engine)
        # Every command still runs, on whichever route the lane chose.
        if persistence.write_error is None:
            assert client.execute_command("LPUSH", "l", "x") >= 2
        else:
            with pytest.raises(redis.ResponseError, match="MISCONF test refusal"):
                client.execute_command("LPUSH", "l", "x")
    multi.execute([b"DISCARD"])
    watcher.close()
    client.close()


def test_installing_a_hook_object_recomputes_the_lane():
    client = stores.kv.connect("memory:", background=False)
    engine = client.engine
    assert engine.write_lane is no_log

    class Busy(NoPersistence):
        enabled = True  # propagates, and has no write_lane: the general path

    busy = Busy()
    engine.set_persistence(busy)
    assert engine.write_lane is None
    client.set("k", "v")
    assert client.get("k") == b"v"
    engine.set_persistence(NoPersistence())
    assert engine.write_lane is no_log
    client.close()


def test_a_full_disk_closes_the_lane_and_the_retry_reopens_it(tmp_path, monkeypatch):
    import errno

    from stores.kv.persistence import mapped_tail

    monkeypatch.setattr(mapped_tail, "WINDOW", 4096)
    client = persisted(tmp_path)
    client.lpush("l", "a")
    engine, persistence = client.engine, client.engine.persistence
    assert engine.write_lane is persistence.write_lane is not None
    real = mapped_tail.os.posix_fallocate

    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", full)
    with pytest.raises(Exception, match="MISCONF"):
        client.lpush("l", "x" * 10_000)
    assert engine.write_lane is None
    monkeypatch.setattr(mapped_tail.os, "posix_fallocate", real)
    persistence.cron()
    assert engine.write_lane is persistence.write_lane is not None
    assert client.lpush("l", "c") == 3
    client.close()


def test_changes_from_two_threads_leave_the_lane_as_their_last_state(tmp_path):
    # One thread flips persistence's inputs without the engine lock (as the
    # walk and fsync threads do), another WATCHes and UNWATCHes under it;
    # whatever the interleaving, the lane ends as the final state says.
    client = persisted(tmp_path)
    engine, persistence = client.engine, client.engine.persistence
    watcher = engine.new_session()
    rounds = 2000

    def flip_persistence():
        for i in range(rounds):
            persistence.rewriting = i % 2 == 0
            persistence.write_error = "MISCONF test" if i % 3 == 0 else None

    def flip_watch():
        for i in range(rounds):
            watcher.execute([b"WATCH", b"w"] if i % 2 == 0 else [b"UNWATCH"])

    threads = [threading.Thread(target=flip_persistence), threading.Thread(target=flip_watch)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert engine.write_lane is expected_lane(engine)
    persistence.rewriting = False
    persistence.write_error = None
    assert watcher.execute([b"UNWATCH"]) == OK
    assert engine.write_lane is persistence.write_lane is not None
    watcher.close()
    client.close()


HOT_CALLS = [
    ("get", ("s",)),
    ("set", ("s", "v")),
    ("incr", ("n",)),
    ("incr", ("n", 5)),
    ("hset", ("h", "f", "v")),
    ("lpush", ("l", "v")),
    ("zincrby", ("z", 2, "m")),
    ("zrevrange", ("z", 0, 9)),
    ("zrevrange", ("z", 0, -1, True)),
    # The wrong type: WRONGTYPE from the fast path's command as from the handler's.
    ("lpush", ("s", "v")),
    ("incr", ("h",)),
    ("zincrby", ("l", 1, "m")),
]


@pytest.mark.parametrize("state", ["open", "watched", "multi", "memory"])
def test_hot_methods_skip_the_lookup_with_the_same_results(tmp_path, state):
    # The client's hot methods hand execute() their Command: no lookup, no
    # arity check. Each must give what redis-py's generic method (through
    # execute_command and the lookup) gives, in every session state.
    generic = redis.commands.core.CoreCommands
    results = {}
    for route in ("hot", "generic"):
        if state == "memory":
            client = stores.kv.connect("memory:", background=False)
        else:
            client = persisted(tmp_path / route)
        client.set("s", "1")
        client.set("n", "10")
        client.hset("h", "f", "0")
        client.lpush("l", "x")
        client.zadd("z", {"m": 1, "o": 2})
        if state == "watched":
            client.engine.new_session().execute([b"WATCH", b"s"])
        if state == "multi":
            client.execute_command("MULTI")
        out = []
        for name, args in HOT_CALLS:
            method = getattr(client, name) if route == "hot" else getattr(generic, name)
            call_args = args if route == "hot" else (client, *args)
            try:
                out.append(method(*call_args))
            except (redis.ResponseError, ValueError) as exc:  # ValueError: a reply shaped in MULTI
                out.append((type(exc).__name__, str(exc)))
        if state == "multi":
            replies = client.execute_command("EXEC")
            out.append(
                [(type(r).__name__, str(r)) if isinstance(r, Exception) else r for r in replies]
            )
        results[route] = out
        client.close()
    assert results["hot"] == results["generic"]
