"""Servers for the over-the-wire tests: this project's RESP server on a thread
(or as a process), next to a real redis-server, on free loopback ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stores.kv.config import Config
from stores.kv.engine import Engine
from stores.kv.server import BackgroundServer
from tests.support.ports import LOOPBACK, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[3]


class OurServer:
    """Our server with a fresh in-memory engine, on a thread of this process."""

    def __init__(self, **config):
        self.engine = Engine(Config(**config))
        self.background = BackgroundServer(self.engine).start()
        self.host = LOOPBACK
        self.port = self.background.port

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def stop(self) -> None:
        self.background.stop()
        self.engine.close()


@dataclass
class ServerProcess:
    """``python -m stores.kv`` running as a child process."""

    process: subprocess.Popen
    port: int
    directory: str

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def terminate(self, timeout: float = 30.0) -> int:
        """Send SIGTERM and return the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


# Every child server started, so a failing test cannot leave one running.
_started: list[subprocess.Popen] = []


def kill_leftover_servers() -> None:
    """Kill every child server a test started and did not stop."""
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def start_server_process(*args: str, directory: str | None = None) -> ServerProcess:
    """Start ``python -m stores.kv`` on a free port and wait until it listens."""
    directory = directory or tempfile.mkdtemp(prefix="kv-server-")
    port = free_port()
    command = [sys.executable, "-m", "stores.kv", "--port", str(port), "--dir", directory, *args]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _started.append(process)
    try:
        wait_for_port(port, proc=process, timeout=30)
    except Exception:
        process.kill()
        process.wait()
        raise
    return ServerProcess(process, port, directory)
