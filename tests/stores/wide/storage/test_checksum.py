import zlib

from hypothesis import given
from hypothesis import strategies as st

from stores.wide.storage import checksum
from stores.wide.storage.blocks import frame_block, unframe


def test_the_fast_implementation_is_installed():
    # requirements.txt pins zlib-ng; the zlib fallback is for a bare checkout.
    assert checksum.IMPLEMENTATION == "zlib-ng"


@given(st.binary(max_size=20_000), st.integers(0, 2**32 - 1))
def test_crc32_is_zlibs(data, start):
    assert checksum.crc32(data) == zlib.crc32(data)
    assert checksum.crc32(data, start) == zlib.crc32(data, start)
    assert checksum.crc32(memoryview(data)[1:]) == zlib.crc32(data[1:])


def test_blocks_framed_by_zlib_read_back():
    # Files written before zlib-ng (zlib's CRC32) read unchanged.
    payload = bytes(range(256)) * 20
    old = len(payload).to_bytes(4, "big") + zlib.crc32(payload).to_bytes(4, "big") + payload
    assert frame_block(payload) == old
    assert unframe(old, "Data.db") == payload
