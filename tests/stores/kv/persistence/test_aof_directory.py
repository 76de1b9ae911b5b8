"""The AOF directory: durable incremental files, manifests, orphans, discard."""

from stores.kv.persistence.aof_directory import AofDirectory
from stores.kv.persistence.errors import SimulatedCrash
from stores.kv.persistence.fs import FaultInjectingFileSystem
from stores.kv.persistence.manifest import Manifest, read_manifest


def setup():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    return fs, AofDirectory(fs, "/d/appendonlydir")


def test_new_incremental_file_survives_a_crash():
    fs, files = setup()
    name, file = files.create_incr(3)
    assert name == "appendonly.aof.3.incr.aof"
    fs.crash()
    fs.reboot()
    assert fs.exists(files.file_path(name)) and fs.size(files.file_path(name)) == 0


def test_publish_and_remove_orphans():
    fs, files = setup()
    name, _ = files.create_incr(1)
    _, _ = files.create_incr(2)
    files.publish(Manifest(None, [(name, 1)]))
    files.remove_orphans(read_manifest(fs, files.manifest_path))
    fs.crash()
    fs.reboot()
    assert fs.listdir(files.path) == ["appendonly.aof.1.incr.aof", "appendonly.aof.manifest"]


def test_a_crash_during_discard_never_leaves_a_manifest_without_its_files():
    for crash_at in range(1, 8):
        fs, files = setup()
        base, _ = files.create_incr(1)
        incr, _ = files.create_incr(2)
        files.publish(Manifest((base, 1), [(incr, 2)]))
        fs.crash_after(crash_at)
        try:
            files.discard()
        except SimulatedCrash:
            pass
        fs.reboot()
        if fs.exists(files.manifest_path):
            manifest = read_manifest(fs, files.manifest_path)
            assert all(fs.exists(files.file_path(name)) for name in manifest.files()), crash_at
        files.discard()
        assert fs.listdir(files.path) == []


def test_discard_of_a_missing_directory_is_a_no_op():
    fs, files = setup()
    files.discard()
    assert fs.listdir("/d") == []
