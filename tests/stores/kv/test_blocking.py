"""Threads of the in-process client blocked on a key are served in the order
they blocked (docs/kv/engine-api.md), like the RESP server's clients."""

from __future__ import annotations

import threading
import time

import pytest

from stores.kv.client import Client

WAIT = 10.0  # bound on every wait below; never reached when things work


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.002)


def waiting_on(engine, key):
    with engine.lock:
        return len(engine.waiters.get((0, key), ()))


def start_blocked(kv, results, name, call):
    """Start a thread running ``call(client)`` and wait until it is blocked."""
    client = Client(kv.engine)
    before = waiting_on(kv.engine, b"q")

    def run():
        try:
            results.append((name, call(client)))
        finally:
            client.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_until(lambda: waiting_on(kv.engine, b"q") == before + 1, f"{name} to block")
    return thread


@pytest.mark.parametrize(
    "pop",
    [
        lambda c: c.blpop("q", timeout=WAIT),
        lambda c: c.brpop("q", timeout=WAIT),
        lambda c: c.blmove("q", "dest", WAIT, "LEFT", "RIGHT"),
    ],
    ids=["blpop", "brpop", "blmove"],
)
def test_list_waiters_are_served_in_arrival_order_one_push_at_a_time(kv, pop):
    results = []
    threads = [start_blocked(kv, results, n, pop) for n in range(5)]
    for i in range(5):
        kv.rpush("q", f"item{i}")
        wait_until(lambda n=i + 1: len(results) == n, f"push {i} to be served")
        assert results[i][0] == i
    for thread in threads:
        thread.join(WAIT)
    assert [name for name, _ in results] == list(range(5))
    assert kv.llen("q") == 0


def test_a_burst_of_pushes_is_served_in_arrival_order(kv):
    results = []
    threads = [
        start_blocked(kv, results, n, lambda c: c.blpop("q", timeout=WAIT)) for n in range(6)
    ]
    for i in range(6):
        kv.rpush("q", f"item{i}")
    for thread in threads:
        thread.join(WAIT)
    assert results == [(n, (b"q", b"item%d" % n)) for n in range(6)]


def test_sorted_set_waiters_are_served_in_arrival_order(kv):
    results = []
    threads = [
        start_blocked(kv, results, 0, lambda c: c.bzpopmin("q", timeout=WAIT)),
        start_blocked(kv, results, 1, lambda c: c.bzpopmax("q", timeout=WAIT)),
        start_blocked(kv, results, 2, lambda c: c.bzpopmin("q", timeout=WAIT)),
    ]
    for i in range(3):
        kv.zadd("q", {f"m{i}": i})
        wait_until(lambda n=i + 1: len(results) == n, f"zadd {i} to be served")
    for thread in threads:
        thread.join(WAIT)
    assert [(name, value[1]) for name, value in results] == [(0, b"m0"), (1, b"m1"), (2, b"m2")]


def test_a_waiter_woken_for_nothing_keeps_its_place(kv):
    results = []
    pop = lambda c: c.blpop("q", timeout=WAIT)  # noqa: E731
    threads = [start_blocked(kv, results, n, pop) for n in range(2)]
    # The key changes but ends empty: both wake, find nothing and block again.
    pipe = kv.pipeline(transaction=True)
    pipe.rpush("q", "gone").lpop("q").execute()
    wait_until(lambda: waiting_on(kv.engine, b"q") == 2, "both to block again")
    threads.append(start_blocked(kv, results, 2, pop))  # a later arrival
    for i in range(3):
        kv.rpush("q", f"item{i}")
        wait_until(lambda n=i + 1: len(results) == n, f"push {i} to be served")
    for thread in threads:
        thread.join(WAIT)
    assert [name for name, _ in results] == [0, 1, 2]


def test_a_timed_out_waiter_leaves_the_queue(kv):
    assert kv.blpop("q", timeout=0.05) is None
    with kv.engine.lock:
        assert not kv.engine.waiters and not kv.engine.woken.waiters
    kv.rpush("q", "x")
    assert kv.blpop("q", timeout=1) == (b"q", b"x")


def test_a_waiter_that_fails_while_woken_does_not_hold_up_the_others(kv, monkeypatch):
    from stores.kv.blocking import KeyWaiter

    results = []
    pop = lambda c: c.blpop("q", timeout=WAIT)  # noqa: E731
    real_wait_turn = KeyWaiter.wait_turn
    failing = []

    def wait_turn(self, deadline):
        if not failing:
            failing.append(self)
        if self is failing[0]:
            woken = real_wait_turn(self, deadline)
            raise KeyboardInterrupt if woken else AssertionError("never woken")
        return real_wait_turn(self, deadline)

    monkeypatch.setattr(KeyWaiter, "wait_turn", wait_turn)

    def first(c):
        try:
            return pop(c)
        except KeyboardInterrupt:
            return "interrupted"

    threads = [start_blocked(kv, results, 0, first)]
    threads += [start_blocked(kv, results, n, pop) for n in (1, 2)]
    kv.rpush("q", "a", "b")
    for thread in threads:
        thread.join(WAIT)
    assert sorted(results) == [(0, "interrupted"), (1, (b"q", b"a")), (2, (b"q", b"b"))]
    with kv.engine.lock:
        assert not kv.engine.waiters and not kv.engine.woken.waiters
