"""Sorted set commands and the ``ZSet`` value: members ordered by (score, member).

A ``ZSet`` keeps a dict from member to score for O(1) ZSCORE and a
``SortedList`` of ``(score, member)`` pairs for ranks and ranges, the same
pairing as Redis's dict + skiplist. Lexicographic ranges assume equal
scores, as Redis documents. Scores are doubles; NaN is always rejected.
Never reaches outside the session's keyspace, except ZUNIONSTORE-style
commands that read several keys of the same database.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from itertools import islice
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from stores.kv.arguments import (
    SMALL_FLOATS,
    SMALL_INTS,
    normalize_range,
    parse_count,
    parse_float,
    parse_int,
    parse_random_count,
    parse_timeout,
)
from stores.kv.commands import FALLBACK, command, fast_path, no_log, numkeys_at
from stores.kv.errors import MIN_MAX_FLOAT, MIN_MAX_LEX, SYNTAX, CommandError, wrongtype
from stores.kv.replies import NULL_ARRAY, Blocked, format_double

if TYPE_CHECKING:
    from stores.kv.engine import Session

_monotonic = time.monotonic


class _Top:
    """Compares greater than any member: the upper sentinel for score bounds."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True

    def __le__(self, other: object) -> bool:
        return other is self

    def __ge__(self, other: object) -> bool:
        return True


TOP = _Top()


FLAT_LIMIT = 2048


class FlatSortedList(list):
    """A plain sorted list with SortedList's method names, for small sorted sets.

    Below a few thousand members one contiguous list beats SortedList's
    bookkeeping (an insert is a bisect and a short memmove); ``ZSet``
    switches to SortedList when it grows past ``FLAT_LIMIT``.
    """

    __slots__ = ()

    def add(self, value: tuple) -> None:
        insort(self, value)

    def remove(self, value: tuple) -> None:
        index = bisect_left(self, value)
        if index == len(self) or self[index] != value:
            raise ValueError(f"{value!r} not in list")
        del self[index]

    def index(self, value: tuple) -> int:
        index = bisect_left(self, value)
        if index == len(self) or self[index] != value:
            raise ValueError(f"{value!r} not in list")
        return index

    def bisect_left(self, value: tuple) -> int:
        return bisect_left(self, value)

    def islice(self, start: int, stop: int, reverse: bool = False) -> list:
        part = self[start:stop]
        if reverse:
            part.reverse()
        return part


