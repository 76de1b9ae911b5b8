"""The snapshot writer: keys out as checksummed records, committed atomically.

Owns writing one snapshot file (the format in docs/kv/persistence.md):
records go to ``<name>.tmp``; ``commit`` writes the END record, fsyncs the
file, renames it over the final name and fsyncs the directory, so a reader
sees the old snapshot or the new one, never a part. Never walks the engine:
the caller hands it each key's recreating commands.
"""

from __future__ import annotations

import posixpath
import struct
import zlib
from collections.abc import Sequence

from stores.kv.persistence.format import (
    HEADER,
    RECORD_AUX,
    RECORD_END,
    RECORD_HEADER,
    RECORD_KEY,
    SNAPSHOT_MAGIC,
    SNAPSHOT_VERSION,
    TEMP_SUFFIX,
    U32,
    U64,
)
from stores.kv.persistence.fs import FileSystem

_pack_u32 = U32.pack
_pack_db_len = struct.Struct(">II").pack


def encode_record(kind: int, payload: bytes) -> bytes:
    """Return one record: kind, payload length, CRC32 of kind + payload, payload."""
    crc = zlib.crc32(payload, zlib.crc32(bytes([kind])))
    return RECORD_HEADER.pack(kind, len(payload), crc) + payload


def encode_key_payload(db: int, key: bytes, commands: Sequence[Sequence[bytes]]) -> bytes:
    """Return the payload of a KEY record."""
    pack = _pack_u32
    parts = [_pack_db_len(db, len(key)), key, pack(len(commands))]
    append = parts.append
    for argv in commands:
        append(pack(len(argv)))
        for arg in argv:
            append(pack(len(arg)))
            append(arg)
    return b"".join(parts)


def encode_aux_payload(name: bytes, value: bytes) -> bytes:
    """Return the payload of an AUX record."""
    return _pack_u32(len(name)) + name + _pack_u32(len(value)) + value


class SnapshotWriter:
    """Write one snapshot file to a temporary name, then commit or abort it."""

    FLUSH_AT = 1 << 20

    def __init__(self, fs: FileSystem, path: str, aux: dict[str, str] | None = None):
        self.fs = fs
        self.path = path
        self.temp_path = path + TEMP_SUFFIX
        self.keys = 0
        self._file = fs.create(self.temp_path)
        self._pending = bytearray(HEADER.pack(SNAPSHOT_MAGIC, SNAPSHOT_VERSION))
        for name, value in (aux or {}).items():
            self._add(RECORD_AUX, encode_aux_payload(name.encode(), value.encode()))

    def _add(self, kind: int, payload: bytes) -> None:
        self._pending += encode_record(kind, payload)
        if len(self._pending) >= self.FLUSH_AT:
            self._file.write(bytes(self._pending))
            self._pending.clear()

    def add_key(self, db: int, key: bytes, commands: Sequence[Sequence[bytes]]) -> None:
        """Add one key with the commands that recreate it."""
        self._add(RECORD_KEY, encode_key_payload(db, key, commands))
        self.keys += 1

    def size(self) -> int:
        """Return the bytes written so far."""
        return self._file.size() + len(self._pending)

    def commit(self) -> int:
        """Finish the file and atomically put it in place; return its size."""
        self._add(RECORD_END, U64.pack(self.keys))
        self._file.write(bytes(self._pending))
        self._pending.clear()
        self._file.fsync()
        size = self._file.size()
        self._file.close()
        self.fs.rename(self.temp_path, self.path)
        self.fs.fsync_dir(posixpath.dirname(self.path) or ".")
        return size

    def abort(self) -> None:
        """Drop the temporary file."""
        self._file.close()
        if self.fs.exists(self.temp_path):
            self.fs.remove(self.temp_path)
