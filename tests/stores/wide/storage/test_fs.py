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


def _resident_kib(path: str) -> int:
    """Return the KiB of ``path``'s memory maps that this process has mapped in (smaps Rss)."""
    total = 0
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
                inside = len(fields) >= 6 and fields[5] == path
            elif inside and fields[0] == "Rss:":
                total += int(fields[1])
    return total


@pytest.mark.parametrize("advice", ["populate", "fallback"])
def test_prefault_maps_every_page_and_reads_stay_the_same(tmp_path, monkeypatch, advice):
    from stores.wide.storage import fs as fs_module

    # Chunks smaller than the file, so the file is mapped in several calls.
    monkeypatch.setattr(fs_module, "_PREFAULT_CHUNK", 256 * 1024)
    if advice == "fallback":
        # An advice the kernel refuses: pages are then touched one by one.
        monkeypatch.setattr(fs_module, "_MADV_POPULATE_READ", 0x7FFF)
    fs = OSFileSystem()
    size = 2 * 1024 * 1024 + 123
    data = os.urandom(size)
    path = str(tmp_path / "f")
    handle = fs.create(path)
    handle.write(data)
    handle.sync()
    handle.close()
    mapped = fs.open_read_immutable(path)
    assert _resident_kib(path) == 0  # nothing read yet: no page mapped
    assert mapped.prefault() == size
    assert _resident_kib(path) >= size // 1024
    for offset, length in ((0, 10), (size - 5, 50), (300_000, 70_000)):
        assert mapped.pread(offset, length) == data[offset : offset + length]
    mapped.close()
    assert _resident_kib(path) == 0


def test_prefault_of_unmapped_files_maps_nothing(tmp_path):
    fs = OSFileSystem()
    empty = str(tmp_path / "empty")
    fs.create(empty).close()
    handle = fs.open_read_immutable(empty)
    assert handle.prefault() == 0
    handle.close()
    plain = fs.open_read(empty)
    assert plain.prefault() == 0
    plain.close()
    memory = MemoryFileSystem()
    memory.makedirs("/d")
    handle = memory.create("/d/f")
    handle.write(b"x" * 10_000)
    handle.sync()
    handle.close()
    assert memory.open_read_immutable("/d/f").prefault() == 0
