"""The leaderboards: sorted sets in the key-value store, announced on a group.

It owns the leaderboard keys and what they mean: post views today and all
time, comments per user this week. Each period's board is its own sorted set
whose TTL runs out after the period (plus a grace period), so old periods
clean themselves up, as a Redis leaderboard should. It talks to the store
only through ``stores.clients.kv()`` and redis-py's API, so it runs unchanged
on the embedded engine, the project's RESP server and a real Redis.

Every change bumps a version counter and tells the ``leaderboard`` group on
the channel layer, at most ten times a second per process however many
changes there are; it never sends boards itself: consumers decide how often
to read them (see blog/consumers.py). A failed notification is logged and
never fails the request that recorded the view or comment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from stores import clients

logger = logging.getLogger(__name__)

GROUP = "leaderboard"
CHANGED = "leaderboard.changed"
KEY_PREFIX = "leaderboard:"
TITLES_KEY = KEY_PREFIX + "titles"
VERSION_KEY = KEY_PREFIX + "version"
VIEWS_ALL_TIME_KEY = KEY_PREFIX + "views:all"
DAY_GRACE = timedelta(days=1)
WEEK_GRACE = timedelta(days=7)
TOP_N = 10
NOTIFY_INTERVAL_SECONDS = 0.1
MAX_LABEL_CHARS = 200
MAX_MEMBER_CHARS = 150


@dataclass(frozen=True)
class Board:
    """One leaderboard: a sorted set read highest score first."""

    name: str
    title: str
    unit: str
    labelled: bool  # members are post ids whose titles live in TITLES_KEY


VIEWS_TODAY = Board("views_today", "Most viewed today", "views", labelled=True)
VIEWS_ALL_TIME = Board("views_all_time", "Most viewed of all time", "views", labelled=True)
COMMENTERS_WEEK = Board(
    "commenters_week", "Most active commenters this week", "comments", labelled=False
)
BOARDS = (VIEWS_TODAY, VIEWS_ALL_TIME, COMMENTERS_WEEK)


@dataclass(frozen=True)
class Entry:
    """A member's place on a board: rank 1 is the top."""

    rank: int
    member: str
    label: str
    score: int


def _now(now: datetime | None) -> datetime:
    return now.astimezone(UTC) if now is not None else datetime.now(UTC)


def day_key(day: date) -> str:
    """Return the key of the views board of ``day`` (UTC)."""
    return f"{KEY_PREFIX}views:day:{day.isoformat()}"


def week_key(day: date) -> str:
    """Return the key of the commenters board of the ISO week holding ``day``."""
    year, week, _ = day.isocalendar()
    return f"{KEY_PREFIX}commenters:week:{year}-W{week:02d}"


def day_expires_at(now: datetime) -> datetime:
    """Return when the views board of ``now``'s day expires."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return midnight + DAY_GRACE


def week_expires_at(now: datetime) -> datetime:
    """Return when the commenters board of ``now``'s week expires."""
    next_monday = now.date() + timedelta(days=7 - now.weekday())
    return datetime.combine(next_monday, datetime.min.time(), UTC) + WEEK_GRACE


def board_key(board: Board, now: datetime | None = None) -> str:
    """Return the sorted-set key holding ``board`` for the current period."""
    now = _now(now)
    if board is VIEWS_TODAY:
        return day_key(now.date())
    if board is VIEWS_ALL_TIME:
        return VIEWS_ALL_TIME_KEY
    return week_key(now.date())


def _member(value: object, what: str) -> str:
    text = str(value).strip()
    if not text or len(text) > MAX_MEMBER_CHARS:
        raise ValueError(f"{what} must be 1 to {MAX_MEMBER_CHARS} characters")
    return text


@lru_cache(maxsize=4)
def _day_board(day: date) -> tuple[str, int]:
    """Return the key of ``day``'s views board and when it expires, in Unix seconds.

    Every view asks; the seconds are what redis-py would compute from the
    datetime on each call.
    """
    expires = day_expires_at(datetime.combine(day, datetime.min.time(), UTC))
    return day_key(day), int(expires.timestamp())


_pipelines = threading.local()


def _transaction():
    """Return this thread's MULTI/EXEC pipeline on the current key-value handle.

    Kept per thread and used again, as a connection from a pool is: a
    pipeline costs more to build than the few commands a view queues.
    ``stores.clients.reset()`` replaces the handle, and with it the pipeline.
    """
    handle = clients.kv()
    held = getattr(_pipelines, "held", None)
    if held is None or held[0] is not handle:
        held = _pipelines.held = (handle, handle.pipeline(transaction=True))
    return held[1]


