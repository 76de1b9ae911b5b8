"""Start ``python -m stores.wide`` on a free loopback port (tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[3]


class ServerProcess:
    """A CQL server subprocess; ``stop()`` sends SIGTERM and waits."""

    def __init__(
        self, *extra_args: str, directory: str | None = None, command: list[str] | None = None
    ):
        self.port = free_port()
        command = command or ["-m", "stores.wide"]
        args = [sys.executable, *command, "--port", str(self.port), "--bind", "127.0.0.1"]
        if directory is not None:
            args += ["--dir", directory]
        args += list(extra_args)
        env = dict(os.environ)
        if command[0] != "manage.py":
            env.pop("DJANGO_SETTINGS_MODULE", None)
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_port(self.port, timeout=30, proc=self.proc)
        except Exception:
            self.proc.kill()
            output = self.proc.communicate(timeout=10)[0]
            raise RuntimeError(f"server did not start:\n{output}") from None

    def stop(self, timeout: float = 20) -> tuple[int, str]:
        """Send SIGTERM, wait, and return (exit code, output)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        try:
            output = self.proc.communicate(timeout=max(deadline - time.monotonic(), 1))[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            output = self.proc.communicate(timeout=10)[0]
        return self.proc.returncode, output


def driver_cluster(port: int, **options):
    """Return a cassandra-driver Cluster that only ever contacts 127.0.0.1:port."""
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    profile = ExecutionProfile(
        load_balancing_policy=WhiteListRoundRobinPolicy(["127.0.0.1"]),
        request_timeout=30,
        row_factory=options.pop("row_factory", None) or _named_tuples(),
    )
    return Cluster(
        contact_points=["127.0.0.1"],
        port=port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        connect_timeout=10,
        control_connection_timeout=10,
        **options,
    )


def _named_tuples():
    from cassandra.query import named_tuple_factory

    return named_tuple_factory