class ZSet:
    """A sorted set: member -> score, plus (score, member) pairs in order."""

    __slots__ = ("members", "sl", "rank_hints")

    def __init__(self) -> None:
        self.members: dict[bytes, float] = {}
        self.sl: FlatSortedList | SortedList = FlatSortedList()
        # member -> where ZINCRBY last found it in a flat ``sl``. Only a
        # hint: checked against ``sl`` before use (any insert or removal
        # may have shifted it), so nothing else has to maintain it.
        self.rank_hints: dict[bytes, int] | None = None

    @classmethod
    def from_scores(cls, scores: dict[bytes, float]) -> ZSet:
        """Return a sorted set holding ``scores`` (member -> score)."""
        zset = cls()
        scores = {member: (0.0 if score == 0.0 else score) for member, score in scores.items()}
        zset.members = scores
        pairs = sorted((score, member) for member, score in scores.items())
        zset.sl = FlatSortedList(pairs) if len(pairs) <= FLAT_LIMIT else SortedList(pairs)
        return zset

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self):
        return iter(self.members)

    def add(self, member: bytes, score: float) -> bool:
        """Set ``member``'s score; return True if it is new."""
        if score == 0.0:
            score = 0.0  # Redis's compact encoding stores -0 as 0
        members = self.members
        old = members.get(member)
        if old is None:
            members[member] = score
            self.sl.add((score, member))
            if len(members) > FLAT_LIMIT and type(self.sl) is FlatSortedList:
                self.sl = SortedList(self.sl)
            return True
        if old != score:
            self._rescore(member, old, score)
        return False

    def _rescore(self, member: bytes, old: float, score: float) -> None:
        """Move ``member`` from score ``old`` to ``score``."""
        sl = self.sl
        self.members[member] = score
        if type(sl) is FlatSortedList:
            # When the member keeps its rank (a small increment, as on a
            # leaderboard): one bisect and no move.
            index = bisect_left(sl, (old, member))
            pair = (score, member)
            if (index == 0 or sl[index - 1] < pair) and (
                index + 1 == len(sl) or pair < sl[index + 1]
            ):
                sl[index] = pair
            else:
                del sl[index]
                insort(sl, pair)
        else:
            sl.remove((old, member))
            sl.add((score, member))

    def incr(self, member: bytes, increment: float) -> float:
        """Add ``increment`` to ``member``'s score (0 if new) and return the new score.

        Raise CommandError, changing nothing, if the result is NaN.
        """
        old = self.members.get(member)
        if old is None:
            self.add(member, increment)
            return increment  # the reply keeps a -0 that the set stores as 0, as Redis's
        score = old + increment
        if score != score:
            raise CommandError("ERR resulting score is not a number (NaN)")
        if score == 0.0:
            score = 0.0  # Redis's compact encoding stores -0 as 0
        if score != old:
            self._rescore(member, old, score)
        return score

    def remove(self, member: bytes) -> bool:
        """Remove ``member``; return True if it was there."""
        score = self.members.pop(member, None)
        if score is None:
            return False
        self.sl.remove((score, member))
        return True

    def rank(self, member: bytes) -> int | None:
        """Return ``member``'s 0-based rank by ascending score, or None."""
        score = self.members.get(member)
        if score is None:
            return None
        return self.sl.index((score, member))

    def copy(self) -> ZSet:
        """Return an independent copy."""
        return ZSet.from_scores(self.members)

    def score_range(self, low: tuple[float, bool], high: tuple[float, bool]) -> tuple[int, int]:
        """Return the [start, end) index range of scores within the bounds."""
        sl = self.sl
        start = sl.bisect_left((low[0], TOP)) if low[1] else sl.bisect_left((low[0],))
        end = sl.bisect_left((high[0],)) if high[1] else sl.bisect_left((high[0], TOP))
        return start, max(start, end)

    def lex_range(
        self, low: tuple[Any, bool], high: tuple[Any, bool], rev: bool = False
    ) -> tuple[int, int]:
        """Return the [start, end) index range of members within lex bounds."""
        sl = self.sl
        size = len(sl)
        if not size:
            return 0, 0
        if sl[0][0] != sl[-1][0]:
            return self._lex_scan(low, high, rev)
        score = sl[0][0]
        if low[0] is None:
            start = 0
        elif low[0] is TOP:
            start = size
        else:
            start = (
                sl.bisect_left((score, low[0], 1)) if low[1] else sl.bisect_left((score, low[0]))
            )
        if high[0] is TOP:
            end = size
        elif high[0] is None:
            end = 0
        else:
            end = (
                sl.bisect_left((score, high[0])) if high[1] else sl.bisect_left((score, high[0], 1))
            )
        return start, max(start, end)

    def _lex_scan(
        self, low: tuple[Any, bool], high: tuple[Any, bool], rev: bool
    ) -> tuple[int, int]:
        """Walk mixed-score members as Redis does (its result is then order-dependent).

        Forward: start at the first member >= min and stop at the first one
        > max. Backward (REV): start at the last member <= max and stop at
        the first one < min.
        """
        members = [member for _, member in self.sl]
        size = len(members)
        # Redis first checks the range against the two ends (zzlIsInLexRange).
        if not _lex_gte_min(members[-1], low) or not _lex_lte_max(members[0], high):
            return 0, 0
        if not rev:
            start = next((i for i, m in enumerate(members) if _lex_gte_min(m, low)), None)
            if start is None:
                return 0, 0
            end = start
            while end < size and _lex_lte_max(members[end], high):
                end += 1
            return start, end
        last = next((i for i in range(size - 1, -1, -1) if _lex_lte_max(members[i], high)), None)
        if last is None:
            return 0, 0
        first = last + 1
        while first > 0 and _lex_gte_min(members[first - 1], low):
            first -= 1
        return first, last + 1


def _lex_gte_min(member: bytes, low: tuple[Any, bool]) -> bool:
    bound, exclusive = low
    if bound is None:
        return True
    if bound is TOP:
        return False
    return member > bound if exclusive else member >= bound


def _lex_lte_max(member: bytes, high: tuple[Any, bool]) -> bool:
    bound, exclusive = high
    if bound is TOP:
        return True
    if bound is None:
        return False
    return member < bound if exclusive else member <= bound


def parse_score_bound(raw: bytes) -> tuple[float, bool]:
    """Return (score, exclusive) for a ZRANGEBYSCORE bound such as ``(1.5`` or ``-inf``."""
    if raw[:1] == b"(":
        return parse_float(raw[1:], MIN_MAX_FLOAT), True
    return parse_float(raw, MIN_MAX_FLOAT), False


def parse_lex_bound(raw: bytes) -> tuple[Any, bool]:
    """Return (member, exclusive) for a lex bound; None is ``-``, TOP is ``+``."""
    if raw == b"-":
        return None, False
    if raw == b"+":
        return TOP, False
    if raw[:1] == b"[":
        return raw[1:], False
    if raw[:1] == b"(":
        return raw[1:], True
    raise CommandError(MIN_MAX_LEX)


def _zset(s: Session, key: bytes) -> ZSet | None:
    value = s.keyspace.get(key)
    if value is not None and type(value) is not ZSet:
        raise wrongtype()
    return value


def _zset_for_write(s: Session, key: bytes) -> ZSet | None:
    value = s.keyspace.get_for_write(key)
    if value is not None and type(value) is not ZSet:
        raise wrongtype()
    return value


