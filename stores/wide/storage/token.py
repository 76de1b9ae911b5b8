"""Cassandra's Murmur3Partitioner token for a partition key.

Owns the mapping from partition-key bytes to a signed 64-bit token. Cassandra
hashes with MurmurHash3 x64_128 (seed 0) and keeps the first 64-bit half, but
its Java port reads the tail bytes (the last ``len % 16``) as *signed* bytes,
so a tail byte >= 0x80 is sign-extended before it is mixed in. The mmh3
package implements the reference algorithm, which agrees with Cassandra
whenever every tail byte is < 0x80; other keys take the pure-Python path that
reproduces Cassandra's quirk. Never depends on anything but the key bytes.
"""

from __future__ import annotations

import mmh3

MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1

_MASK = 0xFFFFFFFFFFFFFFFF
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MASK
    k ^= k >> 33
    return k


def cassandra_murmur3_h1(key: bytes) -> int:
    """Return the first 64-bit half (unsigned) of Cassandra's hash3_x64_128(key, seed 0)."""
    length = len(key)
    nblocks = length // 16
    h1 = h2 = 0
    for i in range(nblocks):
        k1 = int.from_bytes(key[i * 16 : i * 16 + 8], "little")
        k2 = int.from_bytes(key[i * 16 + 8 : i * 16 + 16], "little")
        k1 = (k1 * _C1) & _MASK
        k1 = _rotl(k1, 31)
        k1 = (k1 * _C2) & _MASK
        h1 ^= k1
        h1 = _rotl(h1, 27)
        h1 = (h1 + h2) & _MASK
        h1 = (h1 * 5 + 0x52DCE729) & _MASK
        k2 = (k2 * _C2) & _MASK
        k2 = _rotl(k2, 33)
        k2 = (k2 * _C1) & _MASK
        h2 ^= k2
        h2 = _rotl(h2, 31)
        h2 = (h2 + h1) & _MASK
        h2 = (h2 * 5 + 0x38495AB5) & _MASK
    tail = key[nblocks * 16 :]
    k1 = k2 = 0
    for index in range(len(tail) - 1, -1, -1):
        byte = tail[index]
        # Java's ByteBuffer.get returns a signed byte: sign-extend it to 64 bits.
        value = (byte - 256) & _MASK if byte >= 0x80 else byte
        if index >= 8:
            k2 ^= (value << ((index - 8) * 8)) & _MASK
        else:
            k1 ^= (value << (index * 8)) & _MASK
    if len(tail) > 8:
        k2 = (k2 * _C2) & _MASK
        k2 = _rotl(k2, 33)
        k2 = (k2 * _C1) & _MASK
        h2 ^= k2
    if tail:
        k1 = (k1 * _C1) & _MASK
        k1 = _rotl(k1, 31)
        k1 = (k1 * _C2) & _MASK
        h1 ^= k1
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & _MASK
    return h1


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def token(partition_key: bytes) -> int:
    """Return the Murmur3Partitioner token of ``partition_key`` (signed 64-bit).

    The empty key gets the minimum token, as in Cassandra; a hash equal to the
    minimum token is moved to the maximum so that the minimum stays reserved.
    """
    if not partition_key:
        return MIN_TOKEN
    if partition_key[len(partition_key) & ~15 :].isascii():
        value = mmh3.hash64(partition_key, 0, True, True)[0]
    else:
        value = _signed(cassandra_murmur3_h1(partition_key))
    return MAX_TOKEN if value == MIN_TOKEN else value
