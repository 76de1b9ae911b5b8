"""The CRC32 behind every checksum of the wide-column store.

Owns the choice of implementation: zlib-ng's, which computes CRC32 with
the processor's carry-less multiply (PCLMULQDQ) and is about ten times
faster than zlib's table-driven one on a 4 KiB block, when it is
installed; zlib's otherwise. Both compute the same CRC32 (the polynomial
of zlib, gzip and Ethernet), so files written with either read with the
other.
"""

from __future__ import annotations

import zlib

try:
    from zlib_ng.zlib_ng import crc32 as _fast_crc32
except ImportError:  # pragma: no cover - requirements.txt installs zlib-ng
    _fast_crc32 = None

crc32 = _fast_crc32 or zlib.crc32
"""Return the CRC32 of a bytes-like object (``crc32(data, start=0)``, as zlib's)."""

IMPLEMENTATION = "zlib-ng" if _fast_crc32 is not None else "zlib"
