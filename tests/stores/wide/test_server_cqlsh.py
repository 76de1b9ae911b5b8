"""cqlsh (the PyPI package) against our server, driven as a user would."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stores.wide.server_process import ServerProcess

CQLSH = Path(sys.executable).with_name("cqlsh")


@pytest.fixture(scope="module")
def server():
    process = ServerProcess()
    yield process
    code, output = process.stop()
    assert code == 0, output


def cqlsh(server, tmp_path, statements: str, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOME=str(tmp_path))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [
            str(CQLSH),
            "127.0.0.1",
            str(server.port),
            "--no-color",
            "--connect-timeout",
            "20",
            "--request-timeout",
            "20",
            *extra,
            "-e",
            statements,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cqlsh_is_installed():
    assert CQLSH.exists() or shutil.which("cqlsh"), "pip install cqlsh into the venv"


def test_statements_and_describe(server, tmp_path):
    setup = cqlsh(
        server,
        tmp_path,
        "CREATE KEYSPACE shell WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1};"
        "CREATE TABLE shell.notes (k int, c int, body text, PRIMARY KEY (k, c));"
        "INSERT INTO shell.notes (k, c, body) VALUES (1, 1, 'first note');"
        "INSERT INTO shell.notes (k, c, body) VALUES (1, 2, 'second note');",
    )
    assert setup.returncode == 0, setup.stderr + setup.stdout

    select = cqlsh(server, tmp_path, "SELECT c, body FROM shell.notes WHERE k = 1;")
    assert select.returncode == 0, select.stderr
    assert "first note" in select.stdout and "second note" in select.stdout
    assert "(2 rows)" in select.stdout

    keyspaces = cqlsh(server, tmp_path, "DESCRIBE KEYSPACES;")
    assert keyspaces.returncode == 0, keyspaces.stderr
    assert "shell" in keyspaces.stdout and "system" in keyspaces.stdout

    table = cqlsh(server, tmp_path, "DESCRIBE TABLE shell.notes;")
    assert table.returncode == 0, table.stderr
    assert "CREATE TABLE shell.notes" in table.stdout
    assert "PRIMARY KEY (k, c)" in table.stdout


def test_errors_are_reported(server, tmp_path):
    result = cqlsh(server, tmp_path, "SELECT * FROM shell.nope;")
    assert result.returncode != 0
    assert "InvalidRequest" in result.stderr or "unconfigured table" in result.stderr.lower()
