"""Serve the site with daphne in a subprocess, for browser and WebSocket tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import LOOPBACK, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]

# A small demo data set: enough for two front pages and some comments.
LIVE_SEED = {"posts": "14", "comments": "60", "users": "3", "views": "20", "days": "10"}


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
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
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
    """Migrate a fresh database, prepare the blog's stores and start daphne on a free port.

    With ``WIDE_URL=memory:`` (the default) the site applies the blog schema
    and a small seed itself (``BLOG_MEMORY_SEED``) on its first request, which
    is made here before returning; with a persistent store ``apply_schema``
    and ``seed_demo`` run first, as ``make run`` does.
    """
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
            "BLOG_MEMORY_SEED": ",".join(f"{k}={v}" for k, v in LIVE_SEED.items()),
        }
    )
    env.update(env_overrides)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    if env["WIDE_URL"] != "memory:":
        seed_args = [f"--{k}={v}" for k, v in LIVE_SEED.items()]
        for command in (["apply_schema"], ["seed_demo", "--if-empty", "--no-progress", *seed_args]):
            subprocess.run(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
            )
    port = free_port()
    # stderr goes to a file: a pipe nobody reads would stall daphne once full.
    log_path = Path(var_dir) / "daphne.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                LOOPBACK,
                "-p",
                str(port),
                "kvsite.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_for_port(port, timeout=30, proc=process)
    except Exception:
        process.kill()
        process.wait()
        raise RuntimeError(f"daphne did not start: {_tail(log_path)}") from None
    site = LiveSite(port, process, env)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(site.url + "/", timeout=60) as response:
            response.read()
    except Exception as exc:
        site.stop()
        raise RuntimeError(f"the site did not serve / ({exc}): {_tail(log_path)}") from None
    return site


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_bytes()[-size:].decode(errors="replace")
    except OSError:
        return ""
