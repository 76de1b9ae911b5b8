"""The wide-column storage engine: commit log, memtables, SSTables, compaction.

Knows bytes, timestamps and tombstones, never CQL types. The API the CQL
layer uses is documented in docs/wide/storage-api.md; the tour of the code
and the byte layouts are in docs/wide/storage.md.
"""

from .cells import NO_DELETION, Cell, DeletionTime, LivenessInfo
from .engine import StorageEngine
from .errors import (
    AlreadyExists,
    CorruptionError,
    DirectoryLocked,
    EngineClosed,
    InvalidRequest,
    StorageError,
)
from .mutation import (
    STATIC,
    Bound,
    Mutation,
    RangeTombstone,
    RowUpdate,
    Slice,
    TokenBound,
)
from .read import PartitionResult, ReadTrace, Row
from .schema import ClusteringColumn, TableOptions, TableSchema
from .token import MAX_TOKEN, MIN_TOKEN, token

__all__ = [
    "NO_DELETION",
    "STATIC",
    "MAX_TOKEN",
    "MIN_TOKEN",
    "AlreadyExists",
    "Bound",
    "Cell",
    "ClusteringColumn",
    "CorruptionError",
    "DeletionTime",
    "DirectoryLocked",
    "EngineClosed",
    "InvalidRequest",
    "LivenessInfo",
    "Mutation",
    "PartitionResult",
    "RangeTombstone",
    "ReadTrace",
    "Row",
    "RowUpdate",
    "Slice",
    "StorageEngine",
    "StorageError",
    "TableOptions",
    "TableSchema",
    "TokenBound",
    "token",
]
