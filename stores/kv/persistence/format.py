"""The constants that define the on-disk formats, shared by writers and readers.

Owns file names, the snapshot file's magic, version and record kinds, and the
manifest's keywords. docs/kv/persistence.md describes each format byte by
byte; change both together. Never does I/O.
"""

from __future__ import annotations

import struct

# Data directory layout.
LOCK_FILE = "kv.lock"
SNAPSHOT_FILE = "dump.kvs"
AOF_DIR = "appendonlydir"
AOF_PREFIX = "appendonly.aof"
MANIFEST_FILE = f"{AOF_PREFIX}.manifest"
TEMP_SUFFIX = ".tmp"


def base_file_name(seq: int) -> str:
    """Return the name of the AOF base file with sequence number ``seq``."""
    return f"{AOF_PREFIX}.{seq}.base.kvs"


def incr_file_name(seq: int) -> str:
    """Return the name of the incremental AOF file with sequence number ``seq``."""
    return f"{AOF_PREFIX}.{seq}.incr.aof"


# Manifest: one line per file, "file <name> seq <n> type <b|i>\n".
MANIFEST_TYPE_BASE = "b"
MANIFEST_TYPE_INCR = "i"

# Snapshot file.
SNAPSHOT_MAGIC = b"KVSNAP"
SNAPSHOT_VERSION = 1
HEADER = struct.Struct(">6sH")  # magic, version
RECORD_HEADER = struct.Struct(">BII")  # kind, payload length, CRC32 of kind + payload
U32 = struct.Struct(">I")
U64 = struct.Struct(">Q")

RECORD_AUX = 1  # payload: name (len-prefixed), value (len-prefixed)
RECORD_KEY = 2  # payload: db u32, key, command count u32, commands
RECORD_END = 255  # payload: key count u64

MAX_RECORD_PAYLOAD = 512 * 1024 * 1024

# Append-only file: RESP arrays of bulk strings, exactly as Redis writes them,
# then (a file that was not closed) NUL padding. A command copied into the
# mapped tail gets its AOF_ARRAY byte last: a NUL where a command should
# start marks an unfinished copy.
AOF_ARRAY = ord("*")
AOF_BULK = ord("$")
CRLF = b"\r\n"
MAX_AOF_ARGS = 1024 * 1024
MAX_AOF_BULK = 512 * 1024 * 1024
