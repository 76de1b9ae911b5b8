"""A real crash: SIGKILL a writer process mid-stream, then reopen its directory."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stores.kv.persistence import PersistenceConfig, open_persistence
from tests.stores.kv.persistence.dict_engine import DictEngine

ROOT = Path(__file__).resolve().parents[4]

WRITER = textwrap.dedent(
    """
    import sys
    from stores.kv.persistence import PersistenceConfig, open_persistence
    from tests.stores.kv.persistence.dict_engine import DictEngine

    engine = DictEngine()
    config = PersistenceConfig(appendonly=True, appendfsync=sys.argv[2], save="")
    p = open_persistence(engine, sys.argv[1], config)
    i = 0
    while True:
        engine.execute(i % 3, [b"SET", b"key:%d" % i, b"value:%d" % i])
        print(f"ack {i}", flush=True)
        i += 1
        if i % 500 == 0 and not p.info()["aof_rewrite_in_progress"]:
            p.bgrewriteaof()
    """
)


@pytest.mark.parametrize("appendfsync", ["always", "everysec", "no"])
def test_every_acknowledged_write_survives_sigkill(tmp_path, appendfsync):
    """A process crash loses nothing in any mode: each write reaches the
    kernel before its reply (the modes differ only on power loss)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), appendfsync],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    acked = []
    try:
        for line in writer.stdout:
            acked.append(int(line.split()[1]))
            if len(acked) >= 1200:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    assert len(acked) >= 1200, "the writer died on its own"
    engine = DictEngine()
    config = PersistenceConfig(appendonly=True, save="", background_threads=False)
    p = open_persistence(engine, str(tmp_path), config)
    try:
        for i in acked:
            assert engine.databases[i % 3].get(b"key:%d" % i) == b"value:%d" % i, i
    finally:
        p.close()


ENGINE_WRITER = textwrap.dedent(
    """
    import sys
    import stores.kv

    client = stores.kv.connect(sys.argv[1], appendonly=True, appendfsync=sys.argv[2])
    i = 0
    while True:
        if i % 4 == 0:
            client.set(f"key:{i}", f"value:{i}")
        elif i % 4 == 1:
            client.hset("hash", f"f{i}", i)
        elif i % 4 == 2:
            client.rpush("list", i)
        else:
            with client.pipeline(transaction=True) as pipe:
                pipe.incr("counter").zadd("zset", {f"m{i}": i}).execute()
        print(f"ack {i}", flush=True)
        i += 1
        if i % 700 == 0 and not client.info("persistence")["aof_rewrite_in_progress"]:
            client.bgrewriteaof()
    """
)


@pytest.mark.parametrize("appendfsync", ["always", "everysec"])
def test_every_acknowledged_write_survives_sigkill_of_the_real_engine(tmp_path, appendfsync):
    import stores.kv

    writer = subprocess.Popen(
        [sys.executable, "-c", ENGINE_WRITER, str(tmp_path), appendfsync],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    acked = []
    try:
        for line in writer.stdout:
            acked.append(int(line.split()[1]))
            if len(acked) >= 2000:
                break
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        # The writer ran on until the kill landed: what it printed meanwhile
        # was acknowledged too, and bounds what the file may hold.
        rest = [line.split() for line in writer.stdout.read().splitlines()]
        printed = acked + [int(parts[1]) for parts in rest if len(parts) == 2]
        writer.stdout.close()
    assert len(acked) >= 2000, "the writer died on its own"
    # The writer copied into a mapped, preallocated tail: the file being
    # appended to still ends in its NUL padding, which start-up cuts off.
    incr_files = sorted((tmp_path / "appendonlydir").glob("*.incr.aof"))
    assert any(path.read_bytes().endswith(b"\0") for path in incr_files)
    client = stores.kv.connect(str(tmp_path), appendonly=True, background=False)
    try:
        hash_ = client.hgetall("hash")
        items = set(client.lrange("list", 0, -1))
        zset = set(client.zrange("zset", 0, -1))
        transactions = 0
        for i in acked:
            if i % 4 == 0:
                assert client.get(f"key:{i}") == f"value:{i}".encode(), i
            elif i % 4 == 1:
                assert hash_[f"f{i}".encode()] == str(i).encode(), i
            elif i % 4 == 2:
                assert str(i).encode() in items, i
            else:
                assert f"m{i}".encode() in zset, i
                transactions += 1
        counter = int(client.get("counter"))
        # Every transaction acknowledged, plus at most the one the kill cut short.
        printed_transactions = sum(1 for i in range(max(printed) + 1) if i % 4 == 3)
        assert transactions <= counter <= printed_transactions + 1
    finally:
        client.close()


@pytest.mark.parametrize("appendfsync", ["always", "no"])
def test_acknowledged_pipeline_batches_survive_sigkill_of_the_server(tmp_path, appendfsync):
    """The server writes its AOF buffer once per batch, before the batch's
    replies: every reply read before the SIGKILL is a write in the file."""
    import stores.kv
    from stores.kv.resp import encode_pipeline
    from tests.stores.kv.server_backends import start_server_process
    from tests.stores.kv.wire import WireClient

    server = start_server_process(
        "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "", directory=str(tmp_path)
    )
    acked = 0
    try:
        with WireClient(server.port) as client:
            for batch in range(60):
                first = batch * 16
                client.send(
                    encode_pipeline(
                        [[b"SET", b"key:%d" % i, b"value:%d" % i] for i in range(first, first + 16)]
                        + [[b"RPUSH", b"list", b"%d" % batch]]
                    )
                )
                replies = client.replies(17)
                assert replies[-1] == batch + 1
                acked = first + 16
    finally:
        server.process.kill()
        server.process.wait(timeout=30)
        server.process.stderr.close()
    assert acked == 960
    client = stores.kv.connect(str(tmp_path), appendonly=True, background=False)
    try:
        assert client.llen("list") == 60
        for i in range(acked):
            assert client.get(f"key:{i}") == f"value:{i}".encode(), i
    finally:
        client.close()
