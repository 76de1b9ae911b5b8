"""A tiny engine that honours the persistence contract, for persistence tests.

It knows SET, DEL, INCR, RPUSH, HSET, FLUSHDB, FLUSHALL and SWAPDB, calls the
hooks exactly where docs/kv/engine-api.md says the real engine does, and
lets these tests pin down persistence without depending on the real engine.
"""

from __future__ import annotations

import threading


class ErrorReply(str):
    @property
    def message(self) -> str:
        return str(self)


class NoPersistence:
    rewriting = False

    def propagate(self, db, argv):
        pass

    def before_write(self, db, keys):
        pass

    def after_command(self):
        pass


class Keyspace(dict):
    def keys(self):
        """Return a snapshot list, as the real Keyspace does."""
        return list(super().keys())


class DictEngine:
    DATABASES = 16

    def __init__(self):
        self.lock = threading.RLock()
        self.databases = [Keyspace() for _ in range(self.DATABASES)]
        self.persistence = NoPersistence()

    def execute(self, db: int, argv: list[bytes]):
        """Run a write command as the real engine would: hooks included."""
        with self.lock:
            p = self.persistence
            if p.rewriting:
                keys = self._keys_of(argv)
                if keys is None:
                    if argv[0].upper() == b"SWAPDB":
                        p.before_write(int(argv[1]), None)
                        p.before_write(int(argv[2]), None)
                    else:
                        p.before_write(-1 if argv[0].upper() == b"FLUSHALL" else db, None)
                else:
                    p.before_write(db, keys)
            reply = self._apply(db, argv)
            if not isinstance(reply, ErrorReply):
                p.propagate(db, argv)
        p.after_command()
        return reply

    def replay(self, db: int, argv: list[bytes]):
        with self.lock:
            return self._apply(db, argv)

    @staticmethod
    def _keys_of(argv):
        name = argv[0].upper()
        if name in (b"FLUSHDB", b"FLUSHALL", b"SWAPDB"):
            return None
        if name == b"DEL":
            return list(argv[1:])
        return [argv[1]]

    def _apply(self, db, argv):
        name = argv[0].upper()
        data = self.databases[db]
        if name == b"SET" and len(argv) == 3:
            data[argv[1]] = argv[2]
            return "OK"
        if name == b"DEL":
            return sum(data.pop(k, None) is not None for k in argv[1:])
        if name == b"INCR":
            value = int(data.get(argv[1], b"0")) + 1
            data[argv[1]] = str(value).encode()
            return value
        if name == b"RPUSH":
            data.setdefault(argv[1], []).extend(argv[2:])
            return len(data[argv[1]])
        if name == b"HSET":
            h = data.setdefault(argv[1], {})
            h.update(zip(argv[2::2], argv[3::2], strict=True))
            return len(h)
        if name == b"FLUSHDB":
            data.clear()
            return "OK"
        if name == b"FLUSHALL":
            for d in self.databases:
                d.clear()
            return "OK"
        if name == b"SWAPDB":
            a, b = int(argv[1]), int(argv[2])
            first, second = dict(self.databases[a]), dict(self.databases[b])
            self.databases[a].clear()
            self.databases[a].update(second)
            self.databases[b].clear()
            self.databases[b].update(first)
            return "OK"
        return ErrorReply(f"ERR unknown command '{argv[0].decode(errors='replace')}'")

    def dump_key(self, db: int, key: bytes) -> list[list[bytes]]:
        value = self.databases[db].get(key)
        if value is None:
            return []
        if isinstance(value, bytes):
            return [[b"SET", key, value]]
        if isinstance(value, list):
            return [[b"RPUSH", key, *value[i : i + 100]] for i in range(0, len(value), 100)]
        flat = [x for pair in value.items() for x in pair]
        return [[b"HSET", key, *flat]]

    def contents(self) -> list[dict]:
        """Return a deep copy of every database, for comparisons."""
        with self.lock:
            return [
                {
                    k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                    for k, v in d.items()
                }
                for d in self.databases
            ]
