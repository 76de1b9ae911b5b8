"""The append-only file's directory: manifest, base and incremental files.

Owns the file-level steps on ``appendonlydir``: creating an incremental
file durably, publishing a manifest (the atomic switch), removing files no
manifest lists, and deleting the whole AOF manifest-first. Never decides
when: the Persistence object does, and never reads or writes file contents
other than the manifest.
"""

from __future__ import annotations

import logging
import posixpath

from stores.kv.persistence.format import AOF_PREFIX, MANIFEST_FILE, incr_file_name
from stores.kv.persistence.fs import FileSystem, WritableFile
from stores.kv.persistence.manifest import Manifest, write_manifest

log = logging.getLogger("stores.kv.persistence")


class AofDirectory:
    """The files of one ``appendonlydir``."""

    def __init__(self, fs: FileSystem, path: str):
        self.fs = fs
        self.path = path
        self.manifest_path = posixpath.join(path, MANIFEST_FILE)

    def file_path(self, name: str) -> str:
        """Return the path of file ``name`` in this directory."""
        return posixpath.join(self.path, name)

    def create_incr(self, seq: int) -> tuple[str, WritableFile]:
        """Create the empty incremental file ``seq`` durably; return (name, file)."""
        self.fs.makedirs(self.path)
        name = incr_file_name(seq)
        file = self.fs.create(self.file_path(name))
        file.fsync()
        self.fs.fsync_dir(self.path)
        return name, file

    def publish(self, manifest: Manifest) -> None:
        """Atomically make ``manifest`` the AOF."""
        write_manifest(self.fs, self.manifest_path, manifest)

    def remove(self, names: list[str] | set[str]) -> None:
        """Delete the named files (those that exist) and make that durable."""
        for name in names:
            path = self.file_path(name)
            if self.fs.exists(path):
                self.fs.remove(path)
        self.fs.fsync_dir(self.path)

    def remove_orphans(self, manifest: Manifest) -> None:
        """Delete files the manifest does not list (leftovers of interrupted jobs)."""
        if not self.fs.exists(self.path):
            return
        keep = set(manifest.files()) | {MANIFEST_FILE}
        orphans = [name for name in self.fs.listdir(self.path) if name not in keep]
        for name in orphans:
            log.info("removing %s: not part of the AOF", name)
        if orphans:
            self.remove(orphans)

    def discard(self) -> None:
        """Delete the whole AOF, manifest first, so no start ever loads a part."""
        fs = self.fs
        if not fs.exists(self.path):
            return
        if fs.exists(self.manifest_path):
            fs.remove(self.manifest_path)
            fs.fsync_dir(self.path)
        self.remove([name for name in fs.listdir(self.path) if name.startswith(AOF_PREFIX)])