def _delete_if_empty(s: Session, key: bytes, zset: ZSet) -> None:
    if not zset.members:
        s.keyspace.delete(key)


def _with_scores(s: Session, pairs: list[tuple[float, bytes]], scores: bool) -> list:
    if not scores:
        return [member for _, member in pairs]
    if s.protocol == 3:
        return [[member, score] for score, member in pairs]
    out: list[Any] = []
    for score, member in pairs:
        out.append(member)
        out.append(score)
    return out


@command("zadd", -4, "write denyoom fast", 1, 1, 1, group="sorted_set")
def zadd(s: Session, argv: list[bytes]) -> Any:
    """Add members with scores, or update their scores."""
    nx = xx = gt = lt = ch = incr = False
    i = 2
    while i < len(argv):
        option = argv[i].upper()
        if option == b"NX":
            nx = True
        elif option == b"XX":
            xx = True
        elif option == b"GT":
            gt = True
        elif option == b"LT":
            lt = True
        elif option == b"CH":
            ch = True
        elif option == b"INCR":
            incr = True
        else:
            break
        i += 1
    pairs = argv[i:]
    if not pairs or len(pairs) % 2:
        raise CommandError(SYNTAX)
    if nx and xx:
        raise CommandError("ERR XX and NX options at the same time are not compatible")
    if (gt and nx) or (lt and nx) or (gt and lt):
        raise CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
    if incr and len(pairs) > 2:
        raise CommandError("ERR INCR option supports a single increment-element pair")
    scores = [parse_float(pairs[j]) for j in range(0, len(pairs), 2)]
    key = argv[1]
    zset = _zset_for_write(s, key)
    if zset is None:
        if xx:
            return None if incr else 0
        zset = ZSet()
        s.keyspace.set(key, zset)
    added = changed = 0
    result: float | None = None
    for j, score in enumerate(scores):
        member = pairs[2 * j + 1]
        old = zset.members.get(member)
        if old is None:
            if xx:
                continue
            if incr:
                result = score
            zset.add(member, score)
            added += 1
            continue
        if nx:
            continue
        new = old + score if incr else score
        if incr:
            if math.isnan(new):
                _delete_if_empty(s, key, zset)
                raise CommandError("ERR resulting score is not a number (NaN)")
        if (gt and new <= old) or (lt and new >= old):
            continue
        if incr:
            result = new
        if new != old:
            zset.add(member, new)
            changed += 1
    if not zset.members:
        s.keyspace.delete(key)
    if added or changed:
        s.dirty = added + changed
    if incr:
        return result
    return added + changed if ch else added


@command("zincrby", 4, "write denyoom fast", 1, 1, 1, group="sorted_set")
def zincrby(s: Session, argv: list[bytes]) -> float:
    """Increment a member's score."""
    reply = zincrby_fast(s, argv, no_log)
    if reply is not FALLBACK:
        s.dirty = 1
        return reply
    increment = SMALL_FLOATS.get(argv[2])
    if increment is None:
        increment = parse_float(argv[2])
    key = argv[1]
    ks = s.keyspace
    zset = ks.get_for_write(key)
    if zset is None:
        zset = ZSet()
        zset.add(argv[3], increment)
        ks.set(key, zset)
        s.dirty = 1
        return increment
    if type(zset) is not ZSet:
        raise wrongtype()
    new = zset.incr(argv[3], increment)
    s.dirty = 1
    return new


@fast_path("zincrby")
def zincrby_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """ZINCRBY of an existing member of a small set (LRU policy), in one step.

    The usual leaderboard step: get_for_write and ``ZSet.incr`` inlined. A
    TTL that has not passed is kept as the handler keeps it (a day's board
    has one). Anything else (a key past its TTL, a new member or key, a
    score that becomes 0 or NaN, a large set) falls back.
    """
    increment = SMALL_FLOATS.get(argv[2])
    if increment is None:
        increment = parse_float(argv[2])
    key = argv[1]
    ks = s.keyspace
    expires = ks.expires
    if ks.freq is None and (
        not expires or (when := expires.get(key)) is None or when > s.engine.clock()
    ):
        zset = ks.data.get(key)
        if type(zset) is ZSet:
            member = argv[3]
            members = zset.members
            old = members.get(member)
            sl = zset.sl
            if old is not None and type(sl) is FlatSortedList:
                score = old + increment
                # Not NaN, and not zero (no -0 to normalize).
                if score == score and score != 0.0:
                    ks.access[key] = _monotonic()
                    if score != old:
                        hints = zset.rank_hints
                        if hints is None:
                            hints = zset.rank_hints = {}
                        # A bisect over (score, member) pairs costs ~0.45 us on
                        # a thousand members; checking the hint, one comparison.
                        # A member is in ``sl`` once, so its name there is enough.
                        try:
                            hint = index = hints[member]
                            if sl[index][1] != member:
                                index = bisect_left(sl, (old, member))
                        except (KeyError, IndexError):  # no hint, or the set shrank
                            hint = -1
                            index = bisect_left(sl, (old, member))
                        pair = (score, member)
                        # The pairs are distinct and sorted, so a higher score
                        # stays above the lower neighbour: one side to check.
                        if score > old:
                            try:
                                stays = pair < sl[index + 1]
                            except IndexError:  # the last pair
                                stays = True
                        else:
                            stays = index == 0 or sl[index - 1] < pair
                        if not stays:
                            # It passes neighbours (a tie broken by name, as
                            # when views even out): move it, searching only
                            # the side it moves to.
                            del sl[index]
                            if score > old:
                                index = bisect_right(sl, pair, index)
                            else:
                                index = bisect_left(sl, pair, 0, index)
                            sl.insert(index, pair)
                        else:
                            sl[index] = pair
                        members[member] = score
                        if index != hint:
                            hints[member] = index
                            if len(hints) > len(members):
                                hints.clear()  # hints of removed members: keep it bounded
                    log(s.db, argv)
                    return score
    return FALLBACK


