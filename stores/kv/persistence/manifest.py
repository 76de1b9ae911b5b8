"""The AOF manifest: which base and incremental files make up the AOF.

Owns reading and atomically replacing ``appendonlydir/appendonly.aof.manifest``
(Redis 7's multi-part AOF idea). The manifest is the single point of truth:
a file not listed in it is ignored and may be deleted; replacing it is the
atomic switch at the end of a rewrite. Never reads the data files.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from stores.kv.persistence.errors import CorruptFileError
from stores.kv.persistence.format import (
    MANIFEST_TYPE_BASE,
    MANIFEST_TYPE_INCR,
    TEMP_SUFFIX,
)
from stores.kv.persistence.fs import FileSystem


@dataclass
class Manifest:
    """A base file (optional) and the incremental files replayed on top of it, in order."""

    base: tuple[str, int] | None = None
    incrs: list[tuple[str, int]] = field(default_factory=list)

    def next_seq(self) -> int:
        """Return a sequence number larger than any listed."""
        seqs = [seq for _, seq in self.incrs]
        if self.base is not None:
            seqs.append(self.base[1])
        return max(seqs, default=0) + 1

    def files(self) -> list[str]:
        """Return every listed file name, base first."""
        names = [self.base[0]] if self.base else []
        return names + [name for name, _ in self.incrs]

    def encode(self) -> bytes:
        """Return the manifest's text."""
        lines = []
        if self.base is not None:
            lines.append(f"file {self.base[0]} seq {self.base[1]} type {MANIFEST_TYPE_BASE}\n")
        for name, seq in self.incrs:
            lines.append(f"file {name} seq {seq} type {MANIFEST_TYPE_INCR}\n")
        return "".join(lines).encode("utf-8")


def parse_manifest(data: bytes, path: str) -> Manifest:
    """Return the Manifest in ``data``; raise CorruptFileError naming the bad line."""
    manifest = Manifest()
    offset = 0
    for raw in data.splitlines(keepends=True):
        line = raw.decode("utf-8", "replace").strip()
        if line and not line.startswith("#"):
            parts = line.split()
            fields = dict(zip(parts[::2], parts[1::2], strict=False))
            name, seq, kind = fields.get("file"), fields.get("seq", ""), fields.get("type")
            if len(parts) % 2 or not name or not seq.isdigit() or "/" in name:
                raise CorruptFileError(path, offset, f"malformed manifest line {line!r}")
            if kind == MANIFEST_TYPE_BASE:
                if manifest.base is not None or manifest.incrs:
                    raise CorruptFileError(path, offset, "the base file must come first, once")
                manifest.base = (name, int(seq))
            elif kind == MANIFEST_TYPE_INCR:
                manifest.incrs.append((name, int(seq)))
            else:
                raise CorruptFileError(path, offset, f"unknown file type in {line!r}")
        offset += len(raw)
    return manifest


def read_manifest(fs: FileSystem, path: str) -> Manifest:
    """Read the manifest at ``path``."""
    with fs.open_read(path) as stream:
        return parse_manifest(stream.read(), path)


def write_manifest(fs: FileSystem, path: str, manifest: Manifest) -> None:
    """Atomically replace the manifest at ``path`` (temp file, fsync, rename, fsync dir)."""
    temp = path + TEMP_SUFFIX
    file = fs.create(temp)
    try:
        file.write(manifest.encode())
        file.fsync()
    finally:
        file.close()
    fs.rename(temp, path)
    fs.fsync_dir(posixpath.dirname(path) or ".")
