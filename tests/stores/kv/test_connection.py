"""The server's sessions batch: the append-only file is written once per batch
of pipelined commands, before any reply of the batch is sent, and the replies
are withheld (replaced by the disk's error) if that write fails."""

from __future__ import annotations

import threading
from pathlib import Path

from stores.kv.config import Config
from stores.kv.engine import Engine
from stores.kv.errors import CommandError
from stores.kv.hooks import NoPersistence
from stores.kv.persistence import open_persistence
from stores.kv.persistence.format import AOF_DIR
from stores.kv.replies import ErrorReply, SimpleString
from stores.kv.resp import encode_pipeline
from stores.kv.server import BackgroundServer
from tests.stores.kv.wire import WireClient


class CountingPersistence(NoPersistence):
    enabled = True

    def __init__(self):
        super().__init__()
        self.after_commands = 0
        self.propagated = []

    def propagate(self, db, argv):
        self.propagated.append(argv)

    def after_command(self):
        self.after_commands += 1


class FailingPersistence(CountingPersistence):
    """A disk that is full: writing anything fails, having nothing to write does not."""

    def after_command(self):
        if self.propagated:
            self.propagated.clear()
            raise OSError("disk full")


class RefusingPersistence(CountingPersistence):
    """A disk whose failure the persistence object reports as MISCONF itself."""

    def after_command(self):
        if self.propagated:
            self.propagated.clear()
            raise CommandError("MISCONF Errors writing to the AOF file: No space left on device")


def aof_bytes(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted((directory / AOF_DIR).glob("*.incr.aof")))


def test_a_pipeline_costs_one_flush():
    engine = Engine(Config())
    inner = CountingPersistence()
    engine.set_persistence(inner)
    with BackgroundServer(engine) as server, WireClient(server.port) as client:
        client.send(encode_pipeline([[b"SET", b"k%d" % i, b"v"] for i in range(100)]))
        assert client.replies(100) == [SimpleString("OK")] * 100
        assert len(inner.propagated) == 100
        assert 1 <= inner.after_commands <= 10  # once per batch read, not once per command
    engine.close()


def test_the_engine_is_left_unwrapped_and_other_sessions_flush_per_command():
    engine = Engine(Config())
    inner = CountingPersistence()
    engine.set_persistence(inner)
    with BackgroundServer(engine) as server, WireClient(server.port) as client:
        assert client.command("SET", "k", "v") == SimpleString("OK")
        assert engine.persistence is inner
        # An in-process session on another thread does not wait for a batch.
        before = inner.after_commands
        thread = threading.Thread(target=lambda: engine.new_session().execute([b"SET", b"a", b"b"]))
        thread.start()
        thread.join()
        assert inner.after_commands == before + 1
    engine.close()


def test_acknowledged_writes_are_in_the_file_with_appendfsync_always(tmp_path):
    config = Config(appendonly=True, appendfsync="always", dir=str(tmp_path))
    engine = Engine(config)
    open_persistence(engine, str(tmp_path), config)
    try:
        with BackgroundServer(engine) as server, WireClient(server.port) as client:
            client.send(encode_pipeline([[b"SET", b"key:%d" % i, b"value"] for i in range(50)]))
            assert client.replies(50) == [SimpleString("OK")] * 50
            # The replies were released, so every write is already in the file.
            written = aof_bytes(tmp_path)
            assert all(b"key:%d\r\n" % i in written for i in range(50))
            client.send(encode_pipeline([[b"RPUSH", b"q", b"job"]]))
            assert client.reply() == 1
            assert b"$5\r\nRPUSH\r\n" in aof_bytes(tmp_path)
    finally:
        engine.close()


def test_replies_become_the_disk_error_when_the_write_fails():
    engine = Engine(Config())
    engine.set_persistence(FailingPersistence())
    misconf = ErrorReply("MISCONF Errors writing to the AOF file: disk full")
    with BackgroundServer(engine) as server, WireClient(server.port) as client:
        client.send(encode_pipeline([[b"SET", b"k", b"v"], [b"GET", b"k"]]))
        # Neither reply may acknowledge the write: both are the disk's error.
        assert client.replies(2) == [misconf, misconf]
        assert client.command("PING") == SimpleString("PONG")  # nothing left to write
        client.send(encode_pipeline([[b"SET", b"k2", b"v"]]))
        assert client.reply() == misconf  # one command alone, too
        with WireClient(server.port) as other:
            assert other.command("PING") == SimpleString("PONG")
    engine.close()


def test_the_persistence_objects_own_misconf_error_is_sent_as_is():
    engine = Engine(Config())
    engine.set_persistence(RefusingPersistence())
    misconf = ErrorReply("MISCONF Errors writing to the AOF file: No space left on device")
    with BackgroundServer(engine) as server, WireClient(server.port) as client:
        client.send(encode_pipeline([[b"INCR", b"n"], [b"PING"]]))
        assert client.replies(2) == [misconf, misconf]
        assert client.command("PING") == SimpleString("PONG")
    engine.close()
