"""Frame body compression: lz4 and snappy, when their packages are installed.

The native protocol lets a client pick a compression in STARTUP among those
the server lists in SUPPORTED. We offer an algorithm only if its well-kept
package (``lz4``, ``python-snappy``) imports; otherwise SUPPORTED lists none
and bodies travel uncompressed; short response bodies are never compressed
(``MIN_COMPRESSED_BODY``). lz4 bodies carry the uncompressed length as
a 4-byte big-endian int before the lz4 block, as Cassandra writes them.
Never compresses or decompresses more than the frame length cap allows.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from stores.wide.protocol.errors import ProtocolViolation

# Response bodies shorter than this travel uncompressed even when a
# compression was negotiated: lz4 cannot shrink them, and both ends would pay
# for compressing and decompressing. The frame's compression flag says which.
MIN_COMPRESSED_BODY = 512


@dataclass(frozen=True)
class Compression:
    """One algorithm: its STARTUP name and its two functions."""

    name: str
    compress: Callable[[bytes], bytes]
    decompress: Callable[[bytes, int], bytes]


# lz4 bodies start with the uncompressed length (a big-endian int), as the
# native protocol's lz4 framing says.
_SIZE = struct.Struct(">i")


def _lz4() -> Compression | None:
    try:
        import lz4.block
    except ImportError:
        return None

    block_compress = lz4.block.compress
    block_decompress = lz4.block.decompress
    pack_size = _SIZE.pack
    unpack_size = _SIZE.unpack_from

    def compress(body: bytes) -> bytes:
        return pack_size(len(body)) + block_compress(body, store_size=False)

    def decompress(body: bytes, limit: int) -> bytes:
        if len(body) < 4:
            raise ProtocolViolation("lz4 body shorter than its length prefix", fatal=False)
        size = unpack_size(body)[0]
        if size < 0 or size > limit:
            raise ProtocolViolation(f"lz4 uncompressed length {size} is out of range")
        try:
            return block_decompress(body[4:], uncompressed_size=size)
        except Exception as exc:
            raise ProtocolViolation(f"cannot decompress lz4 body: {exc}", fatal=False) from None

    return Compression("lz4", compress, decompress)


def _snappy() -> Compression | None:
    try:
        import snappy
    except ImportError:
        return None

    def decompress(body: bytes, limit: int) -> bytes:
        try:
            size = _snappy_length(body)
            if size > limit:
                raise ProtocolViolation(f"snappy uncompressed length {size} is out of range")
            return snappy.decompress(body)
        except ProtocolViolation:
            raise
        except Exception as exc:
            raise ProtocolViolation(f"cannot decompress snappy body: {exc}", fatal=False) from None

    return Compression("snappy", snappy.compress, decompress)


def _snappy_length(body: bytes) -> int:
    """Return the uncompressed length a raw snappy block declares (a varint)."""
    result = shift = 0
    for byte in body[:5]:
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result
        shift += 7
    raise ValueError("bad snappy length varint")


def available_compressions() -> dict[str, Compression]:
    """Return the algorithms this process can offer, lz4 first."""
    found = {}
    for factory in (_lz4, _snappy):
        algorithm = factory()
        if algorithm is not None:
            found[algorithm.name] = algorithm
    return found
