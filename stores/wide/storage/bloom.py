"""Bloom filter over partition keys, one per SSTable.

Owns sizing (bits and hash count from the expected keys and the
false-positive chance), membership tests and the byte form stored in the
Filter.db component. Probes use double hashing over the two halves of
Murmur3 x64_128, as Cassandra does. Never reads files itself.
"""

from __future__ import annotations

import math
import struct

import mmh3

_HEADER = struct.Struct(">BQQ")  # hash count, bit count, keys added
_MASK = 0xFFFFFFFFFFFFFFFF


class BloomFilter:
    """A set of partition keys that may answer 'maybe' for keys it never saw."""

    def __init__(self, bits: int, hashes: int, data: bytearray | None = None, count: int = 0):
        self.bits = max(8, bits)
        self.hashes = max(1, hashes)
        self.data = data if data is not None else bytearray((self.bits + 7) // 8)
        self.count = count

    @classmethod
    def for_keys(cls, expected: int, fp_chance: float) -> BloomFilter:
        """Return an empty filter sized for ``expected`` keys at ``fp_chance``."""
        expected = max(1, expected)
        if fp_chance >= 1:
            return cls(8, 1)
        bits = math.ceil(-expected * math.log(fp_chance) / (math.log(2) ** 2))
        hashes = max(1, round(bits / expected * math.log(2)))
        return cls(bits, min(hashes, 20))

    def _probes(self, key: bytes):
        h1, h2 = mmh3.hash64(key, 0, True, False)
        bits = self.bits
        for i in range(self.hashes):
            yield ((h1 + i * h2) & _MASK) % bits

    def add(self, key: bytes) -> None:
        data = self.data
        for bit in self._probes(key):
            data[bit >> 3] |= 1 << (bit & 7)
        self.count += 1

    def may_contain(self, key: bytes) -> bool:
        h1, h2 = mmh3.hash64(key, 0, True, False)
        data = self.data
        bits = self.bits
        for i in range(self.hashes):
            bit = ((h1 + i * h2) & _MASK) % bits
            if not data[bit >> 3] & (1 << (bit & 7)):
                return False
        return True

    def expected_fp_chance(self) -> float:
        """Return the false-positive chance implied by the keys added so far."""
        if self.count == 0:
            return 0.0
        return (1 - math.exp(-self.hashes * self.count / self.bits)) ** self.hashes

    def to_bytes(self) -> bytes:
        return _HEADER.pack(self.hashes, self.bits, self.count) + bytes(self.data)

    @classmethod
    def from_bytes(cls, raw: bytes) -> BloomFilter:
        hashes, bits, count = _HEADER.unpack_from(raw, 0)
        data = bytearray(raw[_HEADER.size :])
        if len(data) != (bits + 7) // 8:
            raise ValueError("bloom filter bit array has the wrong length")
        return cls(bits, hashes, data, count)
