"""Debian's redis-cli and redis-benchmark against our server, and the server
run as a process: ``python -m stores.kv`` and ``manage.py kvserver``, with
persistence across a SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import redis

from tests.stores.kv.server_backends import ROOT, OurServer, start_server_process
from tests.support.ports import free_port, wait_for_port


@pytest.fixture(scope="module")
def ours():
    server = OurServer()
    try:
        yield server
    finally:
        server.stop()


def cli(port: int, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_redis_cli_runs_commands(ours):
    assert cli(ours.port, "PING") == "PONG\n"
    assert cli(ours.port, "SET", "greeting", "hello world") == "OK\n"
    assert cli(ours.port, "GET", "greeting") == "hello world\n"
    assert cli(ours.port, "INCR", "visits") == "1\n"
    assert cli(ours.port, "GET", "missing") == "\n"
    cli(ours.port, "RPUSH", "l", "a", "b")
    assert cli(ours.port, "LRANGE", "l", "0", "-1") == "a\nb\n"
    assert "WRONGTYPE" in cli(ours.port, "GET", "l")
    assert cli(ours.port, "-3", "HELLO", "3").startswith("server redis\nversion ")


def test_redis_cli_reads_commands_from_stdin(ours):
    out = cli(ours.port, stdin="SET a 1\nINCR a\nGET a\n")
    assert out == "OK\n2\n2\n"


def test_redis_cli_scan(ours):
    client = redis.Redis(port=ours.port)
    try:
        client.flushall()
        client.mset({f"user:{i}": i for i in range(300)} | {"other": 1})
    finally:
        client.close()
    keys = cli(ours.port, "--scan", "--pattern", "user:*").split()
    assert sorted(keys) == sorted(f"user:{i}" for i in range(300))
    assert len(cli(ours.port, "--scan").split()) == 301


def test_redis_benchmark_runs_to_completion(ours):
    done = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            str(ours.port),
            "-t",
            "ping,set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange,mset",
            "-n",
            "300",
            "-c",
            "5",
            "-P",
            "4",
            "--csv",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tests = [line.split(",")[0].strip('"') for line in done.stdout.splitlines()[1:]]
    assert {"SET", "GET", "INCR", "LPUSH", "ZADD", "MSET (10 keys)"} <= set(tests)
    assert "error" not in done.stdout.lower()


def test_module_entry_point_persists_across_sigterm(tmp_path):
    server = start_server_process("--appendonly", "yes", "--appendfsync", "always",
                                  directory=str(tmp_path))  # fmt: skip
    try:
        client = redis.Redis(port=server.port)
        assert client.set("durable", "yes") is True
        assert client.rpush("queue", "a", "b") == 2
        client.close()
    finally:
        status = server.terminate()
    assert status == 0
    again = start_server_process("--appendonly", "yes", directory=str(tmp_path))
    try:
        client = redis.Redis(port=again.port)
        assert client.get("durable") == b"yes"
        assert client.lrange("queue", 0, -1) == [b"a", b"b"]
        client.close()
    finally:
        assert again.terminate() == 0


def test_sigterm_finishes_replies_to_connected_clients(tmp_path):
    server = start_server_process(directory=str(tmp_path))
    client = redis.Redis(port=server.port)
    try:
        with client.pipeline(transaction=False) as pipe:
            for i in range(2000):
                pipe.set(f"k{i}", "x" * 100)
            assert all(pipe.execute())
    finally:
        client.close()
        assert server.terminate() == 0


def test_entry_point_refuses_a_busy_port():
    first = start_server_process()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stores.kv", "--port", str(first.port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode != 0
        assert "cannot listen" in done.stderr
    finally:
        first.terminate()


def test_manage_py_kvserver(tmp_path):
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        KV_URL=f"embedded:{tmp_path / 'kv'}",
        PYTHONPATH=str(ROOT),
    )
    process = subprocess.Popen(
        [sys.executable, "manage.py", "kvserver", "--port", str(port), "--appendonly", "yes"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc=process, timeout=60)
        client = redis.Redis(port=port)
        assert client.set("from-manage", "1") is True
        client.close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    # The data went to KV_URL's data directory.
    assert (tmp_path / "kv").is_dir()
    assert any((tmp_path / "kv").rglob("*.aof"))


def test_sigint_shuts_down_cleanly_too(tmp_path):
    server = start_server_process("--appendonly", "yes", directory=str(tmp_path))
    client = redis.Redis(port=server.port)
    try:
        assert client.set("k", "v") is True
    finally:
        client.close()
    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 0
    again = start_server_process("--appendonly", "yes", directory=str(tmp_path))
    try:
        client = redis.Redis(port=again.port)
        assert client.get("k") == b"v"
        client.close()
    finally:
        assert again.terminate() == 0


def test_a_second_server_on_the_same_directory_is_refused(tmp_path):
    first = start_server_process(directory=str(tmp_path))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stores.kv", "--port", str(free_port()), "--dir", str(tmp_path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 1
        assert "cannot open the data" in done.stderr
        assert str(first.process.pid) in done.stderr  # the lock names its holder
    finally:
        first.terminate()


def test_appendonly_needs_a_directory():
    done = subprocess.run(
        [sys.executable, "-m", "stores.kv", "--port", str(free_port()), "--appendonly", "yes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "--appendonly yes needs --dir" in done.stderr


def test_command_line_options_reach_the_engine(tmp_path):
    server = start_server_process(
        "--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru", "--requirepass", "pw",
        "--maxclients", "7", "--appendfsync", "always", "--proto-max-bulk-len", "1mb",
        directory=str(tmp_path),
    )  # fmt: skip
    try:
        client = redis.Redis(port=server.port, password="pw")
        config = client.config_get("*")
        assert config["maxmemory"] == str(100 * 1024 * 1024)
        assert config["maxmemory-policy"] == "allkeys-lru"
        assert config["maxclients"] == "7"
        assert config["appendfsync"] == "always"
        assert config["proto-max-bulk-len"] == str(1024 * 1024)
        assert int(client.info("server")["tcp_port"]) == server.port
        client.close()
    finally:
        assert server.terminate() == 0
