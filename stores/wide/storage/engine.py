"""StorageEngine: the wide-column store's write path, read path and lifecycle.

Owns the keyspaces and tables of one data directory (or of memory, with no
files at all), routes writes through the commit log into memtables, flushes
memtables to SSTables on a background thread, merges memtables and SSTables
on reads, schedules compactions, and answers the introspection calls of the
admin pages. Knows bytes and timestamps, never CQL types; the API is
docs/wide/storage-api.md. Never imports Django.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from inspect import GEN_CREATED, getgeneratorstate
from itertools import groupby
from typing import Any

from . import format as fmt
from .blockrows import LiveContext
from .cells import NO_DELETION, Cell, LivenessInfo
from .chainplan import ChainPlan, chain_plan
from .codec import (
    decode_batch,
    decode_mutation,
    encode_batch,
    encode_mutation,
    encode_mutation_rows,
)
from .commitlog import CommitLog, list_segments, replay_segment
from .compaction.executor import CompactionExecutor, Throttle
from .compaction.policy import CompactionTask, SSTableInfo, next_task
from .errors import AlreadyExists, CorruptionError, EngineClosed, InvalidRequest
from .fs import FileSystem, MemoryFileSystem, OSFileSystem
from .manifest import empty_manifest, load_manifest, save_manifest
from .memtable import Memtable, stored_rows
from .merge import Purger, collect_live, compact_partition, read_partition
from .mutation import STATIC, Mutation, RowUpdate, Slice, TokenBound
from .pagevalues import value_tuples
from .partition import PartitionView
from .read import PartitionResult, ReadTrace
from .rowcache import MISS, RowCache, answer, answer_values, build_entry, is_head_read
from .schema import ALL_ROWS, TableSchema
from .sstable_reader import SSTableReader
from .sstable_writer import SSTableWriter, component_path
from .token import token as partition_token

log = logging.getLogger(__name__)

ALL_SLICES = [Slice()]
DEFAULT_FLUSH_THRESHOLD = 16 * 1024 * 1024
DEFAULT_ROW_CACHE_SIZE = 32 * 1024 * 1024
DEFAULT_PREFAULT_LIMIT = 2 * 1024 * 1024 * 1024
HISTORY_LIMIT = 100
MAX_KEY_SIZE = 0xFFFF
BACKPRESSURE_FACTOR = 3
_NOT_COVERED = "read not covered by the cached rows"


class _Table:
    """A table's live state: schema, memtables, SSTables, replay position."""

    def __init__(self, schema: TableSchema, directory: str, lock: threading.RLock) -> None:
        self.schema = schema
        self.directory = directory
        self.memtable = Memtable(lock)
        self.flushing: list[Memtable] = []
        self.sstables: list[SSTableReader] = []
        self.sstables_by_age: list[SSTableReader] = []
        # Set with the SSTables: how a read of a partition no memtable holds
        # may chain them without a merge (None: it may not).
        self.chain_plan: ChainPlan | None = None
        self.replay_position: tuple[int, int] = (0, 0)
        self.lock = lock
        self.flush_requested = False
        # Row cache: rows kept per partition (0 = off), and an epoch that
        # truncate/alter bump so entries filled before them are never found.
        self.row_cache_rows = 0
        self.cache_epoch = 0
        self.row_cache_hits = 0
        self.row_cache_misses = 0
        self._refresh_columns()

    def _refresh_columns(self) -> None:
        schema = self.schema
        self.row_cache_rows = schema.options.rows_per_partition
        self.cache_epoch += 1
        self._id_bytes = schema.id.bytes
        self.id_set = frozenset((schema.id,))
        self.simple_regular = frozenset(schema.regular) - schema.collections
        self.simple_static = frozenset(schema.static) - schema.collections
        self.complex_regular = frozenset(schema.regular) & schema.collections
        self.complex_static = frozenset(schema.static) & schema.collections

    def set_schema(self, schema: TableSchema) -> None:
        self.schema = schema
        self._refresh_columns()

    @property
    def id_bytes(self) -> bytes:
        return self._id_bytes

    def memtables(self) -> list[Memtable]:
        return [self.memtable, *self.flushing]

    def set_sstables(self, readers: list[SSTableReader]) -> None:
        """Replace the live set; reads see the new list or the old, never a mix."""
        by_age = sorted(readers, key=lambda r: r.max_timestamp, reverse=True)
        self.chain_plan = chain_plan(readers)
        self.sstables = readers
        self.sstables_by_age = by_age


def _sstable_info(reader: SSTableReader) -> SSTableInfo:
    return SSTableInfo(
        reader.generation,
        reader.size,
        reader.min_timestamp,
        reader.max_timestamp,
        reader.stats["max_local_deletion_time"],
        reader.min_token,
        reader.max_token,
    )


def _key_bounds(start: TokenBound | None, end: TokenBound | None):
    """Turn token bounds into ((token, key) tuple, inclusive) pairs for sorted lookups."""
    if start is None:
        low, low_inclusive = None, True
    elif start.partition_key is not None:
        low, low_inclusive = (start.token, start.partition_key), start.inclusive
    elif start.inclusive:
        low, low_inclusive = (start.token,), True
    else:
        low, low_inclusive = (start.token + 1,), True
    if end is None:
        high, high_inclusive = None, True
    elif end.partition_key is not None:
        high, high_inclusive = (end.token, end.partition_key), end.inclusive
    elif end.inclusive:
        high, high_inclusive = (end.token + 1,), False
    else:
        high, high_inclusive = (end.token,), False
    return low, low_inclusive, high, high_inclusive


