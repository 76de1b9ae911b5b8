"""The data-directory lock: one process at a time, the holder named."""

import os
import subprocess
import sys
import textwrap

import pytest

from stores.kv.persistence.errors import DataDirectoryLockedError
from stores.kv.persistence.lock import acquire_lock, read_holder_pid

HOLDER = textwrap.dedent(
    """
    import sys
    from stores.kv.persistence.lock import acquire_lock
    lock = acquire_lock(sys.argv[1], sys.argv[1] + "/kv.lock")
    print("locked", flush=True)
    sys.stdin.read()
    """
)


def start_holder(directory):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=os.getcwd(),
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_process_gets_an_error_naming_the_holder(tmp_path):
    holder = start_holder(tmp_path)
    try:
        with pytest.raises(DataDirectoryLockedError) as info:
            acquire_lock(str(tmp_path), str(tmp_path / "kv.lock"))
        assert info.value.holder_pid == holder.pid
        assert f"process {holder.pid}" in str(info.value)
        assert str(tmp_path) in str(info.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    lock = acquire_lock(str(tmp_path), str(tmp_path / "kv.lock"))
    assert read_holder_pid(str(tmp_path / "kv.lock")) == os.getpid()
    lock.release()


def test_lock_of_a_killed_holder_is_free(tmp_path):
    holder = start_holder(tmp_path)
    holder.kill()
    holder.wait(timeout=10)
    lock = acquire_lock(str(tmp_path), str(tmp_path / "kv.lock"))
    assert lock.held
    lock.release()
    assert not lock.held


def test_same_process_cannot_open_twice(tmp_path):
    lock = acquire_lock(str(tmp_path), str(tmp_path / "kv.lock"))
    try:
        with pytest.raises(DataDirectoryLockedError) as info:
            acquire_lock(str(tmp_path), str(tmp_path / "kv.lock"))
        assert info.value.holder_pid == os.getpid()
    finally:
        lock.release()


def test_unreadable_pid_is_reported_as_unknown(tmp_path):
    (tmp_path / "kv.lock").write_text("garbage")
    assert read_holder_pid(str(tmp_path / "kv.lock")) is None
    assert "another process" in str(DataDirectoryLockedError("d", None))
