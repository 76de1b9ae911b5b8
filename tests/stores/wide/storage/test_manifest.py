"""The manifest is replaced atomically: old or new, never a mix."""

from stores.wide.storage.fs import FaultInjectingFileSystem, SimulatedCrash
from stores.wide.storage.manifest import empty_manifest, load_manifest, save_manifest


def test_round_trip():
    fs = FaultInjectingFileSystem()
    fs.makedirs("/d")
    assert load_manifest(fs, "/d") is None
    manifest = empty_manifest()
    manifest["keyspaces"]["ks"] = {"replication": 1}
    save_manifest(fs, "/d", manifest)
    assert load_manifest(fs.crash(), "/d") == manifest


def test_crash_at_every_step_leaves_old_or_new():
    old = empty_manifest()
    new = empty_manifest()
    new["next_generation"] = 42
    for budget in range(0, 8):
        fs = FaultInjectingFileSystem()
        fs.makedirs("/d")
        save_manifest(fs, "/d", old)
        fs.arm(budget)
        try:
            save_manifest(fs, "/d", new)
        except SimulatedCrash:
            pass
        assert load_manifest(fs.crash(), "/d") in (old, new)