class StorageEngine:
    """One data directory's keyspaces and tables (or memory's, with no files)."""

    def __init__(self) -> None:  # use StorageEngine.open
        raise TypeError("use StorageEngine.open(directory, ...)")

    @classmethod
    def open(
        cls,
        directory: str | None,
        *,
        fs: FileSystem | None = None,
        commitlog_sync: str = "periodic",
        commitlog_sync_period_ms: int = 10000,
        commitlog_segment_size: int = fmt.DEFAULT_SEGMENT_SIZE,
        clock: Callable[[], float] | None = None,
        memtable_flush_threshold: int = DEFAULT_FLUSH_THRESHOLD,
        background: bool = True,
        compaction_throughput_mb_per_s: float = 64.0,
        auto_compaction: bool = True,
        row_cache_size: int = DEFAULT_ROW_CACHE_SIZE,
        prefault_limit: int = DEFAULT_PREFAULT_LIMIT,
    ) -> StorageEngine:
        """Open (creating if needed) the engine on ``directory``; None = memory only.

        ``background=False`` runs flushes and compactions in the calling
        thread when they are triggered (deterministic tests); otherwise one
        flusher and one compaction thread do them. ``row_cache_size`` bounds
        the row cache in bytes (0 = no row cache); it holds partitions only
        of tables whose ``caching`` option asks for ``rows_per_partition``.
        The newest SSTables of each table, up to ``prefault_limit`` bytes,
        have their memory-mapped pages mapped as they open (on open, flush
        and compaction: ``SSTableReader.prefault``), so reads take no page
        faults on them; 0 leaves every page to its first read.
        """
        if commitlog_sync not in ("periodic", "batch"):
            raise InvalidRequest(
                f"commitlog_sync must be 'periodic' or 'batch', not {commitlog_sync!r}"
            )
        self = object.__new__(cls)
        self._memory = directory is None
        self._fs = (
            fs if fs is not None else (MemoryFileSystem() if self._memory else OSFileSystem())
        )
        self._root = "/wide" if directory is None else directory.rstrip("/") or "/"
        self._clock = clock or time.time
        self._flush_threshold = memtable_flush_threshold
        self._background = background
        self._auto_compaction = auto_compaction
        self._throughput = compaction_throughput_mb_per_s * 1024 * 1024
        self._sync_mode = commitlog_sync
        self._write_lock = threading.RLock()
        self._inflight = 0
        self._inflight_done = threading.Condition(self._write_lock)
        self._flush_done = threading.Condition(self._write_lock)
        self._flush_lock = threading.RLock()
        self._manifest_lock = threading.RLock()
        self._compaction_lock = threading.RLock()
        self._tables: dict[tuple[str, str], _Table] = {}
        self._by_id: dict[uuid.UUID, _Table] = {}
        self._keyspaces: dict[str, dict] = {}
        self._history: list[dict] = []
        self._closed = False
        self._failure: BaseException | None = None
        self._commitlog: CommitLog | None = None
        self._lock = None
        self._flusher: threading.Thread | None = None
        self._executor: CompactionExecutor | None = None
        self._flush_queue: list[_Table] = []
        self._flush_cond = threading.Condition(threading.Lock())
        self._replayed = 0
        if row_cache_size < 0:
            raise InvalidRequest("row_cache_size must be >= 0")
        self._row_cache = RowCache(row_cache_size) if row_cache_size else None
        if prefault_limit < 0:
            raise InvalidRequest("prefault_limit must be >= 0")
        self._prefault_limit = prefault_limit
        fs = self._fs
        fs.makedirs(self._root)
        if not self._memory:
            self._lock = fs.lock(f"{self._root}/{fmt.LOCK_FILE}")
        try:
            self._load(commitlog_sync, commitlog_sync_period_ms, commitlog_segment_size)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        if background:
            self._flusher = threading.Thread(
                target=self._flush_loop, name="wide-flush", daemon=True
            )
            self._flusher.start()
            self._executor = CompactionExecutor(self._compact_once)
            if auto_compaction:
                self._executor.wake()
        return self

    # -- open, replay, close ---------------------------------------------------

    def _load(self, sync_mode: str, sync_period_ms: int, segment_size: int) -> None:
        fs = self._fs
        manifest = load_manifest(fs, self._root)
        if manifest is None:
            manifest = empty_manifest()
            save_manifest(fs, self._root, manifest)
        if fs.exists(f"{self._root}/{fmt.MANIFEST_TEMP}"):
            fs.remove(f"{self._root}/{fmt.MANIFEST_TEMP}")
        self._manifest = manifest
        self._keyspaces = {k: dict(v) for k, v in manifest["keyspaces"].items()}
        self._history = list(manifest.get("compaction_history", []))
        for table_id, entry in manifest["tables"].items():
            schema = TableSchema.from_json(entry["schema"])
            table = _Table(schema, self._table_dir(schema), self._write_lock)
            table.replay_position = tuple(entry.get("replay_position", (0, 0)))
            fs.makedirs(table.directory)
            self._cleanup_table_dir(table.directory, set(entry["sstables"]))
            table.set_sstables([SSTableReader(fs, table.directory, g) for g in entry["sstables"]])
            self._tables[(schema.keyspace, schema.name)] = table
            self._by_id[uuid.UUID(table_id)] = table
        for table in self._tables.values():
            for reader in table.sstables:
                self._prefault(table, reader)
        self._cleanup_orphan_dirs()
        if self._memory:
            return
        log_dir = f"{self._root}/{fmt.COMMITLOG_DIR}"
        fs.makedirs(log_dir)
        segments = list_segments(fs, log_dir)
        last_id = segments[-1][0] if segments else 0
        self._replay(segments)
        if self._replayed:
            for table in self._tables.values():
                self._flush_table(table, position=(last_id + 1, 0))
        for _sid, path in segments:
            fs.remove(path)
        if segments:
            fs.sync_dir(log_dir)
        self._commitlog = CommitLog(
            fs,
            log_dir,
            sync_mode=sync_mode,
            sync_period_ms=sync_period_ms,
            segment_size=segment_size,
            first_segment_id=last_id + 1,
            on_error=self._fail,
        )

    def _replay(self, segments: list[tuple[int, str]]) -> None:
        for index, (segment_id, path) in enumerate(segments):
            last = index == len(segments) - 1
            for position, payload in replay_segment(self._fs, segment_id, path, last=last):
                try:
                    items = decode_batch(payload)
                    decoded = [decode_mutation(item) for item in items]
                except (ValueError, IndexError, UnicodeDecodeError) as exc:
                    raise CorruptionError(path, position[1], f"undecodable record: {exc}") from None
                for table_id, key, mutation in decoded:
                    table = self._by_id.get(table_id)
                    if table is None or position <= table.replay_position:
                        continue
                    mutation.keyspace = table.schema.keyspace
                    mutation.table = table.schema.name
                    table.memtable.apply(mutation, partition_token(key))
                    self._replayed += 1

    def _table_dir(self, schema: TableSchema) -> str:
        return f"{self._root}/{fmt.DATA_DIR}/{schema.keyspace}/{schema.name}-{schema.id.hex}"

    def _cleanup_table_dir(self, directory: str, live: set[int]) -> None:
        """Delete temp files and SSTable files the manifest does not list (crash leftovers)."""
        removed = False
        for name in self._fs.listdir(directory):
            generation = name[len(fmt.TEMP_PREFIX) :] if name.startswith(fmt.TEMP_PREFIX) else name
            digits = generation.split("-", 1)[0]
            if name.startswith(fmt.TEMP_PREFIX) or not digits.isdigit() or int(digits) not in live:
                self._fs.remove(f"{directory}/{name}")
                removed = True
        if removed:
            self._fs.sync_dir(directory)

    def _cleanup_orphan_dirs(self) -> None:
        data = f"{self._root}/{fmt.DATA_DIR}"
        if not self._fs.exists(data):
            return
        live = {t.directory for t in self._tables.values()}
        for keyspace in self._fs.listdir(data):
            for name in self._fs.listdir(f"{data}/{keyspace}"):
                directory = f"{data}/{keyspace}/{name}"
                if directory not in live:
                    self._cleanup_table_dir(directory, set())

    def _fail(self, exc: BaseException) -> None:
        self._failure = exc

    def _check_open(self) -> None:
        if self._closed:
            raise EngineClosed("the storage engine is closed")
        if self._failure is not None:
            raise EngineClosed(f"the storage engine stopped after a failure: {self._failure}")

    def close(self) -> None:
        """Flush memtables, stop background threads, sync and release the directory."""
        if self._closed:
            return
        self._stop_threads()
        try:
            if not self._memory and self._failure is None:
                for table in list(self._tables.values()):
                    self._flush_table(table)
                self._discard_segments()
        finally:
            self._closed = True
            if self._commitlog is not None:
                self._commitlog.close(sync=self._failure is None)
            for table in self._tables.values():
                for reader in table.sstables:
                    reader.close()
            if self._lock is not None:
                self._lock.release()

    def kill(self) -> None:
        """Stop as a crashed process would: no flush, no final sync (tests only)."""
        self._closed = True
        self._stop_threads()
        if self._commitlog is not None:
            try:
                self._commitlog.close(sync=False)
            except Exception:  # noqa: BLE001 - the filesystem may already be "dead"
                pass
        if self._lock is not None:
            try:
                self._lock.release()
            except Exception:  # noqa: BLE001
                pass

    def _stop_threads(self) -> None:
        if self._flusher is not None:
            with self._flush_cond:
                self._flush_queue.append(None)  # type: ignore[arg-type]
                self._flush_cond.notify()
            self._flusher.join()
            self._flusher = None
        if self._executor is not None:
            self._executor.stop()
            self._executor = None

    def __enter__(self) -> StorageEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------

    def _save_manifest(self) -> None:
        with self._manifest_lock:
            manifest = self._manifest
            manifest["keyspaces"] = self._keyspaces
            manifest["compaction_history"] = self._history[-HISTORY_LIMIT:]
            save_manifest(self._fs, self._root, manifest)

    def create_keyspace(self, name: str, metadata: dict | None = None) -> None:
        """Create keyspace ``name`` with opaque ``metadata`` (replication, ...)."""
        self._check_open()
        if not name or "/" in name or name.startswith("."):
            raise InvalidRequest(f"invalid keyspace name {name!r}")
        with self._manifest_lock:
            if name in self._keyspaces:
                raise AlreadyExists(f"keyspace {name} already exists")
            self._keyspaces[name] = dict(metadata or {})
            self._save_manifest()

    def alter_keyspace(self, name: str, metadata: dict) -> None:
        """Replace the metadata of keyspace ``name``."""
        self._check_open()
        with self._manifest_lock:
            if name not in self._keyspaces:
                raise InvalidRequest(f"keyspace {name} does not exist")
            self._keyspaces[name] = dict(metadata)
            self._save_manifest()

    def drop_keyspace(self, name: str) -> None:
        """Drop keyspace ``name`` and every table in it."""
        self._check_open()
        with self._manifest_lock:
            if name not in self._keyspaces:
                raise InvalidRequest(f"keyspace {name} does not exist")
            for keyspace, table in list(self._tables):
                if keyspace == name:
                    self.drop_table(keyspace, table)
            del self._keyspaces[name]
            self._save_manifest()

    def keyspaces(self) -> dict[str, dict]:
        return {k: dict(v) for k, v in self._keyspaces.items()}

    def create_table(self, schema: TableSchema) -> None:
        """Create a table; its keyspace must exist."""
        self._check_open()
        schema.validate()
        for name in [*schema.static, *schema.regular]:
            if len(name.encode()) > 255:
                raise InvalidRequest(f"column name {name[:20]}... is longer than 255 bytes")
        with self._manifest_lock:
            if schema.keyspace not in self._keyspaces:
                raise InvalidRequest(f"keyspace {schema.keyspace} does not exist")
            if (schema.keyspace, schema.name) in self._tables:
                raise AlreadyExists(f"table {schema.keyspace}.{schema.name} already exists")
            if schema.id in self._by_id:
                raise AlreadyExists(f"table id {schema.id} already exists")
            table = _Table(schema, self._table_dir(schema), self._write_lock)
            self._fs.makedirs(table.directory)
            if self._commitlog is not None:
                table.replay_position = self._commitlog.position()
            self._manifest["tables"][str(schema.id)] = {
                "schema": schema.to_json(),
                "sstables": [],
                "replay_position": list(table.replay_position),
            }
            self._save_manifest()
            with self._write_lock:
                self._tables[(schema.keyspace, schema.name)] = table
                self._by_id[schema.id] = table

    def alter_table(self, schema: TableSchema) -> None:
        """Replace a table's definition (same keyspace, name and id)."""
        self._check_open()
        schema.validate()
        with self._manifest_lock:
            table = self._table(schema.keyspace, schema.name)
            if table.schema.id != schema.id:
                raise InvalidRequest("alter_table cannot change a table's id")
            self._manifest["tables"][str(schema.id)]["schema"] = schema.to_json()
            self._save_manifest()
            with self._write_lock:
                table.set_schema(schema)
                self._invalidate_table(table)
        self._wake_compaction()

    def drop_table(self, keyspace: str, name: str) -> None:
        """Drop a table and delete its SSTables."""
        self._check_open()
        with self._flush_lock, self._manifest_lock:
            table = self._table(keyspace, name)
            with self._write_lock:
                del self._tables[(keyspace, name)]
                del self._by_id[table.schema.id]
            del self._manifest["tables"][str(table.schema.id)]
            self._save_manifest()
            self._delete_sstables(table.directory, table.sstables)
            table.set_sstables([])
            self._invalidate_table(table)

    def truncate(self, keyspace: str, name: str) -> None:
        """Remove every row of a table (memtables and SSTables)."""
        self._check_open()
        with self._flush_lock, self._compaction_lock, self._manifest_lock:
            table = self._table(keyspace, name)
            with self._write_lock:
                while self._inflight:
                    self._inflight_done.wait()
                table.memtable = Memtable(self._write_lock)
                position = self._commitlog.position() if self._commitlog is not None else (0, 0)
                old = table.sstables
                table.set_sstables([])
                self._invalidate_table(table)
            table.replay_position = position
            entry = self._manifest["tables"][str(table.schema.id)]
            entry["sstables"] = []
            entry["replay_position"] = list(position)
            self._save_manifest()
            self._delete_sstables(table.directory, old)

    def tables(self) -> list[TableSchema]:
        return [t.schema for t in self._tables.values()]

    def table(self, keyspace: str, name: str) -> TableSchema:
        """Return one table's schema (InvalidRequest if unknown)."""
        return self._table(keyspace, name).schema

    def _table(self, keyspace: str, name: str) -> _Table:
        table = self._tables.get((keyspace, name))
        if table is None:
            if keyspace not in self._keyspaces:
                raise InvalidRequest(f"keyspace {keyspace} does not exist")
            raise InvalidRequest(f"table {keyspace}.{name} does not exist")
        return table

    # -- writes ------------------------------------------------------------------

    def apply(self, mutation: Mutation) -> None:
        """Apply one mutation; durable per the commit log sync mode when this returns."""
        commitlog = self._commitlog
        if commitlog is None or commitlog.sync_mode != "periodic":
            self.apply_batch([mutation])
            return
        # apply_batch for one mutation in periodic mode, without its lists:
        # the single-writer insert loop is the write path's hot spot.
        if self._closed or self._failure is not None:
            self._check_open()
        table = self._tables.get((mutation.keyspace, mutation.table))
        if table is None:
            table = self._table(mutation.keyspace, mutation.table)
        if not _is_plain_insert(table, mutation):
            self._validate(table, mutation)
            mutation = _normalize(mutation, int(self._clock()))
        token = partition_token(mutation.partition_key)
        encoded, rows = encode_mutation_rows(table.id_bytes, mutation)
        payload = encode_batch([encoded])
        dropped = None  # a removed row cache entry, freed after the lock is released
        with self._write_lock:
            commitlog.append(payload, table.id_set)
            table.memtable.apply(mutation, token, rows)
            if table.row_cache_rows:
                dropped = self._invalidate(table, mutation.partition_key)
        del dropped
        if table.memtable.size >= self._flush_threshold:
            self._after_write(table)

    def apply_batch(self, mutations: list[Mutation]) -> None:
        """Apply mutations as one commit-log record: after a crash all or none replay."""
        self._check_open()
        if not mutations:
            return
        now = int(self._clock())
        prepared = []
        dropped = []  # removed row cache entries, freed after the locks are released
        for mutation in mutations:
            table = self._table(mutation.keyspace, mutation.table)
            self._validate(table, mutation)
            prepared.append(
                (table, _normalize(mutation, now), partition_token(mutation.partition_key))
            )
        commitlog = self._commitlog
        if commitlog is None:
            with self._write_lock:
                for table, mutation, token in prepared:
                    table.memtable.apply(mutation, token)
                    if table.row_cache_rows:
                        dropped.append(self._invalidate(table, mutation.partition_key))
        else:
            payload = encode_batch([encode_mutation(t.id_bytes, m) for t, m, _ in prepared])
            ids = {t.schema.id for t, _, _ in prepared}
            if commitlog.sync_mode == "batch":
                with self._write_lock:
                    position = commitlog.append(payload, ids)
                    self._inflight += 1
                try:
                    commitlog.wait_synced(position)
                    with self._write_lock:
                        for table, mutation, token in prepared:
                            table.memtable.apply(mutation, token)
                            if table.row_cache_rows:
                                dropped.append(self._invalidate(table, mutation.partition_key))
                finally:
                    with self._write_lock:
                        self._inflight -= 1
                        if not self._inflight:
                            self._inflight_done.notify_all()
            else:
                with self._write_lock:
                    commitlog.append(payload, ids)
                    for table, mutation, token in prepared:
                        table.memtable.apply(mutation, token)
                        if table.row_cache_rows:
                            dropped.append(self._invalidate(table, mutation.partition_key))
        for table, _, _ in prepared:
            if table.memtable.size >= self._flush_threshold:
                self._after_write(table)

    def _invalidate(self, table: _Table, partition_key: bytes) -> object:
        """Forget a partition's row cache entry (called after the write is applied).

        Return the removed entry, for the caller to free outside its locks.
        """
        cache = self._row_cache
        if cache is None:
            return None
        return cache.invalidate((table.id_bytes, table.cache_epoch, partition_key))

    def _invalidate_table(self, table: _Table) -> None:
        """Forget a table's row cache entries; entries filled meanwhile are never found."""
        table.cache_epoch += 1
        if self._row_cache is not None:
            self._row_cache.invalidate_table(table.id_bytes)

    def _after_write(self, table: _Table) -> None:
        """Queue a flush of a full memtable, or hold the writer while flushing is behind."""
        if not table.flush_requested:
            self._request_flush(table)
        elif table.memtable.size >= BACKPRESSURE_FACTOR * self._flush_threshold:
            self._wait_for_flush(table)

    def _wait_for_flush(self, table: _Table) -> None:
        """Hold a writer while flushing is behind, so memtables cannot grow without bound."""
        with self._write_lock:
            while (
                table.flush_requested
                and table.memtable.size >= BACKPRESSURE_FACTOR * self._flush_threshold
                and not self._closed
                and self._failure is None
            ):
                self._flush_done.wait(timeout=1.0)

    def _validate(self, table: _Table, mutation: Mutation) -> None:
        schema = table.schema
        key = mutation.partition_key
        if not isinstance(key, bytes):
            raise InvalidRequest("partition key must be bytes")
        if len(key) > MAX_KEY_SIZE:
            raise InvalidRequest(f"partition key is {len(key)} bytes; the limit is {MAX_KEY_SIZE}")
        for rt in mutation.range_tombstones:
            for bound in (rt.start, rt.end):
                if bound is not None and len(bound.prefix) > MAX_KEY_SIZE:
                    raise InvalidRequest("clustering bound is too long")
        for row in mutation.rows:
            if row.clustering is STATIC:
                if not schema.static:
                    raise InvalidRequest(f"table {schema.name} has no static columns")
                simple, complex_ = table.simple_static, table.complex_static
            else:
                if not isinstance(row.clustering, bytes):
                    raise InvalidRequest("clustering key must be bytes or STATIC")
                if not schema.clustering and row.clustering != b"":
                    raise InvalidRequest(f"table {schema.name} has no clustering columns")
                if len(row.clustering) > MAX_KEY_SIZE:
                    raise InvalidRequest("clustering key is longer than 65535 bytes")
                simple, complex_ = table.simple_regular, table.complex_regular
            for name in row.cells:
                if name not in simple:
                    raise InvalidRequest(f"unknown or non-simple column {name!r} for this row")
            for name in (*row.complex_cells, *row.complex_deletions):
                if name not in complex_:
                    raise InvalidRequest(f"unknown or non-collection column {name!r} for this row")

    # -- flushes -----------------------------------------------------------------

    def _request_flush(self, table: _Table) -> None:
        table.flush_requested = True
        if not self._background:
            self._flush_table(table)
            self._maybe_compact_inline()
            return
        with self._flush_cond:
            self._flush_queue.append(table)
            self._flush_cond.notify()

    def _flush_loop(self) -> None:
        while True:
            with self._flush_cond:
                while not self._flush_queue:
                    self._flush_cond.wait()
                table = self._flush_queue.pop(0)
            if table is None:
                return
            try:
                self._flush_table(table)
            except Exception as exc:  # a failed flush must stop writes, not lose them
                log.exception("flush failed")
                self._fail(exc)
                return
            self._wake_compaction()

    def flush(self, keyspace: str | None = None, table: str | None = None) -> None:
        """Flush memtables (of one table, one keyspace or all) to SSTables now."""
        self._check_open()
        for (ks, name), state in list(self._tables.items()):
            if (keyspace is None or ks == keyspace) and (table is None or name == table):
                self._flush_table(state)
        self._wake_compaction()

    def _flush_table(self, table: _Table, position: tuple[int, int] | None = None) -> None:
        with self._flush_lock:
            with self._write_lock:
                while self._inflight:
                    self._inflight_done.wait()
                table.flush_requested = False
                memtable = table.memtable
                if not len(memtable):
                    return
                if position is None:
                    position = self._commitlog.position() if self._commitlog is not None else (0, 0)
                table.memtable = Memtable(self._write_lock)
                table.flushing.append(memtable)
                self._flush_done.notify_all()
            # Writers go on into the new memtable while this one is written.
            try:
                self._install_flush(table, memtable, position)
            except BaseException as exc:
                # The memtable's data now lives only in memory and the commit
                # log; stop taking writes rather than let a later flush move
                # the replay position past it.
                self._fail(exc)
                raise
        self._discard_segments()

    def _install_flush(self, table: _Table, memtable: Memtable, position: tuple[int, int]) -> None:
        reader = self._write_memtable(table, memtable)
        with self._manifest_lock:
            if (table.schema.keyspace, table.schema.name) not in self._tables:
                return
            entry = self._manifest["tables"][str(table.schema.id)]
            if reader is not None:
                entry["sstables"] = [*entry["sstables"], reader.generation]
            entry["replay_position"] = list(max(table.replay_position, position))
            self._save_manifest()
            with self._write_lock:
                if reader is not None:
                    table.set_sstables([*table.sstables, reader])
                table.flushing.remove(memtable)
                table.replay_position = max(table.replay_position, position)
                self._flush_done.notify_all()

    def _next_generation(self) -> int:
        with self._manifest_lock:
            generation = self._manifest["next_generation"]
            self._manifest["next_generation"] = generation + 1
            return generation

    def _write_memtable(self, table: _Table, memtable: Memtable) -> SSTableReader | None:
        generation = self._next_generation()
        writer = SSTableWriter(
            self._fs,
            table.directory,
            generation,
            expected_partitions=len(memtable),
            fp_chance=table.schema.options.bloom_filter_fp_chance,
            table_id=str(table.schema.id),
        )
        now = int(self._clock())
        for (token, key), partition in memtable.partitions.items():
            view = PartitionView(
                key,
                token,
                partition.deletion,
                partition.range_tombstones,
                partition.static,
                stored_rows(partition),
            )
            compacted = compact_partition([view], now=now, purger=None)
            if compacted is not None:
                writer.add(compacted)
        if not writer.partitions:
            writer.abort()
            return None
        writer.finish()
        return self._prefault(table, SSTableReader(self._fs, table.directory, generation))

    def _discard_segments(self) -> None:
        if self._commitlog is None:
            return

        def is_clean(segment_id: int, table_ids: set[uuid.UUID]) -> bool:
            for table_id in table_ids:
                table = self._by_id.get(table_id)
                if table is not None and table.replay_position[0] <= segment_id:
                    return False
            return True

        self._commitlog.discard_segments(is_clean)

    def _prefault(self, table: _Table, reader: SSTableReader) -> SSTableReader:
        """Map ``reader``'s pages now if it and the table's newer SSTables fit the limit."""
        if self._prefault_limit:
            newer = sum(r.size for r in list(table.sstables) if r.generation > reader.generation)
            if newer + reader.size <= self._prefault_limit:
                reader.prefault()
        return reader

    def _delete_sstables(self, directory: str, readers: list[SSTableReader]) -> None:
        for reader in readers:
            reader.obsolete = True
            for component in fmt.COMPONENTS:
                path = component_path(directory, reader.generation, component)
                if self._fs.exists(path):
                    self._fs.remove(path)
        if readers:
            self._fs.sync_dir(directory)

    # -- reads -------------------------------------------------------------------

    def read(
        self,
        keyspace: str,
        table: str,
        partition_key: bytes,
        slices: list[Slice] | None = None,
        reverse: bool = False,
        limit: int | None = None,
        columns: set[str] | frozenset[str] | None = None,
        now: int | None = None,
        trace: ReadTrace | None = None,
    ) -> PartitionResult | None:
        """Return the live rows of one partition selected by ``slices`` (None = all)."""
        self._check_open()
        state = self._table(keyspace, table)
        if limit is not None and limit < 0:
            raise InvalidRequest("limit must be >= 0")
        now = int(self._clock()) if now is None else now
        if state.row_cache_rows and self._row_cache is not None:
            result = self._read_through_cache(
                state, partition_key, slices, reverse, limit, columns, now, trace
            )
            if result is not MISS:
                return result
        return self._read_sources(state, partition_key, slices, reverse, limit, columns, now, trace)

    def _read_sources(
        self,
        state: _Table,
        partition_key: bytes,
        slices: list[Slice] | None,
        reverse: bool,
        limit: int | None,
        columns: set[str] | frozenset[str] | None,
        now: int,
        trace: ReadTrace | None,
    ) -> PartitionResult | None:
        """Read a partition from its memtables and SSTables (``read`` past the row cache)."""
        token = partition_token(partition_key)
        if trace is None and state.chain_plan is not None:
            result = self._read_chained(
                state, token, partition_key, slices, reverse, limit, columns, now
            )
            if result is not MISS:
                return result
        context = LiveContext()
        views = self._partition_views(
            state,
            token,
            partition_key,
            ALL_SLICES if slices is None else slices,
            reverse,
            trace,
            context,
        )
        result = read_partition(
            views,
            reverse=reverse,
            limit=limit,
            columns=frozenset(columns) if columns is not None else None,
            now=now,
            trace=trace,
            context=context,
        )
        if trace is not None:
            for view in views:
                if view.bound is not None and getgeneratorstate(view.rows) == GEN_CREATED:
                    trace.skip(view.source, "limit reached before its clustering range")
        return result

    def _read_chained(
        self,
        state: _Table,
        token: int,
        partition_key: bytes,
        slices: list[Slice] | None,
        reverse: bool,
        limit: int | None,
        columns: set[str] | frozenset[str] | None,
        now: int,
    ) -> PartitionResult | None | object:
        """Read a partition no memtable holds from the table's chain plan; MISS if one holds it.

        What ``read_partition`` does with the views when they chain (see
        ``chainplan.py``), without building them: nothing outside a row
        can delete it, so rows go straight to ``collect_live``.
        """
        plan = _chain_plan_for(state, token, partition_key)
        if plan is None:
            return MISS
        rows: list = []
        if limit is None or limit > 0:
            context = LiveContext()
            context.now = now
            context.columns = columns = frozenset(columns) if columns is not None else None
            context.fast = True
            if slices is None:
                slices = ALL_SLICES
            order, check = plan.order(slices, reverse)
            # One SSTable after another, each asked for the partition only
            # when the rows before it fall short of the limit.
            for low, high, reader in order:
                if low <= token <= high and (not check or reader.may_intersect(slices)):
                    rows_in = reader.rows(token, partition_key, slices, reverse, context)
                    collect_live(rows_in, rows, limit, now, columns)
                    if limit is not None and len(rows) >= limit:
                        break
        if not rows:
            return None
        return PartitionResult(partition_key, token, None, rows)

    def read_values(
        self,
        keyspace: str,
        table: str,
        partition_key: bytes,
        names: tuple[str, ...] | list[str],
        slices: list[Slice] | None = None,
        reverse: bool = False,
        limit: int | None = None,
        now: int | None = None,
    ) -> list[tuple]:
        """Return ``(clustering, value of each of names...)`` per live row the read selects.

        The rows ``read(..., columns=names)`` returns, as tuples (what a
        database cursor's ``fetchall`` gives): a value is the bytes of the
        row's live cell of that column, None where it holds none. ``names``
        are regular columns that are not collections. A table's row cache
        answers (and fills) as for ``read``; otherwise the rows of a
        partition no memtable holds are read straight from their SSTables'
        blocks when the table's SSTables chain (``pagevalues``); any other
        read takes ``read``.
        """
        self._check_open()
        state = self._table(keyspace, table)
        names = tuple(names)
        simple = state.simple_regular
        for name in names:
            if name not in simple:
                raise InvalidRequest(
                    f"read_values reads regular columns that are not collections, not {name!r}"
                )
        if limit is not None and limit < 0:
            raise InvalidRequest("limit must be >= 0")
        now = int(self._clock()) if now is None else now
        if state.row_cache_rows and self._row_cache is not None:
            values = self._read_through_cache(
                state, partition_key, slices, reverse, limit, frozenset(names), now, None, names
            )
            if values is not MISS:
                return [] if values is None else values
        if state.chain_plan is not None:
            out = self._values_chained(state, partition_key, slices, reverse, limit, names, now)
            if out is not MISS:
                return out
        result = self._read_sources(
            state, partition_key, slices, reverse, limit, frozenset(names), now, None
        )
        return [] if result is None else value_tuples(result.rows, names)

    def _values_chained(
        self,
        state: _Table,
        partition_key: bytes,
        slices: list[Slice] | None,
        reverse: bool,
        limit: int | None,
        names: tuple[str, ...],
        now: int,
    ) -> list[tuple] | object:
        """Read values of a partition no memtable holds from the chain plan; MISS if one holds it.

        ``_read_chained`` for ``read_values``: each SSTable hands over its
        rows' values (``SSTableReader.value_rows``).
        """
        token = partition_token(partition_key)
        plan = _chain_plan_for(state, token, partition_key)
        if plan is None:
            return MISS
        out: list[tuple] = []
        if limit is not None and limit == 0:
            return out
        if slices is None:
            slices = ALL_SLICES
        order, check = plan.order(slices, reverse)
        for low, high, reader in order:
            if low <= token <= high and (not check or reader.may_intersect(slices)):
                reader.value_rows(token, partition_key, slices, reverse, limit, names, now, out)
                if limit is not None and len(out) >= limit:
                    break
        return out

    def _read_through_cache(
        self,
        state: _Table,
        partition_key: bytes,
        slices: list[Slice] | None,
        reverse: bool,
        limit: int | None,
        columns: set[str] | frozenset[str] | None,
        now: int,
        trace: ReadTrace | None,
        names: tuple[str, ...] | None = None,
    ) -> PartitionResult | list[tuple] | None | object:
        """Answer a read from the row cache, filling it on a head read; MISS if it cannot.

        With ``names`` (``read_values``), answer with its tuples instead
        of a PartitionResult (None when a fill found nothing live).
        """
        cache = self._row_cache
        key = (state.id_bytes, state.cache_epoch, partition_key)
        columns = frozenset(columns) if columns is not None else None
        entry = cache.get(key)
        # An entry is valid from its fill until the first TTL in it expires
        # (a read "in the past" could see cells that expired before the fill).
        if entry is not None and entry.filled_at <= now < entry.expires_at:
            result = _answer(entry, partition_key, slices, reverse, limit, columns, names)
            if result is not MISS:
                cache.hits += 1
                state.row_cache_hits += 1
                if trace is not None:
                    trace.row_cache = "hit"
                    trace.partitions_read += 1
                    if result is not None:
                        trace.live_rows += len(result.rows)
                return result
            # A fill would cache the same rows again: read the sources.
            reason = f"miss, {_NOT_COVERED}"
        elif entry is not None and now < entry.filled_at:
            # A read "in the past" must not replace a newer entry.
            reason = "miss, read before the entry's fill"
        else:
            reason = None
        cache.misses += 1
        state.row_cache_misses += 1
        if reason is not None or not is_head_read(slices, reverse):
            if trace is not None:
                trace.row_cache = reason or "miss"
            return MISS
        # An expired entry was hot: refill it at once.
        if entry is None and not cache.admit(key):
            # First touch: a partition read once costs no fill (see RowCache.admit).
            if trace is not None:
                trace.row_cache = "miss, first touch"
            return MISS
        rows = state.row_cache_rows
        placeholder = cache.begin_fill(key)
        try:
            token = partition_token(partition_key)
            context = LiveContext()
            views = self._partition_views(
                state, token, partition_key, ALL_SLICES, False, trace, context
            )
            full = read_partition(
                views,
                reverse=False,
                limit=None if rows >= ALL_ROWS else rows + 1,
                columns=None,
                now=now,
                trace=trace,
                context=context,
            )
            entry = build_entry(full, rows, now)
        finally:
            cache.finish_fill(key, placeholder, entry)
        if entry is None:
            if trace is not None:
                trace.row_cache = "miss, nothing live to cache"
            return None
        result = _answer(entry, partition_key, slices, reverse, limit, columns, names)
        if trace is not None:
            trace.row_cache = "miss, filled" + (f", {_NOT_COVERED}" if result is MISS else "")
        return result

    def row_cache_stats(self) -> dict[str, Any]:
        """Describe the row cache: capacity and size in bytes, entries, hits, misses."""
        if self._row_cache is None:
            return {"enabled": False}
        return {"enabled": True, **self._row_cache.stats()}

    def _partition_views(
        self,
        state: _Table,
        token: int,
        key: bytes,
        slices: list[Slice],
        reverse: bool,
        trace: ReadTrace | None,
        context: LiveContext | None = None,
    ) -> list[PartitionView]:
        memtables = [state.memtable, *state.flushing]
        sstables = state.sstables_by_age
        views = []
        lazy: list[SSTableReader] = []
        newest_deletion = None
        for memtable in memtables:
            if trace is not None:
                trace.memtables_consulted += 1
            if not len(memtable):
                continue
            view = memtable.view(token, key, slices, reverse, context)
            if view is not None:
                views.append(view)
                if view.deletion is not None and (
                    newest_deletion is None or view.deletion.marked_for_delete_at > newest_deletion
                ):
                    newest_deletion = view.deletion.marked_for_delete_at
        # A whole-partition read (LIMIT N from the head) intersects every
        # SSTable's clustering bounds: asked once, not per SSTable.
        everything = slices is ALL_SLICES or (
            len(slices) == 1 and slices[0].start is None and slices[0].end is None
        )
        for reader in sstables:
            if not reader.may_contain_token(token):
                if trace is not None:
                    trace.skip(reader.name, "token range")
                continue
            if newest_deletion is not None and reader.max_timestamp <= newest_deletion:
                if trace is not None:
                    trace.skip(reader.name, "older than a partition tombstone")
                continue
            if not reader.has_partition_level_data:
                if reader.min_clustering is None or (
                    not everything and not reader.may_intersect(slices)
                ):
                    if trace is not None:
                        trace.skip(reader.name, "clustering bounds")
                    continue
                lazy.append(reader)
                continue
            view = _open_view(reader, token, key, slices, reverse, trace, context)
            if view is None:
                continue
            views.append(view)
            if view.deletion is not None and (
                newest_deletion is None or view.deletion.marked_for_delete_at > newest_deletion
            ):
                newest_deletion = view.deletion.marked_for_delete_at
        for reader in lazy:
            if newest_deletion is not None and reader.max_timestamp <= newest_deletion:
                if trace is not None:
                    trace.skip(reader.name, "older than a partition tombstone")
                continue
            # Only rows can come from here: open it when the merge gets to its
            # clustering range, perhaps never if the limit is reached first.
            bound = reader.max_clustering if reverse else reader.min_clustering
            last = reader.min_clustering if reverse else reader.max_clustering
            if trace is None:
                rows = reader.rows(token, key, slices, reverse, context)
            else:
                rows = _traced_lazy_rows(reader, token, key, slices, reverse, trace, context)
            views.append(PartitionView(key, token, None, [], None, rows, reader.name, bound, last))
        return views

    def scan(
        self,
        keyspace: str,
        table: str,
        start: TokenBound | None = None,
        end: TokenBound | None = None,
        limit: int | None = None,
        now: int | None = None,
        trace: ReadTrace | None = None,
        *,
        slices: list[Slice] | None = None,
        columns: set[str] | frozenset[str] | None = None,
        per_partition_limit: int | None = None,
    ) -> Iterator[PartitionResult]:
        """Yield live partitions in token order between ``start`` and ``end``.

        ``limit`` counts live rows over all partitions (a partition with only
        a live static row counts as one); ``per_partition_limit`` caps rows
        per partition. Resume a scan with ``start=TokenBound(token, key,
        inclusive=False)`` of the last partition returned.
        """
        self._check_open()
        state = self._table(keyspace, table)
        now = int(self._clock()) if now is None else now
        slices = ALL_SLICES if slices is None else slices
        columns = frozenset(columns) if columns is not None else None
        low, low_inclusive, high, high_inclusive = _key_bounds(start, end)
        with self._write_lock:
            memtables = state.memtables()
            sstables = list(state.sstables)
        streams = [
            _tagged(memtable.iter_keys(low, low_inclusive, high, high_inclusive), -1 - index)
            for index, memtable in enumerate(memtables)
        ]
        streams += [
            _tagged(reader.iter_entries(low, low_inclusive, high, high_inclusive), index)
            for index, reader in enumerate(sstables)
        ]
        remaining = limit
        if remaining is not None and remaining <= 0:
            return
        merged = heapq.merge(*streams, key=lambda e: (e[0], e[1]))
        for _partition, entries in groupby(merged, key=lambda e: (e[0], e[1])):
            result = self._scan_partition(
                state,
                list(entries),
                memtables,
                sstables,
                slices,
                columns,
                now,
                trace,
                remaining,
                per_partition_limit,
            )
            if result is not None:
                yield result
                if remaining is not None:
                    remaining -= max(1, len(result.rows))
                    if remaining <= 0:
                        return

    def _scan_partition(
        self,
        state,
        group,
        memtables,
        sstables,
        slices,
        columns,
        now,
        trace,
        remaining,
        per_partition_limit,
    ):
        token, key = group[0][0], group[0][1]
        views = []
        for _t, _k, index, location in group:
            if index < 0:
                view = memtables[-1 - index].view(token, key, slices, False)
            else:
                view = sstables[index].view_at(location[0], location[1], slices, False, trace)
                if trace is not None:
                    trace.sstables_consulted.append(sstables[index].name)
            if view is not None:
                views.append(view)
        limit = per_partition_limit
        if remaining is not None:
            limit = remaining if limit is None else min(limit, remaining)
        return read_partition(
            views, reverse=False, limit=limit, columns=columns, now=now, trace=trace
        )

    # -- compaction --------------------------------------------------------------

    def _wake_compaction(self) -> None:
        if self._executor is not None and self._auto_compaction:
            self._executor.wake()
        elif not self._background:
            self._maybe_compact_inline()

    def _maybe_compact_inline(self) -> None:
        if self._auto_compaction and not self._background:
            while self._compact_once():
                pass

    def _task_for(self, table: _Table, now: int) -> CompactionTask | None:
        with self._write_lock:
            candidates = [r for r in table.sstables if not r.compacting]
            memtable_min = min((m.min_timestamp for m in table.memtables() if len(m)), default=None)
        return next_task(
            [_sstable_info(r) for r in candidates],
            table.schema.options.compaction,
            now=now,
            gc_grace_seconds=table.schema.options.gc_grace_seconds,
            memtable_min_timestamp=memtable_min,
        )

    def pending_compactions(self) -> list[dict]:
        """Return the task each table's policy would run next."""
        now = int(self._clock())
        pending = []
        for table in list(self._tables.values()):
            task = self._task_for(table, now)
            if task is not None:
                pending.append(
                    {
                        "keyspace": table.schema.keyspace,
                        "table": table.schema.name,
                        "inputs": list(task.inputs),
                        "expired": list(task.expired),
                        "reason": task.reason,
                    }
                )
        return pending

    def _compact_once(self) -> bool:
        """Run one compaction task if any table has one; return True if one ran."""
        if self._closed or self._failure is not None:
            return False
        now = int(self._clock())
        for table in list(self._tables.values()):
            task = self._task_for(table, now)
            if task is not None:
                self._run_compaction(table, task, now)
                return True
        return False

    def compact(self, keyspace: str, table: str) -> None:
        """Compact every SSTable of a table into one (a major compaction), now."""
        self._check_open()
        state = self._table(keyspace, table)
        # Holding the compaction lock waits out a background compaction, so
        # every SSTable is free to take part.
        with self._compaction_lock:
            with self._write_lock:
                generations = tuple(r.generation for r in state.sstables)
            if generations:
                task = CompactionTask(generations, "major (requested)")
                self._run_compaction(state, task, int(self._clock()))

    def _run_compaction(self, table: _Table, task: CompactionTask, now: int) -> None:
        with self._compaction_lock:
            with self._write_lock:
                live = {r.generation: r for r in table.sstables}
                if any(g not in live or live[g].compacting for g in (*task.inputs, *task.expired)):
                    return
                inputs = [live[g] for g in task.inputs]
                expired = [live[g] for g in task.expired]
                for reader in (*inputs, *expired):
                    reader.compacting = True
            started = time.time()
            try:
                output = self._merge_sstables(table, inputs, now) if inputs else None
            except BaseException:
                for reader in (*inputs, *expired):
                    reader.compacting = False
                raise
            removed = [*inputs, *expired]
            with self._manifest_lock:
                if (table.schema.keyspace, table.schema.name) not in self._tables:
                    return
                entry = self._manifest["tables"][str(table.schema.id)]
                gone = {r.generation for r in removed}
                live_list = [g for g in entry["sstables"] if g not in gone]
                if output is not None:
                    live_list.append(output.generation)
                entry["sstables"] = live_list
                self._history.append(
                    {
                        "keyspace": table.schema.keyspace,
                        "table": table.schema.name,
                        "started_at": started,
                        "finished_at": time.time(),
                        "reason": task.reason,
                        "inputs": [r.generation for r in inputs],
                        "expired_dropped": [r.generation for r in expired],
                        "input_bytes": sum(r.size for r in removed),
                        "output": output.generation if output is not None else None,
                        "output_bytes": output.size if output is not None else 0,
                        "input_partitions": sum(r.stats["partitions"] for r in inputs),
                        "output_partitions": output.stats["partitions"]
                        if output is not None
                        else 0,
                    }
                )
                del self._history[:-HISTORY_LIMIT]
                self._save_manifest()
                with self._write_lock:
                    kept = [r for r in table.sstables if r.generation not in gone]
                    table.set_sstables(kept + ([output] if output is not None else []))
            self._delete_sstables(table.directory, removed)

    def _merge_sstables(
        self, table: _Table, inputs: list[SSTableReader], now: int
    ) -> SSTableReader | None:
        gc_before = now - table.schema.options.gc_grace_seconds
        with self._write_lock:
            input_ids = {id(r) for r in inputs}
            others = [r for r in table.sstables if id(r) not in input_ids]
            memtables = table.memtables()
        generation = self._next_generation()
        writer = SSTableWriter(
            self._fs,
            table.directory,
            generation,
            expected_partitions=sum(r.stats["partitions"] for r in inputs),
            fp_chance=table.schema.options.bloom_filter_fp_chance,
            table_id=str(table.schema.id),
        )
        throttle = Throttle(self._throughput)
        streams = [
            _tagged(reader.iter_entries(None, True, None, True), index)
            for index, reader in enumerate(inputs)
        ]
        group: list = []

        def write_group() -> None:
            token, key = group[0][0], group[0][1]
            views = [inputs[i].view_at(o, s, ALL_SLICES, False) for _t, _k, i, (o, s) in group]
            max_purgeable = 2**63 - 1
            for other in others:
                if other.may_contain_token(token) and other.min_timestamp < max_purgeable:
                    if other.bloom.may_contain(key):
                        max_purgeable = other.min_timestamp
            with self._write_lock:
                for memtable in memtables:
                    max_purgeable = min(max_purgeable, memtable.min_timestamp_of(token, key))
            compacted = compact_partition(views, now=now, purger=Purger(gc_before, max_purgeable))
            if compacted is not None:
                writer.add(compacted)
            throttle.consume(sum(loc[1] for *_, loc in group))

        for item in heapq.merge(*streams, key=lambda e: (e[0], e[1])):
            if group and (group[0][0], group[0][1]) != (item[0], item[1]):
                write_group()
                group = []
            group.append(item)
        if group:
            write_group()
        if not writer.partitions:
            writer.abort()
            return None
        writer.finish()
        return self._prefault(table, SSTableReader(self._fs, table.directory, generation))

    def wait_for_background(self, timeout: float = 30.0) -> None:
        """Block until queued flushes and compactions are done (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._flush_cond:
                queued = bool(self._flush_queue)
            busy = any(t.flushing or t.flush_requested for t in self._tables.values())
            if not queued and not busy:
                break
            time.sleep(0.01)
        if self._executor is not None:
            self._executor.wait_idle(max(0.0, deadline - time.monotonic()))

    # -- introspection -----------------------------------------------------------

    def sstables(self, keyspace: str, table: str) -> list[dict[str, Any]]:
        """Describe a table's live SSTables (sizes, counts, ranges, bloom filter)."""
        state = self._table(keyspace, table)
        with self._write_lock:
            readers = list(state.sstables)
        described = []
        for reader in sorted(readers, key=lambda r: r.generation):
            s = reader.stats
            described.append(
                {
                    "generation": reader.generation,
                    "name": reader.name,
                    "directory": reader.directory,
                    "size": reader.size,
                    "data_size": s["data_size"],
                    "index_size": s["index_size"],
                    "partitions": s["partitions"],
                    "rows": s["rows"],
                    "cells": s["cells"],
                    "tombstones": s["tombstones"],
                    "min_token": s["min_token"],
                    "max_token": s["max_token"],
                    "min_timestamp": s["min_timestamp"],
                    "max_timestamp": s["max_timestamp"],
                    "max_local_deletion_time": s["max_local_deletion_time"],
                    "bloom_fp_chance": s["bloom_fp_chance"],
                    "bloom_bits": s["bloom_bits"],
                    "bloom_hashes": s["bloom_hashes"],
                    "bloom_expected_fp": reader.bloom.expected_fp_chance(),
                    "bloom_checks": reader.bloom_checks,
                    "bloom_negatives": reader.bloom_negatives,
                    "compacting": reader.compacting,
                    "created_at": s["created_at"],
                }
            )
        return described

    def table_stats(self, keyspace: str, table: str) -> dict[str, Any]:
        """Summarise a table: memtable, SSTables, estimated partitions, tombstones."""
        state = self._table(keyspace, table)
        with self._write_lock:
            memtables = state.memtables()
            readers = list(state.sstables)
            memtable_size = state.memtable.size
            memtable_partitions = len(state.memtable)
        return {
            "keyspace": keyspace,
            "table": table,
            "id": str(state.schema.id),
            "memtable_size": memtable_size,
            "memtable_partitions": memtable_partitions,
            "flushing_memtables": len(memtables) - 1,
            "sstable_count": len(readers),
            "disk_size": sum(r.size for r in readers),
            "estimated_partitions": sum(len(m) for m in memtables)
            + sum(r.stats["partitions"] for r in readers),
            "sstable_rows": sum(r.stats["rows"] for r in readers),
            "sstable_tombstones": sum(r.stats["tombstones"] for r in readers),
            "min_timestamp": min((r.min_timestamp for r in readers), default=None),
            "max_timestamp": max((r.max_timestamp for r in readers), default=None),
            "bloom_filter_bytes": sum(len(r.bloom.data) for r in readers),
            "bloom_checks": sum(r.bloom_checks for r in readers),
            "bloom_negatives": sum(r.bloom_negatives for r in readers),
            "replay_position": list(state.replay_position),
            "compaction": dict(state.schema.options.compaction),
            "caching": dict(state.schema.options.caching),
            "row_cache_hits": state.row_cache_hits,
            "row_cache_misses": state.row_cache_misses,
        }

    def compaction_history(self) -> list[dict[str, Any]]:
        """Return recent compactions, oldest first."""
        with self._manifest_lock:
            return [dict(h) for h in self._history]

    def commitlog_info(self) -> dict[str, Any]:
        """Describe the commit log: sync mode, segments, fsyncs so far."""
        if self._commitlog is None:
            return {"sync_mode": None, "segments": [], "syncs": 0}
        return {
            "sync_mode": self._commitlog.sync_mode,
            "segments": sorted(self._commitlog.segments),
            "active_segment": self._commitlog.active_segment,
            "position": list(self._commitlog.position()),
            "syncs": self._commitlog.syncs,
            "replayed_mutations": self._replayed,
        }

    @property
    def directory(self) -> str | None:
        return None if self._memory else self._root


