"""client.lock(): redis-py's Lock API on the embedded engine."""

import threading

import pytest
from redis.exceptions import LockError, LockNotOwnedError

from stores.kv.client import Client


def test_acquire_release_and_ownership(kv, clock):
    lock = kv.lock("job", timeout=10)
    assert lock.acquire(blocking=False)
    assert lock.locked() and lock.owned()
    assert kv.pttl("job") == 10000
    other = Client(kv.engine).lock("job", timeout=10)
    assert other.acquire(blocking=False) is False
    assert lock.extend(5)
    assert kv.pttl("job") == 15000
    assert lock.reacquire()
    assert kv.pttl("job") == 10000
    lock.release()
    assert not lock.locked()
    assert other.acquire(blocking=False)
    other.release()


def test_expired_lock_is_not_owned(kv, clock):
    lock = kv.lock("job", timeout=1)
    assert lock.acquire(blocking=False)
    clock.advance(1000)
    assert not lock.owned()
    with pytest.raises(LockNotOwnedError):
        lock.release()


def test_context_manager_and_blocking_timeout(kv):
    with kv.lock("ctx", timeout=5) as held:
        assert held.owned()
        with pytest.raises(LockError):
            with Client(kv.engine).lock("ctx", blocking_timeout=0.05, sleep=0.01):
                pass
    assert not kv.exists("ctx")


def test_threads_take_turns(kv):
    counter = []

    def work():
        client = Client(kv.engine)
        for _ in range(20):
            with client.lock("shared", sleep=0.001):
                value = len(counter)
                counter.append(value)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert counter == list(range(60))