def record_view(
    post_id: object,
    title: str | None = None,
    *,
    now: datetime | None = None,
    notify: bool = True,
) -> int:
    """Count a view of a post on today's and the all-time board.

    ``title`` labels the post on the boards (None keeps the stored one).
    Return the new version of the boards.
    """
    member = _member(post_id, "post id")
    key, expires_at = _day_board(_now(now).date())
    label = None if title is None else str(title)[:MAX_LABEL_CHARS]
    pipe = _transaction()
    try:
        pipe.zincrby(VIEWS_ALL_TIME_KEY, 1, member)
        pipe.zincrby(key, 1, member)
        pipe.expireat(key, expires_at)
        if label is not None:
            pipe.hset(TITLES_KEY, member, label)
        pipe.incr(VERSION_KEY)
        version = pipe.execute()[-1]
    except BaseException:
        # Leave nothing queued for this thread's next use of the pipeline.
        pipe.reset()
        raise
    if notify:
        notify_changed(version)
    return version


def record_comment(username: str, *, now: datetime | None = None, notify: bool = True) -> int:
    """Count a comment by ``username`` on this week's board; return the new version."""
    member = _member(username, "username")
    now = _now(now)
    key = week_key(now.date())
    pipe = _transaction()
    try:
        pipe.zincrby(key, 1, member)
        pipe.expireat(key, week_expires_at(now))
        pipe.incr(VERSION_KEY)
        version = pipe.execute()[-1]
    except BaseException:
        pipe.reset()
        raise
    if notify:
        notify_changed(version)
    return version


def seed_boards(
    views_all_time: dict[object, int],
    views_today: dict[object, int],
    comments_this_week: dict[str, int],
    titles: dict[object, str],
    *,
    now: datetime | None = None,
) -> int:
    """Raise the boards to at least the given totals (demo data); return the new version.

    ZADD GT, not ZINCRBY, so seeding twice changes nothing and never lowers
    a score that live visits have already raised.
    """
    now = _now(now)
    day, week = day_key(now.date()), week_key(now.date())
    pipe = clients.kv().pipeline(transaction=True)
    for key, totals in ((VIEWS_ALL_TIME_KEY, views_all_time), (day, views_today)):
        if totals:
            pipe.zadd(key, {_member(m, "post id"): n for m, n in totals.items()}, gt=True)
    if comments_this_week:
        pipe.zadd(week, {_member(m, "username"): n for m, n in comments_this_week.items()}, gt=True)
    pipe.expireat(day, day_expires_at(now))
    pipe.expireat(week, week_expires_at(now))
    if titles:
        pipe.hset(
            TITLES_KEY,
            mapping={_member(m, "post id"): str(t)[:MAX_LABEL_CHARS] for m, t in titles.items()},
        )
    pipe.incr(VERSION_KEY)
    version = pipe.execute()[-1]
    notify_changed(version)
    return version


def changed_event(version: int) -> dict:
    """Return the channel-layer message announcing boards at ``version``."""
    return {"type": CHANGED, "version": int(version)}


_sending: set[asyncio.Task] = set()


