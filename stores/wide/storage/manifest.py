"""The manifest: the one file that says what is live in a data directory.

Owns the atomic record of keyspaces, table schemas, each table's live
SSTable generations and commit-log replay position, the next generation
number and the recent compaction history. Written whole to a temp file,
fsynced, renamed over the old one and the directory fsynced, so a crash
leaves either the old or the new manifest, never a mix. Never opens SSTables.
"""

from __future__ import annotations

import json
from typing import Any

from .blocks import frame_block, unframe
from .format import MANIFEST, MANIFEST_TEMP, MANIFEST_VERSION
from .fs import FileSystem


def empty_manifest() -> dict[str, Any]:
    return {
        "version": MANIFEST_VERSION,
        "keyspaces": {},
        "tables": {},
        "next_generation": 1,
        "compaction_history": [],
    }


def load_manifest(fs: FileSystem, directory: str) -> dict[str, Any] | None:
    """Return the manifest in ``directory``, or None if there is none yet."""
    path = f"{directory}/{MANIFEST}"
    if not fs.exists(path):
        return None
    data = json.loads(unframe(fs.read_bytes(path), path))
    return data


def save_manifest(fs: FileSystem, directory: str, manifest: dict[str, Any]) -> None:
    """Atomically replace the manifest in ``directory``."""
    temp = f"{directory}/{MANIFEST_TEMP}"
    handle = fs.create(temp)
    handle.write(frame_block(json.dumps(manifest, sort_keys=True).encode()))
    handle.sync()
    handle.close()
    fs.rename(temp, f"{directory}/{MANIFEST}")
    fs.sync_dir(directory)
