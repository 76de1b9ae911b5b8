"""A tiny stand-in for the engine, used only by the server's mechanics tests.

It speaks the engine contract of docs/kv/engine-api.md (sessions, replies,
Blocked and key waiters, push handlers) for a handful of commands, so the
server's own behaviour (framing, pipelining, limits, blocking, pub/sub,
connection commands) is tested apart from the real engine's command set.
"""

from __future__ import annotations

import itertools
import threading

from stores.kv.replies import NULL_ARRAY, OK, PONG, Blocked, ErrorReply, Push, SimpleString

_IDS = itertools.count(1)


class FakeConfig:
    def __init__(self, **values):
        self.values = {
            "requirepass": "",
            "maxclients": 10000,
            "proto-max-bulk-len": 512 * 1024 * 1024,
            "client-query-buffer-limit": 1024**3,
        }
        self.values.update(values)
        self.listeners = []

    def get(self, name):
        return self.values[name]

    def set(self, name, value):
        self.values[name] = value
        for listener in self.listeners:
            listener(name, value)

    def on_change(self, listener):
        self.listeners.append(listener)


class FakePubSub:
    def __init__(self):
        self.channels: dict[bytes, dict[int, FakeSession]] = {}

    def drop(self, session):
        for channel in list(session.channels):
            self.channels.get(channel, {}).pop(session.id, None)
        session.channels.clear()


class FakeSession:
    def __init__(self, engine):
        self.engine = engine
        self.id = next(_IDS)
        self.db = 0
        self.protocol = 2
        self.name = None
        self.lib_name = b""
        self.peer = b""
        self.authenticated = not engine.config.get("requirepass")
        self.multi = None
        self.multi_error = False
        self.cas_dirty = False
        self.channels: set[bytes] = set()
        self.patterns: set[bytes] = set()
        self.push_handler = None
        self.closed = False

    def select(self, db):
        self.db = db

    def unwatch(self):
        pass

    def close(self):
        self.closed = True
        self.engine.pubsub.drop(self)

    def execute(self, argv):
        name = argv[0].lower()
        if not self.authenticated:
            return ErrorReply("NOAUTH Authentication required.")
        handler = getattr(self, "cmd_" + name.decode("ascii", "replace"), None)
        if handler is None:
            return ErrorReply(f"ERR unknown command '{argv[0].decode()}'")
        with self.engine.lock:
            return handler(argv)

    @property
    def data(self):
        return self.engine.dbs.setdefault(self.db, {})

    def cmd_ping(self, argv):
        return argv[1] if len(argv) > 1 else PONG

    def cmd_echo(self, argv):
        return argv[1]

    def cmd_set(self, argv):
        self.data[argv[1]] = argv[2]
        return OK

    def cmd_get(self, argv):
        value = self.data.get(argv[1])
        return value if value is None or isinstance(value, bytes) else ErrorReply("WRONGTYPE")

    def cmd_select(self, argv):
        self.select(int(argv[1]))
        return OK

    def cmd_multi(self, argv):
        self.multi = []
        return OK

    def cmd_exec(self, argv):
        self.multi = None
        return []

    def cmd_rpush(self, argv):
        items = self.data.setdefault(argv[1], [])
        items.extend(argv[2:])
        self.engine.keys_modified(self.db, [argv[1]])
        return len(items)

    def cmd_blpop(self, argv):
        keys = argv[1:-1]
        for key in keys:
            items = self.data.get(key)
            if items:
                value = items.pop(0)
                if not items:
                    del self.data[key]
                return [key, value]
        if self.multi is not None:
            return NULL_ARRAY
        return Blocked(keys, float(argv[-1]))

    def cmd_subscribe(self, argv):
        out = []
        for channel in argv[1:]:
            self.engine.pubsub.channels.setdefault(channel, {})[self.id] = self
            self.channels.add(channel)
            out.append(Push([b"subscribe", channel, len(self.channels)]))
        return out[0] if len(out) == 1 else out

    def cmd_publish(self, argv):
        listeners = list(self.engine.pubsub.channels.get(argv[1], {}).values())
        for session in listeners:
            if session.push_handler is not None:
                session.push_handler(Push([b"message", argv[1], argv[2]]))
        return len(listeners)

    def cmd_status(self, argv):
        return SimpleString(argv[1].decode())


class FakeEngine:
    def __init__(self, **config):
        self.config = FakeConfig(**config)
        self.lock = threading.RLock()
        self.stats = {"rejected_connections": 0}
        self.dbs: dict[int, dict] = {}
        self.pubsub = FakePubSub()
        self.waiters: dict[tuple[int, bytes], list] = {}
        self.closed = False
        self.persisting = False  # no persistence object: nothing to flush per batch

    def new_session(self):
        return FakeSession(self)

    def add_key_waiter(self, db, keys, waiter):
        with self.lock:
            for key in keys:
                self.waiters.setdefault((db, key), []).append(waiter)

    def remove_key_waiter(self, db, keys, waiter):
        with self.lock:
            for key in keys:
                items = self.waiters.get((db, key), [])
                if waiter in items:
                    items.remove(waiter)

    def keys_modified(self, db, keys):
        for key in keys:
            for waiter in self.waiters.pop((db, key), []):
                for others in self.waiters.values():
                    if waiter in others:
                        others.remove(waiter)
                waiter()

    def close(self):
        self.closed = True
