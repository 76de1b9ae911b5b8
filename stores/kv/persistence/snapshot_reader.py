"""The snapshot reader: checksummed records in, keys replayed into the engine.

Owns checking a snapshot file (magic, version, each record's CRC32, the END
record and its key count) and handing each key's commands to the caller.
Any damage is a CorruptFileError naming the file and the record's byte
offset: a snapshot is written atomically, so unlike the AOF it has no
legitimately truncated tail. Never writes.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from stores.kv.persistence.errors import CorruptFileError, ReplayRefusedError
from stores.kv.persistence.format import (
    HEADER,
    MAX_RECORD_PAYLOAD,
    RECORD_AUX,
    RECORD_END,
    RECORD_HEADER,
    RECORD_KEY,
    SNAPSHOT_MAGIC,
    SNAPSHOT_VERSION,
    U32,
    U64,
)
from stores.kv.persistence.fs import FileSystem

_unpack_u32 = U32.unpack_from
_unpack_db_len = struct.Struct(">II").unpack_from


class _Short(Exception):
    pass


def _take(payload: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(payload):
        raise _Short
    (length,) = _unpack_u32(payload, pos)
    start = pos + 4
    if start + length > len(payload):
        raise _Short
    return payload[start : start + length], start + length


def decode_key_payload(payload: bytes) -> tuple[int, bytes, list[list[bytes]]]:
    """Return (db, key, commands) from a KEY record's payload."""
    unpack = _unpack_u32
    size = len(payload)
    try:
        db, length = _unpack_db_len(payload, 0)
        pos = 8 + length
        key = payload[8:pos]
        (ncommands,) = unpack(payload, pos)
        pos += 4
        commands = []
        for _ in range(ncommands):
            (nargs,) = unpack(payload, pos)
            pos += 4
            argv = []
            for _ in range(nargs):
                (length,) = unpack(payload, pos)
                start = pos + 4
                pos = start + length
                argv.append(payload[start:pos])
            commands.append(argv)
    except struct.error:
        raise _Short from None
    if pos != size:  # also catches a slice that ran past the end
        raise _Short
    return db, key, commands


@dataclass
class SnapshotInfo:
    """What a loaded snapshot held besides its keys."""

    keys: int = 0
    aux: dict[str, str] = field(default_factory=dict)
    size: int = 0


def iter_records(fs: FileSystem, path: str) -> Iterator[tuple[int, int, bytes]]:
    """Yield (offset, kind, payload) for each record up to and including END."""
    with fs.open_read(path) as stream:
        header = stream.read(HEADER.size)
        if len(header) < HEADER.size:
            raise CorruptFileError(path, 0, "too short for a snapshot header")
        magic, version = HEADER.unpack(header)
        if magic != SNAPSHOT_MAGIC:
            raise CorruptFileError(path, 0, f"not a snapshot file (magic {magic!r})")
        if version != SNAPSHOT_VERSION:
            raise CorruptFileError(path, 6, f"unsupported snapshot version {version}")
        offset = HEADER.size
        while True:
            head = stream.read(RECORD_HEADER.size)
            if len(head) < RECORD_HEADER.size:
                raise CorruptFileError(path, offset, "file ends before the END record")
            kind, length, crc = RECORD_HEADER.unpack(head)
            if length > MAX_RECORD_PAYLOAD:
                raise CorruptFileError(path, offset, f"record length {length} is implausible")
            payload = stream.read(length)
            if len(payload) < length:
                raise CorruptFileError(path, offset, "file ends inside a record")
            if zlib.crc32(payload, zlib.crc32(bytes([kind]))) != crc:
                raise CorruptFileError(path, offset, "record checksum mismatch")
            yield offset, kind, payload
            if kind == RECORD_END:
                if stream.read(1):
                    raise CorruptFileError(
                        path, offset + RECORD_HEADER.size + length, "data after the END record"
                    )
                return
            offset += RECORD_HEADER.size + length


def load_snapshot(
    fs: FileSystem, path: str, apply: Callable[[int, bytes, list[list[bytes]]], None]
) -> SnapshotInfo:
    """Check ``path`` and call ``apply(db, key, commands)`` for each key in it."""
    info = SnapshotInfo(size=fs.size(path))
    for offset, kind, payload in iter_records(fs, path):
        try:
            if kind == RECORD_KEY:
                db, key, commands = decode_key_payload(payload)
                apply(db, key, commands)
                info.keys += 1
            elif kind == RECORD_AUX:
                name, pos = _take(payload, 0)
                value, pos = _take(payload, pos)
                info.aux[name.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
            elif kind == RECORD_END:
                if len(payload) != U64.size:
                    raise _Short
                (expected,) = U64.unpack(payload)
                if expected != info.keys:
                    raise CorruptFileError(
                        path, offset, f"END record counts {expected} keys, file holds {info.keys}"
                    )
            else:
                raise CorruptFileError(path, offset, f"unknown record kind {kind}")
        except _Short:
            raise CorruptFileError(path, offset, "malformed record payload") from None
        except ReplayRefusedError as exc:
            raise CorruptFileError(path, offset, str(exc)) from None
    return info