def _group_send(version: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        # Called from sync code on the event loop's own thread (the cached
        # page shortcut): async_to_sync cannot run here, so send as a task.
        task = loop.create_task(layer.group_send(GROUP, changed_event(version)))
        _sending.add(task)
        task.add_done_callback(lambda done: _sent(done, version))
        return
    try:
        async_to_sync(layer.group_send)(GROUP, changed_event(version))
    except Exception:
        logger.exception("leaderboard: could not announce version %s", version)


def _sent(task: asyncio.Task, version: int) -> None:
    _sending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error(
            "leaderboard: could not announce version %s", version, exc_info=task.exception()
        )


class ChangeAnnouncer:
    """Announce changes from sync code, at most once per interval per process.

    A busy site records hundreds of views a second; every open leaderboard
    needs to hear only that something changed, and the newest version. The
    first change in a quiet period is announced at once; later ones within
    the interval are folded into one announcement at its end, from a timer
    thread, so the last change is never left unannounced.
    """

    def __init__(self, interval: float, send=_group_send):
        self.interval = interval
        self.send = send
        self._lock = threading.Lock()
        self._last_sent = float("-inf")
        self._pending: int | None = None
        self._timer: threading.Timer | None = None

    def announce(self, version: int) -> None:
        """Announce ``version`` now or at the end of the current interval."""
        with self._lock:
            if self._timer is not None:
                self._pending = max(self._pending or 0, version)
                return
            wait = self._last_sent + self.interval - time.monotonic()
            if wait <= 0:
                self._last_sent = time.monotonic()
            else:
                self._pending = version
                self._timer = threading.Timer(wait, self._fire)
                self._timer.daemon = True
                self._timer.start()
                return
        self.send(version)

    def reset(self) -> None:
        """Drop a pending announcement and start afresh (tests)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._pending, self._timer = None, None
            self._last_sent = float("-inf")

    def _fire(self) -> None:
        with self._lock:
            version, self._pending, self._timer = self._pending, None, None
            self._last_sent = time.monotonic()
        if version is not None:
            self.send(version)


announcer = ChangeAnnouncer(interval=NOTIFY_INTERVAL_SECONDS)


def notify_changed(version: int) -> None:
    """Tell every open leaderboard that the boards changed (from sync code)."""
    announcer.announce(version)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def current_version() -> int:
    """Return the boards' version (0 before anything was recorded)."""
    return int(clients.kv().get(VERSION_KEY) or 0)


def top(board: Board, n: int = TOP_N, *, now: datetime | None = None) -> list[Entry]:
    """Return the first ``n`` entries of ``board``, highest score first."""
    kv = clients.kv()
    rows = kv.zrevrange(board_key(board, now), 0, n - 1, withscores=True)
    members = [_text(member) for member, _ in rows]
    labels = members
    if board.labelled and members:
        labels = [
            _text(title) if title is not None else f"Post {member}"
            for member, title in zip(members, kv.hmget(TITLES_KEY, members), strict=True)
        ]
    entries = []
    for index, ((_, score), member, label) in enumerate(zip(rows, members, labels, strict=True)):
        entries.append(Entry(rank=index + 1, member=member, label=label, score=int(score)))
    return entries


def standing(board: Board, member: object, *, now: datetime | None = None) -> Entry | None:
    """Return ``member``'s rank and score on ``board``, or None if absent."""
    kv = clients.kv()
    key = board_key(board, now)
    member = _member(member, "member")
    pipe = kv.pipeline(transaction=False)
    pipe.zrevrank(key, member)
    pipe.zscore(key, member)
    rank, score = pipe.execute()
    if rank is None:
        return None
    label = member
    if board.labelled:
        label = _text(kv.hget(TITLES_KEY, member) or f"Post {member}")
    return Entry(rank=rank + 1, member=member, label=label, score=int(score))


def snapshot(*, now: datetime | None = None) -> dict:
    """Return every board with its top entries and the version they belong to."""
    version = current_version()
    return {
        "version": version,
        "boards": [
            {
                "name": board.name,
                "title": board.title,
                "unit": board.unit,
                "entries": [asdict(entry) for entry in top(board, now=now)],
            }
            for board in BOARDS
        ],
    }


@dataclass(frozen=True)
class SharedSnapshot:
    """A snapshot read once and encoded once for every consumer."""

    version: int
    data: dict
    json_members: str  # the JSON object's members after "{", ending with "}"

    @classmethod
    def of(cls, data: dict) -> SharedSnapshot:
        return cls(data["version"], data, json.dumps(data)[1:])

    def message(self, **fields: object) -> str:
        """Return the snapshot as a JSON object text with ``fields`` first."""
        head = json.dumps(fields)[:-1]
        return f"{head}, {self.json_members}" if fields else "{" + self.json_members


class SharedSnapshots:
    """Read and encode the boards once per version for all consumers of a process.

    Hundreds of open leaderboards in a process are told about each change;
    they share one read of the store and one JSON encoding instead of each
    doing both.
    """

    def __init__(self):
        self._latest: SharedSnapshot | None = None
        self._pending: dict[asyncio.AbstractEventLoop, asyncio.Future] = {}

    async def _read(self) -> SharedSnapshot:
        result = SharedSnapshot.of(await asyncio.to_thread(snapshot))
        if self._latest is None or result.version >= self._latest.version:
            self._latest = result
        return result

    async def get(self, version: int) -> SharedSnapshot:
        """Return a snapshot at ``version`` or newer."""
        latest = self._latest
        if latest is not None and latest.version >= version:
            return latest
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = loop.create_future()
            try:
                result = await self._read()
            except BaseException as exc:
                pending.set_exception(exc)
                pending.exception()  # a failed read is reported to the waiters only
                raise
            finally:
                self._pending.pop(loop, None)
            pending.set_result(result)
            return result
        result = await asyncio.shield(pending)
        if result.version >= version:
            return result
        # The read in flight started before this change: read again, once.
        return await self._read()

    def clear(self) -> None:
        """Forget the cached snapshot (tests, and after flushing the store)."""
        self._latest = None


shared_snapshots = SharedSnapshots()