def _answer(
    entry,
    partition_key: bytes,
    slices: list[Slice] | None,
    reverse: bool,
    limit: int | None,
    columns: frozenset[str] | None,
    names: tuple[str, ...] | None,
):
    """Answer from a row cache entry: ``read_values``' tuples with ``names``, else ``read``'s result."""
    if names is not None:
        return answer_values(entry, slices, reverse, limit, names)
    return answer(entry, partition_key, slices, reverse, limit, columns)


def _chain_plan_for(state: _Table, token: int, partition_key: bytes) -> ChainPlan | None:
    """Return the table's chain plan if no memtable holds the partition, else None."""
    # Memtables first, then the SSTables: a flush adds its SSTable before it
    # lets go of its memtable, so no row is missed between.
    for memtable in [state.memtable, *state.flushing]:
        if len(memtable) and memtable.holds(token, partition_key):
            return None
    return state.chain_plan


def _traced_lazy_rows(
    reader: SSTableReader,
    token: int,
    key: bytes,
    slices: list[Slice],
    reverse: bool,
    trace: ReadTrace,
    context: LiveContext | None,
) -> Iterator:
    """Yield the partition's rows from ``reader``, opened (and traced) when first asked."""
    view = _open_view(reader, token, key, slices, reverse, trace, context)
    if view is not None:
        yield from view.rows


