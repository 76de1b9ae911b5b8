"""Checksummed blocks: the framing every SSTable component and the manifest use.

A block is ``[u32 length][u32 crc32(payload)][payload]``. Owns framing and
verified reads that report the file and offset of any mismatch; never
interprets the payload.
"""

from __future__ import annotations

from .checksum import crc32
from .errors import CorruptionError
from .format import FRAME, FRAME_SIZE
from .fs import ReadableFile


def frame_block(payload: bytes) -> bytes:
    """Return ``payload`` with its length and CRC32 in front."""
    return FRAME.pack(len(payload), crc32(payload)) + payload


def unframe(raw: bytes, path: str, offset: int = 0, at: int = 0) -> bytes:
    """Return the verified payload of the block at ``at`` in ``raw`` (``offset`` in its file)."""
    if len(raw) - at < FRAME_SIZE:
        raise CorruptionError(path, offset, "block is shorter than its header")
    length, crc = FRAME.unpack_from(raw, at)
    payload = raw[at + FRAME_SIZE : at + FRAME_SIZE + length]
    if len(payload) != length:
        raise CorruptionError(path, offset, f"block claims {length} bytes, file ends sooner")
    if crc32(payload) != crc:
        raise CorruptionError(path, offset, "block checksum mismatch")
    return payload


def read_block(handle: ReadableFile, path: str, offset: int, size: int) -> bytes:
    """Read the ``size``-byte block at ``offset`` and return its verified payload."""
    raw = handle.pread(offset, size)
    if len(raw) != size:
        raise CorruptionError(path, offset, "block runs past the end of the file")
    payload = unframe(raw, path, offset)
    if FRAME_SIZE + len(payload) != size:
        raise CorruptionError(path, offset, "block length does not match its index entry")
    return payload


def read_blocks(handle: ReadableFile, path: str, offset: int, size: int) -> list[bytes]:
    """Read the blocks filling ``size`` bytes at ``offset``; return their verified payloads.

    One read for adjacent blocks (a partition's row block and its header).
    Each block's error names its own offset.
    """
    raw = handle.pread(offset, size)
    if len(raw) != size:
        raise CorruptionError(path, offset, "block runs past the end of the file")
    payloads = []
    at = 0
    while at < size:
        payload = unframe(raw, path, offset + at, at)
        payloads.append(payload)
        at += FRAME_SIZE + len(payload)
    return payloads
