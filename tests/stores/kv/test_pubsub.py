"""Publish/subscribe through redis-py's PubSub, identical on Redis and the engine."""

import threading

from tests.stores.kv.compat import second_client


def _next(p, timeout=2.0):
    return p.get_message(timeout=timeout)


def test_subscribe_publish_unsubscribe(r):
    p = r.pubsub()
    p.subscribe("news", "sport")
    assert _next(p) == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
    assert _next(p) == {"type": "subscribe", "pattern": None, "channel": b"sport", "data": 2}
    assert r.publish("news", "hello") == 1
    assert r.publish("nobody", "x") == 0
    assert _next(p) == {"type": "message", "pattern": None, "channel": b"news", "data": b"hello"}
    assert r.pubsub_channels() == [b"news", b"sport"] or sorted(r.pubsub_channels()) == [
        b"news",
        b"sport",
    ]
    assert r.pubsub_numsub("news", "none") == [(b"news", 1), (b"none", 0)]
    p.unsubscribe("news")
    assert _next(p) == {"type": "unsubscribe", "pattern": None, "channel": b"news", "data": 1}
    p.unsubscribe()
    assert _next(p) == {"type": "unsubscribe", "pattern": None, "channel": b"sport", "data": 0}
    assert r.publish("news", "x") == 0
    p.close()


def test_pattern_subscriptions(r):
    p = r.pubsub()
    p.psubscribe("user:*")
    # Wait for the server's confirmation before asking another connection.
    assert _next(p) == {"type": "psubscribe", "pattern": None, "channel": b"user:*", "data": 1}
    assert r.pubsub_numpat() == 1
    assert r.publish("user:42", "hi") == 1
    assert _next(p) == {
        "type": "pmessage",
        "pattern": b"user:*",
        "channel": b"user:42",
        "data": b"hi",
    }
    p.punsubscribe("user:*")
    assert _next(p) == {"type": "punsubscribe", "pattern": None, "channel": b"user:*", "data": 0}
    assert r.pubsub_numpat() == 0
    p.close()


def test_handlers_and_worker_thread(r):
    received = []
    got = threading.Event()

    def handler(message):
        received.append(message["data"])
        got.set()

    p = r.pubsub()
    p.subscribe(alerts=handler)
    thread = p.run_in_thread(sleep_time=0.05, daemon=True)
    publisher = second_client(r)
    for _ in range(50):
        if publisher.publish("alerts", "fire"):
            break
        got.wait(0.02)
    assert got.wait(2)
    assert received == [b"fire"]
    thread.stop()
    thread.join(2)
    publisher.close()


def test_decoded_messages(rd):
    p = rd.pubsub(ignore_subscribe_messages=True)
    p.subscribe("ch")
    _next(p, 0.2)
    rd.publish("ch", "ä")
    assert _next(p) == {"type": "message", "pattern": None, "channel": "ch", "data": "ä"}
    p.close()
