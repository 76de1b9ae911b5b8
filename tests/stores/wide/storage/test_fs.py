"""The memory filesystem remembers what was synced; a crash drops the rest."""

import os
import subprocess
import sys

import pytest

from stores.wide.storage.errors import DirectoryLocked
from stores.wide.storage.fs import (
    FaultInjectingFileSystem,
    MemoryFileSystem,
    OSFileSystem,
    SimulatedCrash,
)


def test_crash_keeps_synced_bytes_and_durable_names_only():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    f = fs.create("/d/a")
    f.write(b"synced")
    f.sync()
    f.write(b"lost")
    fs.sync_dir("/d")
    g = fs.create("/d/b")
    g.write(b"never durable name")
    g.sync()
    after = fs.crash()
    assert after.read_bytes("/d/a") == b"synced"
    assert not after.exists("/d/b")


def test_rename_needs_a_directory_sync_to_survive():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    f = fs.create("/d/tmp")
    f.write(b"new")
    f.sync()
    fs.rename("/d/tmp", "/d/final")
    assert not fs.crash().exists("/d/final")
    fs.sync_dir("/d")
    assert fs.crash().read_bytes("/d/final") == b"new"


def test_torn_crash_keeps_a_prefix_of_unsynced_bytes():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    f = fs.create("/d/a")
    f.write(b"abc")
    f.sync()
    fs.sync_dir("/d")
    f.write(b"defghij")
    sizes = {len(fs.crash(torn=True, seed=s).read_bytes("/d/a")) for s in range(30)}
    assert min(sizes) >= 3 and max(sizes) <= 10 and len(sizes) > 1


def test_fault_injection_budget_kills_every_later_call():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    fs.arm(1)
    f = fs.create("/d/a")
    with pytest.raises(SimulatedCrash):
        f.write(b"x")
    with pytest.raises(SimulatedCrash):
        fs.listdir("/d")
    assert fs.crash().listdir("/d") == []


def test_os_lock_names_the_holder_and_blocks_other_processes(tmp_path):
    fs = OSFileSystem()
    path = str(tmp_path / "LOCK")
    lock = fs.lock(path)
    assert open(path).read().strip() == str(os.getpid())
    code = (
        "import sys\n"
        "from stores.wide.storage.fs import OSFileSystem\n"
        "from stores.wide.storage.errors import DirectoryLocked\n"
        "try:\n"
        f"    OSFileSystem().lock({path!r})\n"
        "except DirectoryLocked as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=os.getcwd()
    )
    assert result.returncode == 3, result.stderr
    assert str(os.getpid()) in result.stdout
    lock.release()
    again = fs.lock(path)
    again.release()


def test_memory_lock_is_exclusive():
    fs = MemoryFileSystem()
    fs.makedirs("/d")
    lock = fs.lock("/d/LOCK")
    with pytest.raises(DirectoryLocked):
        fs.lock("/d/LOCK")
    lock.release()
    fs.lock("/d/LOCK").release()


def test_os_immutable_reads_match_pread_and_come_back_short_past_the_end(tmp_path):
    fs = OSFileSystem()
    path = str(tmp_path / "f")
    handle = fs.create(path)
    handle.write(bytes(range(256)) * 40)
    handle.sync()
    handle.close()
    plain = fs.open_read(path)
    mapped = fs.open_read_immutable(path)
    for offset, length in ((0, 10), (4000, 300), (10_230, 10), (10_235, 50), (20_000, 4)):
        assert mapped.pread(offset, length) == plain.pread(offset, length)
    assert len(mapped.pread(10_235, 50)) == 5 and mapped.size() == 10_240
    mapped.close()
    mapped.close()
    plain.close()
    empty = str(tmp_path / "empty")
    fs.create(empty).close()
    handle = fs.open_read_immutable(empty)
    assert handle.pread(0, 8) == b"" and handle.size() == 0
    handle.close()