@command("zscore", 3, "readonly fast", 1, 1, 1, group="sorted_set")
def zscore(s: Session, argv: list[bytes]) -> float | None:
    """Return a member's score."""
    zset = _zset(s, argv[1])
    return None if zset is None else zset.members.get(argv[2])


@command("zmscore", -3, "readonly fast", 1, 1, 1, group="sorted_set")
def zmscore(s: Session, argv: list[bytes]) -> list:
    """Return the scores of several members."""
    zset = _zset(s, argv[1])
    if zset is None:
        return [None] * (len(argv) - 2)
    return [zset.members.get(m) for m in argv[2:]]


@command("zcard", 2, "readonly fast", 1, 1, 1, group="sorted_set")
def zcard(s: Session, argv: list[bytes]) -> int:
    """Return the number of members."""
    zset = _zset(s, argv[1])
    return 0 if zset is None else len(zset)


@command("zcount", 4, "readonly fast", 1, 1, 1, group="sorted_set")
def zcount(s: Session, argv: list[bytes]) -> int:
    """Count members with scores within a range."""
    low, high = parse_score_bound(argv[2]), parse_score_bound(argv[3])
    zset = _zset(s, argv[1])
    if zset is None:
        return 0
    start, end = zset.score_range(low, high)
    return end - start


@command("zlexcount", 4, "readonly fast", 1, 1, 1, group="sorted_set")
def zlexcount(s: Session, argv: list[bytes]) -> int:
    """Count members within a lexicographic range."""
    low, high = parse_lex_bound(argv[2]), parse_lex_bound(argv[3])
    zset = _zset(s, argv[1])
    if zset is None:
        return 0
    start, end = zset.lex_range(low, high)
    return end - start


class RangeSpec:
    """The parsed arguments of ZRANGE and its older variants."""

    __slots__ = ("by", "rev", "offset", "count", "scores", "start", "stop")

    def __init__(self) -> None:
        self.by = "rank"
        self.rev = False
        self.offset = 0
        self.count = -1
        self.scores = False
        self.start: Any = None
        self.stop: Any = None


def parse_zrange(argv: list[bytes], first: int, spec: RangeSpec, store: bool) -> RangeSpec:
    """Parse ZRANGE options from ``argv[first:]`` into ``spec``."""
    limit = False
    i = first
    while i < len(argv):
        option = argv[i].upper()
        if option == b"WITHSCORES" and not store:
            spec.scores = True
        elif option == b"LIMIT" and i + 2 < len(argv):
            spec.offset = parse_int(argv[i + 1])
            spec.count = parse_int(argv[i + 2])
            limit = True
            i += 2
        elif option == b"BYSCORE" and spec.by == "rank":
            spec.by = "score"
        elif option == b"BYLEX" and spec.by == "rank":
            spec.by = "lex"
        elif option == b"REV":
            spec.rev = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    if limit and spec.by == "rank":
        raise CommandError(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
        )
    if spec.scores and spec.by == "lex":
        raise CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
    return spec


def _bounds(spec: RangeSpec, low_raw: bytes, high_raw: bytes) -> None:
    if spec.by == "rank":
        spec.start, spec.stop = parse_int(low_raw), parse_int(high_raw)
    elif spec.by == "score":
        spec.start, spec.stop = parse_score_bound(low_raw), parse_score_bound(high_raw)
    else:
        spec.start, spec.stop = parse_lex_bound(low_raw), parse_lex_bound(high_raw)