def _open_view(
    reader: SSTableReader,
    token: int,
    key: bytes,
    slices: list[Slice],
    reverse: bool,
    trace: ReadTrace | None,
    context: LiveContext | None = None,
) -> PartitionView | None:
    """Return the partition's view in ``reader``, or None (noted on the trace) if it has none."""
    if trace is None:
        return reader.open_view(token, key, slices, reverse, context)
    view = reader.cached_view(key, slices, reverse, trace, context)
    if view is not None:
        if trace is not None:
            trace.sstables_consulted.append(reader.name)
        return view
    if not reader.may_contain(key):
        if trace is not None:
            trace.skip(reader.name, "bloom filter")
        return None
    view = reader.view(token, key, slices, reverse, trace, context)
    if view is None:
        if trace is not None:
            trace.skip(reader.name, "bloom filter false positive")
        return None
    if trace is not None:
        trace.sstables_consulted.append(reader.name)
    return view


def _tagged(entries: Iterator[tuple], tag: int) -> Iterator[tuple]:
    """Yield (token, key, tag, location) for each key or index entry of one source."""
    for entry in entries:
        yield (entry[0], entry[1], tag, entry[2:] or None)


def _is_plain_insert(table: _Table, mutation: Mutation) -> bool:
    """Return True for one valid clustered row that ``_normalize`` would leave as is.

    The common write (an INSERT of simple columns), checked in one pass;
    anything else returns False and takes ``_validate`` then ``_normalize``,
    which raise the errors.
    """
    rows = mutation.rows
    if len(rows) != 1 or mutation.range_tombstones or mutation.partition_deletion is not None:
        return False
    key = mutation.partition_key
    if type(key) is not bytes or len(key) > MAX_KEY_SIZE:
        return False
    row = rows[0]
    clustering = row.clustering
    if type(clustering) is not bytes or len(clustering) > MAX_KEY_SIZE:
        return False
    if row.complex_cells or row.complex_deletions:
        return False
    if clustering and not table.schema.clustering:
        return False
    liveness = row.liveness
    if liveness is not None and liveness.ttl:
        return False
    simple = table.simple_regular
    for name, cell in row.cells.items():
        if name not in simple:
            return False
        if cell.local_deletion_time == NO_DELETION and (cell.value is None or cell.ttl):
            return False
    return True


