"""Constants that define the engine's on-disk formats (see docs/wide/storage.md).

Shared by every writer and reader of the commit log, SSTable components and
manifest; nothing else lives here. Changing a value changes the format.
"""

from __future__ import annotations

import struct

# Framing: commit log records are [magic][u32 length][u32 crc32 of the 4
# length bytes][payload][u32 crc32 of payload]; SSTable blocks and the
# manifest are [u32 length][u32 crc32 of payload][payload].
FRAME = struct.Struct(">II")
FRAME_SIZE = FRAME.size
CRC = struct.Struct(">I")

# Commit log. Segments are preallocated (zeros) and filled front to back;
# the zero tail after the last record is the end of the segment.
COMMITLOG_DIR = "commitlog"
COMMITLOG_PREFIX = "CommitLog-"
COMMITLOG_SUFFIX = ".log"
COMMITLOG_MAGIC = b"WCL2"
COMMITLOG_MAGIC_V1 = b"WCL1"  # records without RECORD_MAGIC, no zero tail; replay only
COMMITLOG_HEADER = struct.Struct(">4sQI")  # magic, segment id, crc32 of magic+id
RECORD_MAGIC = b"\xa5WCR"  # starts every record, so a scan can find the next one quickly
RECORD_HEAD = struct.Struct(">4sII")  # RECORD_MAGIC, length, crc32 of the 4 length bytes
MAX_RECORD_SIZE = 64 * 1024 * 1024
DEFAULT_SEGMENT_SIZE = 32 * 1024 * 1024

# SSTables.
DATA_DIR = "data"
TEMP_PREFIX = "tmp-"
COMPONENTS = ("Data.db", "Index.db", "Summary.db", "Filter.db", "Statistics.db")
ROW_BLOCK_SIZE = 4096
INDEX_BLOCK_ENTRIES = 128
# 2: a partition of one row block has an index entry spanning that block and
# its header (1: every entry spans the header alone; still read).
SSTABLE_FORMAT_VERSION = 2

# Manifest.
MANIFEST = "MANIFEST.json"
MANIFEST_TEMP = "MANIFEST.json.tmp"
MANIFEST_VERSION = 1
LOCK_FILE = "LOCK"

# Records inside blocks.
U8 = struct.Struct(">B")
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
I64 = struct.Struct(">q")
U64 = struct.Struct(">Q")
DELETION = struct.Struct(">qq")  # marked_for_delete_at, local_deletion_time
LIVENESS = struct.Struct(">qIq")  # timestamp, ttl, local_expiration_time
CELL_HEAD = struct.Struct(">Bq")  # flags, timestamp
INDEX_ENTRY_HEAD = struct.Struct(">qH")  # token, key length
INDEX_ENTRY_TAIL = struct.Struct(">QI")  # data offset, header block size
ROW_INDEX_TAIL = struct.Struct(">QII")  # block offset, block size, row count

CELL_TOMBSTONE = 0x01
CELL_TTL = 0x02
CELL_DELETION_TIME = 0x04

ROW_LIVENESS = 0x01
ROW_DELETION = 0x02
ROW_STATIC = 0x04

BOUND_START = 0x01
BOUND_START_INCLUSIVE = 0x02
BOUND_END = 0x04
BOUND_END_INCLUSIVE = 0x08

MUTATION_PARTITION_DELETION = 0x01