def select_range(zset: ZSet, spec: RangeSpec) -> list[tuple[float, bytes]]:
    """Return the (score, member) pairs a ZRANGE spec selects, in reply order."""
    sl = zset.sl
    if spec.by == "rank":
        span = normalize_range(spec.start, spec.stop, len(sl))
        if span is None:
            return []
        start, stop = span
        if spec.rev:
            size = len(sl)
            return list(sl.islice(size - 1 - stop, size - start, reverse=True))
        return list(sl.islice(start, stop + 1))
    if spec.by == "score":
        low, high = (spec.stop, spec.start) if spec.rev else (spec.start, spec.stop)
        start, end = zset.score_range(low, high)
    else:
        low, high = (spec.stop, spec.start) if spec.rev else (spec.start, spec.stop)
        start, end = zset.lex_range(low, high, spec.rev)
    if spec.offset < 0:
        return []
    count = spec.count
    if spec.rev:
        stop_at = end - spec.offset
        if stop_at <= start:
            return []
        first = start if count < 0 else max(start, stop_at - count)
        return list(sl.islice(first, stop_at, reverse=True))
    begin = start + spec.offset
    if begin >= end:
        return []
    last = end if count < 0 else min(end, begin + count)
    return list(sl.islice(begin, last))


def _zrange_reply(s: Session, key: bytes, spec: RangeSpec) -> list:
    zset = _zset(s, key)
    if zset is None:
        return []
    return _with_scores(s, select_range(zset, spec), spec.scores)


