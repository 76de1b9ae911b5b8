"""The wide-column engine, modelled on Cassandra 5. Never imports Django.

``connect(target)`` opens the storage engine (``"memory:"`` or a data
directory) and returns a cassandra-driver shaped Session over it.
"""

from __future__ import annotations

from stores.wide.cql.errors import (
    AlreadyExists,
    ConfigurationException,
    CQLError,
    InvalidRequest,
    ServerError,
    SyntaxException,
    Unauthorized,
)
from stores.wide.session import (
    BatchStatement,
    BatchType,
    BoundStatement,
    PreparedStatement,
    ResultSet,
    Session,
    SimpleStatement,
    dict_factory,
    named_tuple_factory,
    ordered_dict_factory,
    tuple_factory,
)

__all__ = [
    "AlreadyExists",
    "BatchStatement",
    "BatchType",
    "BoundStatement",
    "ConfigurationException",
    "CQLError",
    "InvalidRequest",
    "PreparedStatement",
    "ResultSet",
    "ServerError",
    "Session",
    "SimpleStatement",
    "SyntaxException",
    "Unauthorized",
    "connect",
    "dict_factory",
    "named_tuple_factory",
    "ordered_dict_factory",
    "tuple_factory",
]


def connect(
    target: str, keyspace: str | None = None, commitlog_sync: str = "periodic", **engine_options
) -> Session:
    """Open the engine at ``target`` ("memory:" or a directory) and return a Session."""
    from stores.wide.cql.executor import Executor
    from stores.wide.storage import StorageEngine

    if commitlog_sync not in ("periodic", "batch"):
        raise ValueError("commitlog_sync must be 'periodic' or 'batch'")
    directory = None if target in ("memory:", "memory://", "") else target
    engine = StorageEngine.open(directory, commitlog_sync=commitlog_sync, **engine_options)
    executor = None
    try:
        executor = Executor(engine)
        return Session(executor, engine, keyspace)
    except Exception:
        if executor is not None:
            executor.close()
        engine.close()
        raise
