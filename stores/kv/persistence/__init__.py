"""Persistence for the key-value engine: append-only file, snapshots, rewrite.

``open_persistence(engine, directory, config)`` locks a data directory, loads
it into the engine and returns the ``Persistence`` object whose hooks the
engine calls (docs/kv/engine-api.md). The on-disk formats and what each
appendfsync mode promises are in docs/kv/persistence.md. Never imports the
engine: it is reached only through the contract's attributes.
"""

from __future__ import annotations

import posixpath
from typing import Any

from stores.kv.persistence.config import PersistenceConfig
from stores.kv.persistence.errors import (
    CorruptFileError,
    DataDirectoryLockedError,
    PersistenceError,
)
from stores.kv.persistence.format import AOF_DIR, LOCK_FILE
from stores.kv.persistence.fs import FaultInjectingFileSystem, FileSystem, RealFileSystem
from stores.kv.persistence.hooks import Persistence
from stores.kv.persistence.loader import load_directory

__all__ = [
    "CorruptFileError",
    "DataDirectoryLockedError",
    "FaultInjectingFileSystem",
    "Persistence",
    "PersistenceConfig",
    "PersistenceError",
    "RealFileSystem",
    "open_persistence",
]


def open_persistence(
    engine: Any,
    directory: str,
    config: Any = None,
    fs: FileSystem | None = None,
) -> Persistence:
    """Lock ``directory``, load it into ``engine`` and return its Persistence.

    ``config`` is the engine's Config (or any object or mapping with the
    fields of PersistenceConfig). The returned object is also installed as
    ``engine.persistence`` (through ``engine.set_persistence`` when the engine
    has it) and, when ``config`` is the engine's own Config, listens to its
    CONFIG SET of appendonly, appendfsync and save. Raise DataDirectoryLockedError if another
    process holds the directory, CorruptFileError if a file cannot be loaded.
    """
    fs = fs or RealFileSystem()
    if config is None:
        config = getattr(engine, "config", None)
    settings = PersistenceConfig.from_any(config)
    directory = str(directory)
    fs.makedirs(directory)
    lock = fs.lock(directory, posixpath.join(directory, LOCK_FILE))
    try:
        persistence = Persistence(engine, fs, directory, settings, lock)
        loaded = load_directory(engine, fs, directory, settings.appendonly)
        persistence.loaded_keys = loaded.keys
        persistence.snapshot_current = loaded.source in ("snapshot", "empty")
        if settings.appendonly:
            if loaded.source == "aof" and loaded.manifest.incrs:
                name = loaded.manifest.incrs[-1][0]
                file = fs.open_append(posixpath.join(directory, AOF_DIR, name))
                persistence.aof_base_size = loaded.base_size
                persistence.attach_aof(loaded.manifest, file, loaded.aof_size - file.size())
                persistence.remove_orphan_files()
            else:
                # No usable AOF yet (first start, or turning it on over a
                # snapshot): write one from what was loaded, synchronously.
                persistence._enable_on_rewrite = True
                persistence._begin_job("rewrite")
                try:
                    persistence._rewrite()
                finally:
                    persistence._end_job()
    except BaseException:
        lock.release()
        raise
    install = getattr(engine, "set_persistence", None)
    if install is not None:
        install(persistence)
    else:
        engine.persistence = persistence
    engine_config = getattr(engine, "config", None)
    if config is engine_config and hasattr(engine_config, "on_change"):
        engine_config.on_change(persistence.config_changed)
    persistence.start_cron()
    return persistence
