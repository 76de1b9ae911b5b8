"""An in-process Session shaped like cassandra-driver's.

``Session.execute(query, parameters)`` takes ``%s`` / ``%(name)s``
placeholders for simple statements, ``prepare()`` takes ``?`` and ``:name``;
statements (SimpleStatement, PreparedStatement, BoundStatement,
BatchStatement) and ResultSet paging behave like the driver's, and rows come
from a row factory (named tuples by default). It runs statements through
``stores.wide.cql.executor.Executor``; it never parses CQL itself.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from itertools import repeat

from stores.wide.cql.errors import InvalidRequest
from stores.wide.cql.executor import VOID as _VOID
from stores.wide.cql.executor import Executor, Prepared
from stores.wide.cql.results import UNSET, Rows, SetKeyspace

UNSET_VALUE = UNSET
DEFAULT_FETCH_SIZE = 5000

_START_BAD = re.compile(r"^[^a-zA-Z0-9]*")
_END_BAD = re.compile(r"[^a-zA-Z0-9_]*$")
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]")
_clean_cache: dict[str, str] = {}


def _clean_column_name(name: str) -> str:
    clean = _clean_cache.get(name)
    if clean is None:
        clean = _NON_ALNUM.sub("_", _START_BAD.sub("", _END_BAD.sub("", name)))
        if len(_clean_cache) < 10_000:
            _clean_cache[name] = clean
    return clean


_row_classes: dict[tuple, type] = {}
_tuple_new = tuple.__new__


def named_tuple_factory(colnames: list[str], rows: list[tuple]) -> list:
    """Return rows as named tuples (the driver's default row factory)."""
    key = tuple(colnames)
    cls = _row_classes.get(key)
    if cls is None:
        clean = [_clean_column_name(n) for n in colnames]
        try:
            cls = namedtuple("Row", clean)
        except ValueError:
            cls = namedtuple("Row", clean, rename=True)
        if len(_row_classes) < 10_000:
            _row_classes[key] = cls
    return list(map(_tuple_new, repeat(cls), rows))


def dict_factory(colnames: list[str], rows: list[tuple]) -> list[dict]:
    """Return rows as dicts keyed by column name."""
    return [dict(zip(colnames, row, strict=True)) for row in rows]


def tuple_factory(colnames: list[str], rows: list[tuple]) -> list[tuple]:
    """Return rows as plain tuples."""
    return list(rows)


def ordered_dict_factory(colnames: list[str], rows: list[tuple]) -> list[dict]:
    """Return rows as dicts (insertion ordered) keyed by column name."""
    return dict_factory(colnames, rows)


class Statement:
    """Base of the statement classes: fetch size, keyspace and options."""

    fetch_size = None
    paging_state = None
    keyspace = None
    consistency_level = None
    serial_consistency_level = None
    timestamp = None
    is_idempotent = False
    custom_payload = None
    trace = None


class SimpleStatement(Statement):
    """A query string with optional ``%s`` / ``%(name)s`` placeholders."""

    def __init__(
        self,
        query_string: str,
        fetch_size=None,
        keyspace=None,
        consistency_level=None,
        serial_consistency_level=None,
        is_idempotent=False,
        **_options,
    ):
        self.query_string = query_string
        self.fetch_size = fetch_size
        self.keyspace = keyspace
        self.consistency_level = consistency_level
        self.serial_consistency_level = serial_consistency_level
        self.is_idempotent = is_idempotent

    def __str__(self) -> str:
        return self.query_string

    def __repr__(self) -> str:
        return f'<SimpleStatement query="{self.query_string}">'


class PreparedStatement(Statement):
    """A statement prepared once; ``bind()`` gives a BoundStatement."""

    def __init__(self, session: Session, prepared: Prepared):
        self._session = session
        self._prepared = prepared
        self.query_string = prepared.query
        self.keyspace = prepared.keyspace

    @property
    def query_id(self) -> bytes:
        return self._prepared.id

    @property
    def column_metadata(self):
        return self._prepared.bind_specs

    @property
    def result_metadata(self):
        return self._prepared.result_columns

    @property
    def routing_key_indexes(self) -> list[int]:
        return self._prepared.pk_indexes

    def bind(self, values=None) -> BoundStatement:
        """Return a BoundStatement with ``values`` (a sequence or a dict by name)."""
        return BoundStatement(self).bind(values)

    def __str__(self) -> str:
        return self.query_string

    def __repr__(self) -> str:
        return f'<PreparedStatement query="{self.query_string}">'


class BoundStatement(Statement):
    """A prepared statement with its values."""

    def __init__(
        self, prepared_statement: PreparedStatement, fetch_size=None, keyspace=None, **_options
    ):
        self.prepared_statement = prepared_statement
        self.fetch_size = fetch_size if fetch_size is not None else prepared_statement.fetch_size
        self.keyspace = keyspace or prepared_statement.keyspace
        self.values: list = []

    def bind(self, values=None) -> BoundStatement:
        """Set the values (sequence in marker order, or dict by marker name)."""
        specs = self.prepared_statement.column_metadata
        if values is None:
            values = ()
        if isinstance(values, Mapping):
            out = []
            for spec in specs:
                if spec.name in values:
                    out.append(values[spec.name])
                else:
                    out.append(UNSET)
            unknown = set(values) - {s.name for s in specs}
            if unknown:
                raise KeyError(
                    f"Column name(s) {', '.join(sorted(unknown))} not found in prepared statement"
                )
            self.values = out
            return self
        values = list(values)
        if len(values) > len(specs):
            raise ValueError(
                f"Too many arguments provided to bind() (got {len(values)}, expected {len(specs)})"
            )
        self.values = values + [UNSET] * (len(specs) - len(values))
        return self

    @property
    def query_string(self) -> str:
        return self.prepared_statement.query_string

    def __str__(self) -> str:
        return self.query_string


class BatchType:
    """The three kinds of batch."""

    LOGGED = "logged"
    UNLOGGED = "unlogged"
    COUNTER = "counter"


class BatchStatement(Statement):
    """Statements run as one batch: all applied together, or none."""

    def __init__(
        self,
        batch_type: str = BatchType.LOGGED,
        retry_policy=None,
        consistency_level=None,
        **_options,
    ):
        self.batch_type = batch_type
        self.consistency_level = consistency_level
        self._statements: list[tuple[object, object]] = []

    def add(self, statement, parameters=None) -> BatchStatement:
        """Add a statement (string, SimpleStatement, PreparedStatement or BoundStatement)."""
        self._statements.append((statement, parameters))
        return self

    def add_all(self, statements, parameters) -> BatchStatement:
        """Add statements with their parameters, pairwise."""
        for statement, params in zip(statements, parameters, strict=True):
            self.add(statement, params)
        return self

    def clear(self) -> None:
        self._statements.clear()

    def __len__(self) -> int:
        return len(self._statements)


class ResultSet:
    """Rows of a result, paging transparently as it is iterated."""

    def __init__(self, session: Session, runner, result, row_factory, fetch_size):
        self._session = session
        self._runner = runner
        self._row_factory = row_factory
        self.fetch_size = fetch_size
        if result is _VOID:
            self._result = result
            self.column_names = self.column_types = self.paging_state = None
            self._current_rows = []
        else:
            self._set(result)

    def _set(self, result) -> None:
        self._result = result
        if isinstance(result, Rows):
            self.column_names = result.column_names
            self.column_types = [c.cql_type for c in result.columns]
            self._current_rows = self._row_factory(self.column_names, result.rows)
            self.paging_state = result.paging_state
        else:
            self.column_names = None
            self.column_types = None
            self._current_rows = []
            self.paging_state = None

    @property
    def current_rows(self) -> list:
        """Return the rows of the current page."""
        return self._current_rows

    @property
    def has_more_pages(self) -> bool:
        return self.paging_state is not None

    def fetch_next_page(self) -> None:
        """Replace the current rows with the next page's."""
        if self.paging_state is None:
            self._current_rows = []
            return
        self._set(self._runner(paging_state=self.paging_state))

    def __iter__(self) -> Iterator:
        while True:
            yield from self._current_rows
            if self.paging_state is None:
                return
            self.fetch_next_page()

    def one(self):
        """Return the first row or None."""
        return self._current_rows[0] if self._current_rows else None

    def all(self) -> list:
        """Return every remaining row, fetching every page."""
        if self.paging_state is None:
            return list(self._current_rows)
        return list(self)

    def __bool__(self) -> bool:
        return bool(self._current_rows)

    def __getitem__(self, index):
        return self._current_rows[index]

    def __len__(self) -> int:
        return len(self._current_rows)

    @property
    def was_applied(self) -> bool:
        """Return the ``[applied]`` column of a conditional statement's result."""
        if not self.column_names or self.column_names[0] != "[applied]":
            raise RuntimeError("No LWT were present in the ResultSet")
        row = self._current_rows[0]
        if isinstance(row, dict):
            return row["[applied]"]
        return row[0]

    @property
    def response_future(self):
        return None

    def get_query_trace(self, max_wait_sec=None):
        """Return the storage read trace of a SELECT run with ``trace=True`` (a dict), or None."""
        return getattr(self._result, "trace", None)


class ResponseFuture:
    """The already-completed future ``execute_async`` returns."""

    def __init__(self, future: Future):
        self._future = future

    def result(self, timeout=None) -> ResultSet:
        return self._future.result(timeout)

    def add_callback(self, fn, *args, **kwargs) -> None:
        self._future.add_done_callback(
            lambda f: f.exception() is None and fn(f.result(), *args, **kwargs)
        )

    def add_errback(self, fn, *args, **kwargs) -> None:
        self._future.add_done_callback(
            lambda f: f.exception() is not None and fn(f.exception(), *args, **kwargs)
        )

    def add_callbacks(
        self,
        callback,
        errback,
        callback_args=(),
        callback_kwargs=None,
        errback_args=(),
        errback_kwargs=None,
    ):
        self.add_callback(callback, *callback_args, **(callback_kwargs or {}))
        self.add_errback(errback, *errback_args, **(errback_kwargs or {}))

    def done(self) -> bool:
        return self._future.done()


class _MarkerRecorder(dict):
    """A mapping for ``query % mapping`` that turns %(name)s into ``?``."""

    def __init__(self, params: Mapping):
        super().__init__()
        self.params = params
        self.values: list = []

    def __getitem__(self, key):
        self.values.append(self.params[key])
        return "?"


def _bind_simple(query: str, parameters) -> tuple[str, list]:
    if parameters is None:
        return query, []
    if isinstance(parameters, Mapping):
        recorder = _MarkerRecorder(parameters)
        return query % recorder, recorder.values
    if isinstance(parameters, str | bytes) or not isinstance(parameters, Sequence):
        raise TypeError("parameters must be a sequence or a mapping")
    values = list(parameters)
    return query % tuple("?" for _ in values), values


class Session:
    """The cassandra-driver shaped Session over an in-process executor."""

    def __init__(self, executor: Executor, engine=None, keyspace: str | None = None):
        self._executor = executor
        self._engine = engine
        self.keyspace = None
        self.row_factory = named_tuple_factory
        self.default_fetch_size = DEFAULT_FETCH_SIZE
        self.default_timeout = 10.0
        self.is_shutdown = False
        if keyspace:
            self.set_keyspace(keyspace)

    @property
    def executor(self) -> Executor:
        return self._executor

    @property
    def engine(self):
        return self._engine

    def set_keyspace(self, keyspace: str) -> None:
        """Make ``keyspace`` the default for unqualified table names."""
        quoted = '"' + keyspace.replace('"', '""') + '"'
        self.execute(f"USE {quoted}")

    def prepare(self, query: str, custom_payload=None, keyspace=None) -> PreparedStatement:
        """Return a PreparedStatement for a query with ``?`` / ``:name`` markers."""
        self._check_open()
        if isinstance(query, SimpleStatement):
            query = query.query_string
        return PreparedStatement(self, self._executor.prepare(query, keyspace or self.keyspace))

    def execute(
        self,
        query,
        parameters=None,
        timeout=None,
        trace=False,
        custom_payload=None,
        execution_profile=None,
        paging_state=None,
        host=None,
        execute_as=None,
    ) -> ResultSet:
        """Run a statement and return its ResultSet."""
        if self.is_shutdown:
            raise InvalidRequest("The session has been shut down")
        if type(query) is PreparedStatement and type(parameters) in (list, tuple) and not trace:
            prepared = query._prepared
            if len(parameters) == len(prepared.compiled.bind_specs):
                # The hot path: a prepared statement with positional values.
                return self._run_prepared(prepared, parameters, query.fetch_size, paging_state)
        if isinstance(query, BatchStatement):
            return self._execute_batch(query)
        fetch_size = self.default_fetch_size
        if isinstance(query, str):
            query = SimpleStatement(query)
        if isinstance(query, PreparedStatement):
            query = query.bind(parameters)
            parameters = None
        if query.fetch_size is not None:
            fetch_size = query.fetch_size
        if isinstance(query, BoundStatement):
            prepared = query.prepared_statement._prepared
            values = query.values
            keyspace = query.keyspace or self.keyspace
        else:
            text, values = _bind_simple(query.query_string, parameters)
            keyspace = query.keyspace or self.keyspace
            prepared = self._executor.prepare(text, keyspace)

        run = partial(
            self._executor.execute,
            prepared,
            values,
            keyspace=keyspace,
            page_size=fetch_size,
            trace=bool(trace),
        )
        result = run(paging_state=paging_state)
        if isinstance(result, SetKeyspace):
            self.keyspace = result.keyspace
        return ResultSet(self, run, result, self.row_factory, fetch_size)

    def _run_prepared(self, prepared, values, fetch_size, paging_state) -> ResultSet:
        executor = self._executor
        keyspace = self.keyspace
        if fetch_size is None:
            fetch_size = self.default_fetch_size

        result = executor.execute(
            prepared, values, keyspace=keyspace, page_size=fetch_size, paging_state=paging_state
        )
        if result is _VOID:
            return ResultSet(self, None, result, self.row_factory, fetch_size)
        run = partial(executor.execute, prepared, values, keyspace=keyspace, page_size=fetch_size)
        return ResultSet(self, run, result, self.row_factory, fetch_size)

    def _execute_batch(self, batch: BatchStatement) -> ResultSet:
        items = []
        for statement, params in batch._statements:
            if isinstance(statement, str):
                statement = SimpleStatement(statement)
            if isinstance(statement, PreparedStatement):
                statement = statement.bind(params)
            if isinstance(statement, BoundStatement):
                items.append((statement.prepared_statement._prepared, statement.values))
            else:
                text, values = _bind_simple(statement.query_string, params)
                items.append((self._executor.prepare(text, self.keyspace), values))
        result = self._executor.execute_batch(batch.batch_type, items, keyspace=self.keyspace)
        return ResultSet(self, lambda paging_state: result, result, self.row_factory, None)

    def execute_async(
        self,
        query,
        parameters=None,
        trace=False,
        custom_payload=None,
        timeout=None,
        execution_profile=None,
        paging_state=None,
        host=None,
        execute_as=None,
    ) -> ResponseFuture:
        """Run a statement and return a completed future holding its ResultSet."""
        future: Future = Future()
        try:
            future.set_result(
                self.execute(query, parameters, timeout, trace, paging_state=paging_state)
            )
        except Exception as exc:
            future.set_exception(exc)
        return ResponseFuture(future)

    def _check_open(self) -> None:
        if self.is_shutdown:
            raise InvalidRequest("The session has been shut down")

    def shutdown(self) -> None:
        """Close the executor and the storage engine this session owns."""
        if self.is_shutdown:
            return
        self.is_shutdown = True
        self._executor.close()
        if self._engine is not None:
            self._engine.close()

    close = shutdown

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
