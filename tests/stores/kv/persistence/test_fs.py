"""The filesystem interface: the real one, and the crash-simulating one."""

import pytest

from stores.kv.persistence.errors import SimulatedCrash
from stores.kv.persistence.fs import FaultInjectingFileSystem, RealFileSystem


@pytest.fixture(params=["real", "memory"])
def fs_and_dir(request, tmp_path):
    if request.param == "real":
        return RealFileSystem(), str(tmp_path)
    fs = FaultInjectingFileSystem()
    fs.makedirs("/data")
    return fs, "/data"


def test_both_filesystems_behave_alike(fs_and_dir):
    fs, d = fs_and_dir
    f = fs.open_append(f"{d}/a")
    f.write(b"hello ")
    f.write(b"world")
    f.fsync()
    assert f.size() == 11
    f.close()
    f = fs.open_append(f"{d}/a")
    f.write(b"!")
    f.close()
    with fs.open_read(f"{d}/a") as stream:
        assert stream.read() == b"hello world!"
    assert fs.size(f"{d}/a") == 12
    fs.truncate(f"{d}/a", 5)
    assert fs.size(f"{d}/a") == 5
    fs.rename(f"{d}/a", f"{d}/b")
    assert not fs.exists(f"{d}/a") and fs.exists(f"{d}/b")
    fs.create(f"{d}/c").close()
    fs.makedirs(f"{d}/sub")
    fs.fsync_dir(d)
    assert fs.listdir(d) == ["b", "c", "sub"]
    fs.remove(f"{d}/b")
    assert fs.listdir(d) == ["c", "sub"]
    with pytest.raises(FileNotFoundError):
        fs.open_read(f"{d}/b")


def test_create_truncates(fs_and_dir):
    fs, d = fs_and_dir
    f = fs.create(f"{d}/x")
    f.write(b"long content")
    f.close()
    f = fs.create(f"{d}/x")
    f.write(b"new")
    f.close()
    with fs.open_read(f"{d}/x") as stream:
        assert stream.read() == b"new"


def durable_file(fs, path, data):
    f = fs.create(path)
    f.write(data)
    f.fsync()
    f.close()
    fs.fsync_dir("/d")


@pytest.fixture
def mem():
    fs = FaultInjectingFileSystem(seed=7)
    fs.makedirs("/d")
    return fs


def test_reboot_drops_unsynced_data(mem):
    f = mem.create("/d/log")
    f.write(b"synced")
    f.fsync()
    mem.fsync_dir("/d")
    f.write(b"-lost")
    assert mem.read_bytes("/d/log") == b"synced-lost"
    mem.reboot()
    assert mem.read_bytes("/d/log") == b"synced"


def test_reboot_can_keep_a_prefix_of_unsynced_data(mem):
    durable_file(mem, "/d/log", b"base")
    f = mem.open_append("/d/log")
    f.write(b"0123456789")
    mem.reboot(keep_unsynced=True)
    data = mem.read_bytes("/d/log")
    assert data.startswith(b"base")
    assert b"base0123456789".startswith(data)


def test_new_file_needs_directory_fsync(mem):
    f = mem.create("/d/new")
    f.write(b"x")
    f.fsync()
    mem.reboot()
    assert not mem.exists("/d/new")


def test_rename_and_remove_need_directory_fsync(mem):
    durable_file(mem, "/d/old", b"old")
    durable_file(mem, "/d/tmp", b"new")
    mem.rename("/d/tmp", "/d/old")
    mem.reboot()
    assert mem.read_bytes("/d/old") == b"old" and mem.exists("/d/tmp")
    mem.rename("/d/tmp", "/d/old")
    mem.fsync_dir("/d")
    mem.reboot()
    assert mem.read_bytes("/d/old") == b"new" and not mem.exists("/d/tmp")
    mem.remove("/d/old")
    mem.reboot()
    assert mem.exists("/d/old")


def test_crash_after_n_operations_kills_the_machine(mem):
    f = mem.create("/d/log")
    mem.crash_after(2)
    f.write(b"a")
    with pytest.raises(SimulatedCrash):
        f.fsync()
    assert mem.crashed
    with pytest.raises(SimulatedCrash):
        f.write(b"b")
    with pytest.raises(SimulatedCrash):
        mem.listdir("/d")
    mem.reboot()
    assert not mem.crashed and not mem.exists("/d/log")


def test_crash_during_a_write_may_tear_it(mem):
    durable_file(mem, "/d/log", b"")
    f = mem.open_append("/d/log")
    mem.crash_after(1)
    with pytest.raises(SimulatedCrash):
        f.write(b"0123456789")
    assert b"0123456789".startswith(mem.read_bytes("/d/log"))


def test_memory_locks_exclude_each_other_until_reboot(mem):
    from stores.kv.persistence.errors import DataDirectoryLockedError

    lock = mem.lock("/d", "/d/kv.lock")
    with pytest.raises(DataDirectoryLockedError):
        mem.lock("/d", "/d/kv.lock")
    lock.release()
    mem.lock("/d", "/d/kv.lock")
    mem.reboot()
    mem.lock("/d", "/d/kv.lock")


def test_real_makedirs_fsyncs_the_parent_of_each_new_directory(tmp_path):
    fs = RealFileSystem()
    synced = []
    real_fsync_dir = fs.fsync_dir
    fs.fsync_dir = lambda path: (synced.append(path), real_fsync_dir(path))
    fs.makedirs(str(tmp_path / "a" / "b"))
    assert (tmp_path / "a" / "b").is_dir()
    assert synced == [str(tmp_path / "a"), str(tmp_path)]
    synced.clear()
    fs.makedirs(str(tmp_path / "a" / "b"))
    assert synced == []


def test_handles_from_before_a_reboot_are_dead(mem):
    f = mem.create("/d/log")
    f.write(b"a")
    mem.reboot()
    with pytest.raises(SimulatedCrash):
        f.write(b"b")
    with pytest.raises(SimulatedCrash):
        f.fsync()