@command("zrange", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrange(s: Session, argv: list[bytes]) -> list:
    """Return members by rank, score or lex range."""
    spec = parse_zrange(argv, 4, RangeSpec(), False)
    _bounds(spec, argv[2], argv[3])
    return _zrange_reply(s, argv[1], spec)


@command("zrangestore", -5, "write denyoom", 1, 2, 1, group="sorted_set")
def zrangestore(s: Session, argv: list[bytes]) -> int:
    """Store a ZRANGE selection in a destination key."""
    spec = parse_zrange(argv, 5, RangeSpec(), True)
    _bounds(spec, argv[3], argv[4])
    source = _zset(s, argv[2])
    pairs = [] if source is None else select_range(source, spec)
    return _store(s, argv[1], {member: score for score, member in pairs})


@command("zrevrange", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrevrange(s: Session, argv: list[bytes]) -> list:
    """Return members by rank, highest score first."""
    scores = False
    if len(argv) == 5:
        if argv[4] != b"WITHSCORES" and argv[4].upper() != b"WITHSCORES":
            raise CommandError(SYNTAX)
        scores = True
    elif len(argv) > 5:
        raise CommandError(SYNTAX)
    start = SMALL_INTS.get(argv[2])
    if start is None:
        start = parse_int(argv[2])
    stop = SMALL_INTS.get(argv[3])
    if stop is None:
        stop = parse_int(argv[3])
    zset = s.keyspace.get(argv[1])
    if zset is None:
        return []
    if type(zset) is not ZSet:
        raise wrongtype()
    sl = zset.sl
    size = len(sl)
    if 0 <= start <= stop:  # normalize_range's common case, inline
        if start >= size:
            return []
        if stop >= size:
            stop = size - 1
    else:
        span = normalize_range(start, stop, size)
        if span is None:
            return []
        start, stop = span
    return _reverse_ranks_reply(s, sl, size, start, stop, scores)


def _reverse_ranks_reply(s: Session, sl, size: int, start: int, stop: int, scores: bool) -> list:
    """Return the reply for reverse ranks start..stop (in range) of a set's sorted list."""
    if type(sl) is FlatSortedList:
        pairs = sl[size - 1 - stop : size - start]
        pairs.reverse()
    else:
        pairs = sl.islice(size - 1 - stop, size - start, reverse=True)
    if not scores:
        return [member for _, member in pairs]
    if s._protocol == 3:
        return [[member, score] for score, member in pairs]
    # A loop of appends: about twice as fast as a nested comprehension here.
    out: list = []
    append = out.append
    for score, member in pairs:
        append(member)
        append(score)
    return out


# The most members a ZREVRANGE fast path returns: O(1) work, as fast paths must be.
FAST_RANGE = 128


@fast_path("zrevrange")
def zrevrange_fast(s: Session, argv: list[bytes], log: Callable) -> Any:
    """ZREVRANGE of a few top ranks (``0 9``) of a set without a TTL (LRU policy).

    ``zrevrange`` with ``Keyspace.get`` inlined, for canonical non-negative
    indexes at most FAST_RANGE apart; anything else falls back.
    """
    count = len(argv)
    if count == 5:
        if argv[4] != b"WITHSCORES":
            return FALLBACK
    elif count != 4:
        return FALLBACK
    start = SMALL_INTS.get(argv[2])
    stop = SMALL_INTS.get(argv[3])
    if start is None or stop is None or not 0 <= start <= stop < start + FAST_RANGE:
        return FALLBACK
    ks = s.keyspace
    key = argv[1]
    expires = ks.expires
    if ks.freq is not None or (expires and key in expires):
        return FALLBACK
    zset = ks.data.get(key)
    if zset is None:
        ks.misses += 1
        return []
    ks.hits += 1
    ks.access[key] = _monotonic()
    if type(zset) is not ZSet:
        raise wrongtype()
    sl = zset.sl
    size = len(sl)
    if start >= size:
        return []
    if stop >= size:
        stop = size - 1
    if count == 5 and type(sl) is FlatSortedList and s._protocol == 2:
        # _reverse_ranks_reply's usual case (a top ten WITHSCORES), inline.
        out: list = []
        append = out.append
        for score, member in reversed(sl[size - 1 - stop : size - start]):
            append(member)
            append(score)
        return out
    return _reverse_ranks_reply(s, sl, size, start, stop, count == 5)


def _by_score_variant(s: Session, argv: list[bytes], by: str, rev: bool) -> list:
    spec = RangeSpec()
    spec.by = by
    spec.rev = rev
    i = 4
    while i < len(argv):
        option = argv[i].upper()
        if option == b"WITHSCORES" and by == "score":
            spec.scores = True
        elif option == b"LIMIT" and i + 2 < len(argv):
            spec.offset = parse_int(argv[i + 1])
            spec.count = parse_int(argv[i + 2])
            i += 2
        else:
            raise CommandError(SYNTAX)
        i += 1
    _bounds(spec, argv[2], argv[3])
    return _zrange_reply(s, argv[1], spec)


@command("zrangebyscore", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrangebyscore(s: Session, argv: list[bytes]) -> list:
    """Return members with scores within a range."""
    return _by_score_variant(s, argv, "score", False)


@command("zrevrangebyscore", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrevrangebyscore(s: Session, argv: list[bytes]) -> list:
    """Return members with scores within a range, highest first."""
    return _by_score_variant(s, argv, "score", True)


@command("zrangebylex", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrangebylex(s: Session, argv: list[bytes]) -> list:
    """Return members within a lexicographic range."""
    return _by_score_variant(s, argv, "lex", False)


@command("zrevrangebylex", -4, "readonly", 1, 1, 1, group="sorted_set")
def zrevrangebylex(s: Session, argv: list[bytes]) -> list:
    """Return members within a lexicographic range, in reverse order."""
    return _by_score_variant(s, argv, "lex", True)


def _rank(s: Session, argv: list[bytes], rev: bool) -> int | None:
    zset = _zset(s, argv[1])
    if zset is None:
        return None
    rank = zset.rank(argv[2])
    if rank is None:
        return None
    return len(zset) - 1 - rank if rev else rank


@command("zrank", 3, "readonly fast", 1, 1, 1, group="sorted_set")
def zrank(s: Session, argv: list[bytes]) -> Any:
    """Return a member's rank, lowest score first."""
    return _rank(s, argv, False)


@command("zrevrank", 3, "readonly fast", 1, 1, 1, group="sorted_set")
def zrevrank(s: Session, argv: list[bytes]) -> Any:
    """Return a member's rank, highest score first."""
    return _rank(s, argv, True)


@command("zrem", -3, "write fast", 1, 1, 1, group="sorted_set")
def zrem(s: Session, argv: list[bytes]) -> int:
    """Remove members."""
    zset = _zset_for_write(s, argv[1])
    if zset is None:
        return 0
    removed = sum(1 for member in argv[2:] if zset.remove(member))
    if removed:
        _delete_if_empty(s, argv[1], zset)
        s.dirty = removed
    return removed


def _remove_span(s: Session, key: bytes, zset: ZSet, start: int, end: int) -> int:
    if end <= start:
        return 0
    doomed = list(zset.sl.islice(start, end))
    for _, member in doomed:
        del zset.members[member]
    del zset.sl[start:end]
    _delete_if_empty(s, key, zset)
    s.dirty = len(doomed)
    return len(doomed)


@command("zremrangebyrank", 4, "write", 1, 1, 1, group="sorted_set")
def zremrangebyrank(s: Session, argv: list[bytes]) -> int:
    """Remove members within a rank range."""
    start, stop = parse_int(argv[2]), parse_int(argv[3])
    zset = _zset_for_write(s, argv[1])
    if zset is None:
        return 0
    span = normalize_range(start, stop, len(zset))
    if span is None:
        return 0
    return _remove_span(s, argv[1], zset, span[0], span[1] + 1)


@command("zremrangebyscore", 4, "write", 1, 1, 1, group="sorted_set")
def zremrangebyscore(s: Session, argv: list[bytes]) -> int:
    """Remove members within a score range."""
    low, high = parse_score_bound(argv[2]), parse_score_bound(argv[3])
    zset = _zset_for_write(s, argv[1])
    if zset is None:
        return 0
    return _remove_span(s, argv[1], zset, *zset.score_range(low, high))


@command("zremrangebylex", 4, "write", 1, 1, 1, group="sorted_set")
def zremrangebylex(s: Session, argv: list[bytes]) -> int:
    """Remove members within a lexicographic range."""
    low, high = parse_lex_bound(argv[2]), parse_lex_bound(argv[3])
    zset = _zset_for_write(s, argv[1])
    if zset is None:
        return 0
    return _remove_span(s, argv[1], zset, *zset.lex_range(low, high))


def _pop(s: Session, key: bytes, count: int, highest: bool) -> list[tuple[float, bytes]]:
    zset = _zset_for_write(s, key)
    if zset is None or count == 0:
        return []
    size = len(zset.sl)
    count = min(count, size)
    if highest:
        popped = list(zset.sl.islice(size - count, size, reverse=True))
        del zset.sl[size - count : size]
    else:
        popped = list(zset.sl.islice(0, count))
        del zset.sl[0:count]
    for _, member in popped:
        del zset.members[member]
    _delete_if_empty(s, key, zset)
    s.dirty = len(popped)
    return popped


def _zpop(s: Session, argv: list[bytes], highest: bool) -> list:
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    count = parse_count(argv[2]) if len(argv) == 3 else 1
    popped = _pop(s, argv[1], count, highest)
    if s.protocol == 3 and len(argv) == 2:
        return [popped[0][1], popped[0][0]] if popped else []
    return _with_scores(s, popped, True)


@command("zpopmin", -2, "write fast", 1, 1, 1, group="sorted_set")
def zpopmin(s: Session, argv: list[bytes]) -> list:
    """Remove and return the members with the lowest scores."""
    return _zpop(s, argv, False)


@command("zpopmax", -2, "write fast", 1, 1, 1, group="sorted_set")
def zpopmax(s: Session, argv: list[bytes]) -> list:
    """Remove and return the members with the highest scores."""
    return _zpop(s, argv, True)


def _bzpop(s: Session, argv: list[bytes], highest: bool) -> Any:
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]
    for key in keys:
        popped = _pop(s, key, 1, highest)
        if popped:
            score, member = popped[0]
            s.prop = [[b"ZPOPMAX" if highest else b"ZPOPMIN", key]]
            s.touched = [key]
            return [key, member, score]
    if s.in_exec:
        return NULL_ARRAY
    return Blocked(keys, timeout)


@command("bzpopmin", -3, "write blocking fast", 1, -2, 1, group="sorted_set")
def bzpopmin(s: Session, argv: list[bytes]) -> Any:
    """Pop the lowest-scored member of the first non-empty sorted set, or block."""
    return _bzpop(s, argv, False)


@command("bzpopmax", -3, "write blocking fast", 1, -2, 1, group="sorted_set")
def bzpopmax(s: Session, argv: list[bytes]) -> Any:
    """Pop the highest-scored member of the first non-empty sorted set, or block."""
    return _bzpop(s, argv, True)


def _aggregate(a: float, b: float, how: bytes) -> float:
    if how == b"SUM":
        total = a + b
        return 0.0 if math.isnan(total) else total
    return min(a, b) if how == b"MIN" else max(a, b)


def _source(s: Session, key: bytes) -> dict[bytes, float] | None:
    value = s.keyspace.get_for_write(key)
    if value is None:
        return None
    if type(value) is ZSet:
        return value.members
    if type(value) is set:
        return dict.fromkeys(value, 1.0)
    raise wrongtype()


def _combine(
    s: Session, argv: list[bytes], op: str, first: int, store: bool
) -> tuple[dict[bytes, float], bool]:
    name = argv[0].decode().lower()
    numkeys = parse_int(argv[first])
    if numkeys < 1:
        raise CommandError(f"ERR at least 1 input key is needed for '{name}' command")
    keys = argv[first + 1 : first + 1 + numkeys]
    if len(keys) < numkeys:
        raise CommandError(SYNTAX)
    weights = [1.0] * numkeys
    how = b"SUM"
    scores = False
    i = first + 1 + numkeys
    while i < len(argv):
        option = argv[i].upper()
        if option == b"WEIGHTS" and op != "diff" and len(argv) - i - 1 >= numkeys:
            weights = [
                parse_float(w, "ERR weight value is not a float")
                for w in argv[i + 1 : i + 1 + numkeys]
            ]
            i += numkeys
        elif option == b"AGGREGATE" and op != "diff" and i + 1 < len(argv):
            how = argv[i + 1].upper()
            if how not in (b"SUM", b"MIN", b"MAX"):
                raise CommandError(SYNTAX)
            i += 1
        elif option == b"WITHSCORES" and not store:
            scores = True
        else:
            raise CommandError(SYNTAX)
        i += 1
    sources = [_source(s, key) for key in keys]
    if op == "union":
        result: dict[bytes, float] = {}
        for source, weight in zip(sources, weights, strict=True):
            if not source:
                continue
            for member, score in source.items():
                value = score * weight
                if math.isnan(value):
                    value = 0.0
                old = result.get(member)
                result[member] = value if old is None else _aggregate(old, value, how)
        return result, scores
    if op == "inter":
        if any(not source for source in sources):
            return {}, scores
        ordered = sorted(range(numkeys), key=lambda j: len(sources[j]))
        smallest = ordered[0]
        result = {}
        for member, score in sources[smallest].items():
            value = score * weights[smallest]
            if math.isnan(value):
                value = 0.0
            for j in ordered[1:]:
                other = sources[j].get(member)
                if other is None:
                    break
                weighted = other * weights[j]
                if math.isnan(weighted):
                    weighted = 0.0
                value = _aggregate(value, weighted, how)
            else:
                result[member] = value
        return result, scores
    base = sources[0]
    if not base:
        return {}, scores
    result = {
        m: sc for m, sc in base.items() if not any(other and m in other for other in sources[1:])
    }
    return result, scores


def _ordered_pairs(result: dict[bytes, float]) -> list[tuple[float, bytes]]:
    return sorted((score, member) for member, score in result.items())


def _store(s: Session, key: bytes, result: dict[bytes, float]) -> int:
    ks = s.keyspace
    existed = ks.get_for_write(key) is not None
    if result:
        ks.set(key, ZSet.from_scores(result))
        s.dirty = 1
    elif existed:
        ks.delete(key)
        s.dirty = 1
    return len(result)


@command("zunion", -3, "readonly", keys=numkeys_at(1), group="sorted_set")
def zunion(s: Session, argv: list[bytes]) -> list:
    """Return the union of sorted sets."""
    result, scores = _combine(s, argv, "union", 1, False)
    return _with_scores(s, _ordered_pairs(result), scores)


@command("zinter", -3, "readonly", keys=numkeys_at(1), group="sorted_set")
def zinter(s: Session, argv: list[bytes]) -> list:
    """Return the intersection of sorted sets."""
    result, scores = _combine(s, argv, "inter", 1, False)
    return _with_scores(s, _ordered_pairs(result), scores)


@command("zdiff", -3, "readonly", keys=numkeys_at(1), group="sorted_set")
def zdiff(s: Session, argv: list[bytes]) -> list:
    """Return the members of the first sorted set not in the others."""
    result, scores = _combine(s, argv, "diff", 1, False)
    return _with_scores(s, _ordered_pairs(result), scores)


@command("zunionstore", -4, "write denyoom", keys=numkeys_at(2, extra=1), group="sorted_set")
def zunionstore(s: Session, argv: list[bytes]) -> int:
    """Store the union of sorted sets."""
    return _store(s, argv[1], _combine(s, argv, "union", 2, True)[0])


@command("zinterstore", -4, "write denyoom", keys=numkeys_at(2, extra=1), group="sorted_set")
def zinterstore(s: Session, argv: list[bytes]) -> int:
    """Store the intersection of sorted sets."""
    return _store(s, argv[1], _combine(s, argv, "inter", 2, True)[0])


@command("zdiffstore", -4, "write denyoom", keys=numkeys_at(2, extra=1), group="sorted_set")
def zdiffstore(s: Session, argv: list[bytes]) -> int:
    """Store the difference of sorted sets."""
    return _store(s, argv[1], _combine(s, argv, "diff", 2, True)[0])


@command("zrandmember", -2, "readonly", 1, 1, 1, group="sorted_set")
def zrandmember(s: Session, argv: list[bytes]) -> Any:
    """Return random members, with repeats when the count is negative."""
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHSCORES"):
        raise CommandError(SYNTAX)
    count = parse_random_count(argv[2]) if len(argv) >= 3 else None
    zset = _zset(s, argv[1])
    if count is None:
        if zset is None:
            return None
        return random.choice(list(zset.members))
    scores = len(argv) == 4
    if zset is None or count == 0:
        return []
    members = list(zset.members)
    if count > 0:
        picked = members if count >= len(members) else random.sample(members, count)
    else:
        picked = [random.choice(members) for _ in range(-count)]
    pairs = [(zset.members[m], m) for m in picked]
    return _with_scores(s, pairs, scores)


@command("zscan", -3, "readonly", 1, 1, 1, group="sorted_set")
def zscan(s: Session, argv: list[bytes]) -> list:
    """Iterate a sorted set's members and scores with a cursor."""
    from stores.kv.types.collection_scan import scan_collection

    zset = _zset(s, argv[1])
    members = {} if zset is None else zset.members
    cursor, found = scan_collection(s, argv, members, "zset")
    out: list[Any] = []
    for member in found:
        out.append(member)
        out.append(format_double(members[member]))
    return [cursor, out]


def dump_zset(key: bytes, zset: ZSet, chunk: int) -> list[list[bytes]]:
    """Return ZADD commands that recreate ``zset`` at ``key``."""
    commands = []
    items = iter(zset.sl)
    while True:
        batch = list(islice(items, chunk))
        if not batch:
            return commands
        argv = [b"ZADD", key]
        for score, member in batch:
            argv += [b"%.17g" % score, member]
        commands.append(argv)