def _normalize(mutation: Mutation, now: int) -> Mutation:
    """Fill in deletion/expiry times the caller left as NO_DELETION (may copy)."""
    rows = None
    for index, row in enumerate(mutation.rows):
        fixed = _normalize_row(row, now)
        if fixed is not row:
            if rows is None:
                rows = list(mutation.rows)
            rows[index] = fixed
    if rows is None:
        return mutation
    return replace(mutation, rows=rows)


def _fix_cell(cell: Cell, now: int) -> Cell:
    if cell.local_deletion_time != NO_DELETION:
        return cell
    if cell.value is None:
        return Cell(None, cell.timestamp, 0, now)
    if cell.ttl:
        return Cell(cell.value, cell.timestamp, cell.ttl, now + cell.ttl)
    return cell


def _normalize_row(row: RowUpdate, now: int) -> RowUpdate:
    changed = False
    liveness = row.liveness
    if liveness is not None and liveness.ttl and liveness.local_expiration_time == NO_DELETION:
        liveness = LivenessInfo(liveness.timestamp, liveness.ttl, now + liveness.ttl)
        changed = True
    cells = row.cells
    for name, cell in row.cells.items():
        if cell.local_deletion_time != NO_DELETION or (cell.value is not None and not cell.ttl):
            continue  # _fix_cell would return it as is: skip the call for the common cell
        fixed = _fix_cell(cell, now)
        if fixed is not cell:
            if cells is row.cells:
                cells = dict(row.cells)
            cells[name] = fixed
            changed = True
    complex_cells = row.complex_cells
    for name, elements in row.complex_cells.items():
        for path, cell in elements.items():
            fixed = _fix_cell(cell, now)
            if fixed is not cell:
                if complex_cells is row.complex_cells:
                    complex_cells = {n: dict(e) for n, e in row.complex_cells.items()}
                complex_cells[name][path] = fixed
                changed = True
    if not changed:
        return row
    return RowUpdate(
        row.clustering, liveness, row.deletion, cells, row.complex_deletions, complex_cells
    )
