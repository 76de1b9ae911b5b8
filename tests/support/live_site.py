"""Serve the site with daphne in a subprocess, for browser and WebSocket tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import LOOPBACK, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class LiveSite:
    """A daphne process serving kvsite on a loopback port."""

    port: int
    process: subprocess.Popen
    env: dict

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOOPBACK}:{self.port}"

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """Run a manage.py command against the same database and stores."""
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, check=True, capture_output=True, text=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_live_site(**env_overrides: str) -> LiveSite:
    """Migrate a fresh database and start daphne on a free port."""
    var_dir = tempfile.mkdtemp(prefix="kvsite-live-")
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "kvsite.settings",
            "KVSITE_VAR_DIR": var_dir,
            "SQLITE_PATH": str(Path(var_dir) / "db.sqlite3"),
            "SECRET_KEY": "live-test-secret-key-not-for-production-0123456789abcdef",
            "KV_URL": "memory:",
            "WIDE_URL": "memory:",
            "DEBUG": "1",
        }
    )
    env.update(env_overrides)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", LOOPBACK, "-p", str(port), "kvsite.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30, proc=process)
    except Exception:
        process.kill()
        _, err = process.communicate()
        raise RuntimeError(f"daphne did not start: {err.decode(errors='replace')[-2000:]}") from None
    return LiveSite(port, process, env)
