"""Start and stop a real redis-server on a free loopback port for tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from tests.support.ports import LOOPBACK, free_port, wait_for_port


@dataclass
class RedisServer:
    """A running redis-server owned by a test."""

    host: str
    port: int
    process: subprocess.Popen
    directory: str

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def redis_server_binary() -> str:
    """Return the path of redis-server or raise with the install hint."""
    path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError(
            "redis-server is not installed: run `make test` (it installs redis-server)"
        )
    return path


def start_redis_server(*extra_args: str) -> RedisServer:
    """Start redis-server on 127.0.0.1 and a free port, without persistence."""
    directory = tempfile.mkdtemp(prefix="kvsite-redis-")
    port = free_port()
    args = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        LOOPBACK,
        "--dir",
        directory,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
        *extra_args,
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, proc=process)
    except Exception:
        process.kill()
        raise
    return RedisServer(LOOPBACK, port, process, directory)
