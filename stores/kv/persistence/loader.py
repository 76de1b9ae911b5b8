"""Loading a data directory into the engine at start-up.

Owns the start-up order (docs/kv/persistence.md): with the AOF on and a
manifest present, the base file then each incremental file in manifest
order; otherwise the snapshot ``dump.kvs`` if present. Every command goes
through ``engine.replay``; a command the engine refuses is corruption at its
offset. Never writes, except cutting a truncated tail off the last
incremental file.
"""

from __future__ import annotations

import logging
import posixpath
from dataclasses import dataclass
from typing import Any

from stores.kv.persistence.aof_reader import replay_file
from stores.kv.persistence.errors import CorruptFileError, ReplayRefusedError
from stores.kv.persistence.format import AOF_DIR, MANIFEST_FILE, SNAPSHOT_FILE
from stores.kv.persistence.fs import FileSystem
from stores.kv.persistence.manifest import Manifest, read_manifest
from stores.kv.persistence.snapshot_reader import load_snapshot

log = logging.getLogger("stores.kv.persistence")


def _error_message(reply: Any) -> str | None:
    message = getattr(reply, "message", None)
    if message is not None and type(reply).__name__ == "ErrorReply":
        return str(message)
    if isinstance(reply, Exception):
        return str(reply)
    return None


def command_applier(engine: Any):
    """Return apply(db, argv) that replays through the engine and checks the reply."""

    def apply(db: int, argv: list[bytes]) -> None:
        try:
            reply = engine.replay(db, argv)
        except Exception as exc:  # the file's fault or the engine's: stop start-up either way
            raise ReplayRefusedError(
                f"replaying {argv[0][:32]!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        message = _error_message(reply)
        if message is not None:
            raise ReplayRefusedError(f"the engine refused {argv[0][:32]!r}: {message}")

    return apply


@dataclass
class Loaded:
    """What start-up found on disk."""

    source: str  # "aof", "snapshot" or "empty"
    keys: int = 0
    commands: int = 0
    manifest: Manifest | None = None
    base_size: int = 0
    aof_size: int = 0  # base plus incremental files


def load_directory(engine: Any, fs: FileSystem, directory: str, appendonly: bool) -> Loaded:
    """Load the data in ``directory`` into ``engine``."""
    apply = command_applier(engine)
    manifest_path = posixpath.join(directory, AOF_DIR, MANIFEST_FILE)
    if appendonly and fs.exists(manifest_path):
        return _load_aof(fs, posixpath.join(directory, AOF_DIR), manifest_path, apply)
    if fs.exists(manifest_path):
        log.warning(
            "appendonly is off: ignoring the append-only file in %s (it is replaced "
            "when the AOF is turned on); loading the snapshot instead",
            posixpath.dirname(manifest_path),
        )
    snapshot_path = posixpath.join(directory, SNAPSHOT_FILE)
    if fs.exists(snapshot_path):
        info = load_snapshot(fs, snapshot_path, _key_applier(apply))
        return Loaded("snapshot", keys=info.keys)
    return Loaded("empty")


def _key_applier(apply):
    def apply_key(db: int, key: bytes, commands: list[list[bytes]]) -> None:
        for argv in commands:
            apply(db, argv)

    return apply_key


def _load_aof(fs: FileSystem, aof_dir: str, manifest_path: str, apply) -> Loaded:
    manifest = read_manifest(fs, manifest_path)
    loaded = Loaded("aof", manifest=manifest)
    for name in manifest.files():
        if not fs.exists(posixpath.join(aof_dir, name)):
            raise CorruptFileError(manifest_path, 0, f"listed file {name} does not exist")
    if manifest.base is not None:
        path = posixpath.join(aof_dir, manifest.base[0])
        info = load_snapshot(fs, path, _key_applier(apply))
        loaded.keys = info.keys
        loaded.base_size = info.size
    paths = [posixpath.join(aof_dir, name) for name, _ in manifest.incrs]
    # A crash can tear only the file being appended to, and files after it are
    # still empty then: the last non-empty file may have a truncated tail.
    last = max((i for i, p in enumerate(paths) if fs.size(p)), default=-1)
    for i, path in enumerate(paths):
        loaded.commands += replay_file(fs, path, apply, last=i == last)
    loaded.aof_size = loaded.base_size + sum(fs.size(p) for p in paths)
    return loaded
