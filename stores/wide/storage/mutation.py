"""What a write carries: row updates, range tombstones, partition deletions.

Also owns clustering bounds and slices (which clustering keys a bound
selects) and token bounds for range scans. Plain values: never touches the
engine's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cells import Cell, DeletionTime, LivenessInfo


class _Static:
    """The sentinel clustering of a partition's static row."""

    _instance: _Static | None = None

    def __new__(cls) -> _Static:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "STATIC"

    def __reduce__(self):
        return (_Static, ())


STATIC = _Static()


@dataclass(frozen=True, slots=True)
class Bound:
    """A clustering prefix, inclusive or exclusive, at one end of a slice."""

    prefix: bytes
    inclusive: bool = True


@dataclass(frozen=True, slots=True)
class Slice:
    """The clustering keys between two bounds (``None`` = open end)."""

    start: Bound | None = None
    end: Bound | None = None

    def contains(self, key: bytes) -> bool:
        """Return True if clustering ``key`` is selected by this slice."""
        return after_start(self.start, key) and before_end(self.end, key)


ALL = Slice()


def after_start(start: Bound | None, key: bytes) -> bool:
    """Return True if ``key`` is at or after ``start`` as the bound table says."""
    if start is None:
        return True
    if start.inclusive:
        return key >= start.prefix
    return key > start.prefix and not key.startswith(start.prefix)


def before_end(end: Bound | None, key: bytes) -> bool:
    """Return True if ``key`` is at or before ``end`` as the bound table says."""
    if end is None:
        return True
    if end.inclusive:
        return key <= end.prefix or key.startswith(end.prefix)
    return key < end.prefix


def range_may_intersect(sl: Slice, low: bytes, high: bytes) -> bool:
    """Return True if some key in [low, high] may be selected by ``sl``."""
    if sl.start is not None and not after_start(sl.start, high):
        return False
    if sl.end is not None and not before_end(sl.end, low):
        return False
    return True


@dataclass(frozen=True, slots=True)
class TokenBound:
    """A position on the ring for scans: a token, optionally refined by a key.

    With ``partition_key`` None the bound is the whole token: a start
    includes (or not) every partition with that token.
    """

    token: int
    partition_key: bytes | None = None
    inclusive: bool = True


@dataclass(slots=True)
class RowUpdate:
    """Changes to one row (``clustering`` bytes) or to the static row (``STATIC``)."""

    clustering: bytes | _Static
    liveness: LivenessInfo | None = None
    deletion: DeletionTime | None = None
    cells: dict[str, Cell] = field(default_factory=dict)
    complex_deletions: dict[str, DeletionTime] = field(default_factory=dict)
    complex_cells: dict[str, dict[bytes, Cell]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RangeTombstone:
    """A deletion of every row between two clustering bounds."""

    start: Bound | None
    end: Bound | None
    deletion: DeletionTime

    @property
    def slice(self) -> Slice:
        return Slice(self.start, self.end)


@dataclass(slots=True)
class Mutation:
    """Every change one write makes to one partition of one table."""

    keyspace: str
    table: str
    partition_key: bytes
    partition_deletion: DeletionTime | None = None
    range_tombstones: list[RangeTombstone] = field(default_factory=list)
    rows: list[RowUpdate] = field(default_factory=list)


def prefix_successor(prefix: bytes) -> bytes | None:
    """Return the smallest key greater than every key starting with ``prefix`` (None = none)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes([stripped[-1] + 1])


def slice_range(sl: Slice) -> tuple[bytes | None, bytes | None]:
    """Return ``sl`` as a half-open key range [low, high) (None = unbounded)."""
    low: bytes | None
    high: bytes | None
    if sl.start is None:
        low = None
    elif sl.start.inclusive:
        low = sl.start.prefix
    else:
        low = prefix_successor(sl.start.prefix)
        if low is None:
            return b"\xff", b"\xff"
    if sl.end is None:
        high = None
    elif sl.end.inclusive:
        high = prefix_successor(sl.end.prefix)
    else:
        high = sl.end.prefix
    return low, high
