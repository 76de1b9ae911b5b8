"""All of the blog's CQL: posts, comments, viewing history and counters.

Owns every statement the blog sends to the wide-column store. Each is
prepared once per Session and executed with bound parameters: no value, and
no user text above all, is ever formatted into a statement (only the
keyspace name, checked to be a plain identifier). Speaks only the
cassandra-driver Session shape (``prepare``, ``bind``, ``execute`` with
``paging_state``, ``current_rows``), so it runs unchanged on the embedded
engine and on Cassandra. Never touches the key-value store or Django's
cache.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from blog.schema_files import check_identifier
from stores import clients

SITE_PARTITION = "all"
MAX_DAYS_PER_PAGE = 400

STATEMENTS = {
    "insert_post": (
        "BEGIN BATCH "
        "INSERT INTO {ks}.posts (post_id, title, body, author, tags, day, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?); "
        "INSERT INTO {ks}.posts_by_day (day, created_at, post_id, title, author, tags, summary) "
        "VALUES (?, ?, ?, ?, ?, ?, ?); "
        "INSERT INTO {ks}.post_days (site, day) VALUES (?, ?); "
        "APPLY BATCH"
    ),
    "update_post": (
        "BEGIN BATCH "
        "UPDATE {ks}.posts SET title = ?, body = ?, tags = ?, updated_at = ? WHERE post_id = ?; "
        "UPDATE {ks}.posts_by_day SET title = ?, tags = ?, summary = ? "
        "WHERE day = ? AND created_at = ? AND post_id = ?; "
        "UPDATE {ks}.comments_by_post SET post_title = ? WHERE post_id = ?; "
        "APPLY BATCH"
    ),
    "select_post": (
        "SELECT post_id, title, body, author, tags, day, created_at, updated_at "
        "FROM {ks}.posts WHERE post_id = ?"
    ),
    "any_post": "SELECT post_id FROM {ks}.posts LIMIT 1",
    "select_day_posts": (
        "SELECT day, created_at, post_id, title, author, tags, summary "
        "FROM {ks}.posts_by_day WHERE day = ?"
    ),
    "first_day": "SELECT day FROM {ks}.post_days WHERE site = ? LIMIT 1",
    "next_day": "SELECT day FROM {ks}.post_days WHERE site = ? AND day < ? LIMIT 1",
    "insert_comment": (
        "INSERT INTO {ks}.comments_by_post (post_id, created_at, comment_id, post_title, author, body) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    ),
    "select_comments": (
        "SELECT created_at, comment_id, author, body FROM {ks}.comments_by_post WHERE post_id = ?"
    ),
    "add_comments": "UPDATE {ks}.post_stats SET comments = comments + ? WHERE post_id = ?",
    "add_views": "UPDATE {ks}.post_stats SET views = views + ? WHERE post_id = ?",
    "select_stats": "SELECT comments, views FROM {ks}.post_stats WHERE post_id = ?",
    "insert_history": (
        "INSERT INTO {ks}.history_by_user (user_id, viewed_at, post_id, post_title) "
        "VALUES (?, ?, ?, ?) USING TTL ?"
    ),
    "select_history": (
        "SELECT viewed_at, post_id, post_title, TTL(post_title) AS expires_in "
        "FROM {ks}.history_by_user WHERE user_id = ?"
    ),
    "select_seed": "SELECT seed, anchor, completed FROM {ks}.demo_seed WHERE seed = ?",
    "insert_seed": (
        "INSERT INTO {ks}.demo_seed (seed, anchor, posts, comments, users, views, completed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    ),
}


def utc_now() -> datetime:
    """Return now in UTC at the millisecond precision a CQL timestamp keeps."""
    return to_millis(datetime.now(UTC))


def to_millis(moment: datetime) -> datetime:
    """Return moment truncated to milliseconds, in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_of(moment: datetime) -> str:
    """Return the day bucket (YYYY-MM-DD, UTC) of a moment."""
    return _aware(moment).strftime("%Y-%m-%d")


def summary_of(body: str, limit: int = 240) -> str:
    """Return the first paragraph of a Markdown body, plain and short."""
    for block in body.strip().split("\n\n"):
        text = " ".join(block.split()).lstrip("#>*- ").strip()
        if text and not text.startswith("```"):
            return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return ""


@dataclass
class PostSummary:
    """A post as the front page lists it."""

    post_id: uuid.UUID
    title: str
    author: str
    created_at: datetime
    tags: list[str]
    summary: str
    comment_count: int = 0


@dataclass
class Post:
    """A whole post."""

    post_id: uuid.UUID
    title: str
    body: str
    author: str
    tags: list[str]
    day: str
    created_at: datetime
    updated_at: datetime | None


@dataclass
class Comment:
    """One comment on a post."""

    comment_id: uuid.UUID
    author: str
    body: str
    created_at: datetime


@dataclass
class HistoryEntry:
    """One viewing of a post by a user."""

    post_id: uuid.UUID
    post_title: str
    viewed_at: datetime
    expires_in: int | None


@dataclass
class FrontCursor:
    """Where the next front page starts: a day bucket and the store's paging state."""

    day: str
    paging_state: bytes | None = None


@dataclass
class Page:
    """One page of results and where the next one starts (None at the end)."""

    items: list = field(default_factory=list)
    next_cursor: object | None = None


class BlogRepository:
    """The blog's statements, prepared once on one Session."""

    def __init__(self, session, keyspace: str):
        self.session = session
        self.keyspace = check_identifier(keyspace)
        self._prepared: dict[str, object] = {}
        self._lock = threading.Lock()

    def _statement(self, name: str):
        prepared = self._prepared.get(name)
        if prepared is None:
            with self._lock:
                prepared = self._prepared.get(name)
                if prepared is None:
                    prepared = self.session.prepare(STATEMENTS[name].format(ks=self.keyspace))
                    self._prepared[name] = prepared
        return prepared

    def _execute(self, name: str, values: Iterable = ()):
        return self.session.execute(self._statement(name), tuple(values))

    def _page(self, name: str, values: Iterable, fetch_size: int, paging_state: bytes | None):
        bound = self._statement(name).bind(tuple(values))
        bound.fetch_size = fetch_size
        result = self.session.execute(bound, paging_state=paging_state)
        return list(result.current_rows), result.paging_state

    # Posts

    def create_post(
        self,
        *,
        title: str,
        body: str,
        author: str,
        tags: Iterable[str],
        created_at: datetime | None = None,
        post_id: uuid.UUID | None = None,
    ) -> Post:
        """Store a new post in posts, posts_by_day and post_days, in one logged batch."""
        created = to_millis(created_at) if created_at else utc_now()
        post = Post(
            post_id or uuid.uuid4(),
            title,
            body,
            author,
            sorted(set(tags)),
            day_of(created),
            created,
            created,
        )
        tag_set = set(post.tags) or None
        self._execute(
            "insert_post",
            (
                post.post_id,
                post.title,
                post.body,
                post.author,
                tag_set,
                post.day,
                post.created_at,
                post.updated_at,
                post.day,
                post.created_at,
                post.post_id,
                post.title,
                post.author,
                tag_set,
                summary_of(post.body),
                SITE_PARTITION,
                post.day,
            ),
        )
        return post

    def update_post(self, post: Post, *, title: str, body: str, tags: Iterable[str]) -> Post:
        """Change a post's title, body and tags everywhere they are denormalised."""
        tag_list = sorted(set(tags))
        tag_set = set(tag_list) or None
        updated = utc_now()
        self._execute(
            "update_post",
            (
                title,
                body,
                tag_set,
                updated,
                post.post_id,
                title,
                tag_set,
                summary_of(body),
                post.day,
                post.created_at,
                post.post_id,
                title,
                post.post_id,
            ),
        )
        return Post(
            post.post_id, title, body, post.author, tag_list, post.day, post.created_at, updated
        )

    def get_post(self, post_id: uuid.UUID) -> Post | None:
        """Return the post with this id, or None."""
        row = self._execute("select_post", (post_id,)).one()
        if row is None:
            return None
        return Post(
            row.post_id,
            row.title or "",
            row.body or "",
            row.author or "",
            sorted(row.tags or ()),
            row.day,
            _aware(row.created_at),
            _aware(row.updated_at),
        )

    def has_posts(self) -> bool:
        """Return True if any post exists."""
        return self._execute("any_post").one() is not None

    def _first_day(self) -> str | None:
        row = self._execute("first_day", (SITE_PARTITION,)).one()
        return row.day if row else None

    def _day_before(self, day: str) -> str | None:
        row = self._execute("next_day", (SITE_PARTITION, day)).one()
        return row.day if row else None

    def latest_posts(self, size: int, cursor: FrontCursor | None = None) -> Page:
        """Return a page of posts, newest first, walking day buckets from the cursor."""
        day = cursor.day if cursor else self._first_day()
        paging_state = cursor.paging_state if cursor else None
        items: list[PostSummary] = []
        for _ in range(MAX_DAYS_PER_PAGE):
            if day is None:
                return Page(self._with_counts(items), None)
            rows, next_state = self._page(
                "select_day_posts", (day,), size - len(items), paging_state
            )
            items.extend(
                PostSummary(
                    r.post_id,
                    r.title or "",
                    r.author or "",
                    _aware(r.created_at),
                    sorted(r.tags or ()),
                    r.summary or "",
                )
                for r in rows
            )
            if next_state:
                if len(items) >= size:
                    return Page(self._with_counts(items), FrontCursor(day, next_state))
                paging_state = next_state
                continue
            day, paging_state = self._day_before(day), None
            if len(items) >= size:
                next_cursor = FrontCursor(day) if day is not None else None
                return Page(self._with_counts(items), next_cursor)
        return Page(self._with_counts(items), FrontCursor(day, paging_state) if day else None)

    def _with_counts(self, posts: list[PostSummary]) -> list[PostSummary]:
        for post in posts:
            post.comment_count = self.stats(post.post_id)[0]
        return posts

    # Counters

    def stats(self, post_id: uuid.UUID) -> tuple[int, int]:
        """Return (comments, views) for a post."""
        row = self._execute("select_stats", (post_id,)).one()
        if row is None:
            return 0, 0
        return int(row.comments or 0), int(row.views or 0)

    def add_views(self, post_id: uuid.UUID, count: int = 1) -> None:
        """Add to a post's view counter."""
        self._execute("add_views", (count, post_id))

    def add_comment_count(self, post_id: uuid.UUID, count: int = 1) -> None:
        """Add to a post's comment counter."""
        self._execute("add_comments", (count, post_id))

    # Comments

    def add_comment(
        self,
        post: Post,
        *,
        author: str,
        body: str,
        created_at: datetime | None = None,
        comment_id: uuid.UUID | None = None,
        count: bool = True,
    ) -> Comment:
        """Store a comment (the post's title rides along as the static column)."""
        comment = Comment(
            comment_id or uuid.uuid4(),
            author,
            body,
            to_millis(created_at) if created_at else utc_now(),
        )
        self._execute(
            "insert_comment",
            (post.post_id, comment.created_at, comment.comment_id, post.title, author, body),
        )
        if count:
            self.add_comment_count(post.post_id)
        return comment

    def comments(self, post_id: uuid.UUID, size: int, paging_state: bytes | None = None) -> Page:
        """Return a page of a post's comments, newest first."""
        rows, next_state = self._page("select_comments", (post_id,), size, paging_state)
        items = [
            Comment(r.comment_id, r.author or "", r.body or "", _aware(r.created_at))
            for r in rows
            if r.comment_id is not None
        ]
        return Page(items, next_state or None)

    # Viewing history

    def record_view(
        self,
        user_id: int,
        post_id: uuid.UUID,
        post_title: str,
        ttl_seconds: int,
        viewed_at: datetime | None = None,
    ) -> None:
        """Remember that a user viewed a post; the entry expires after ttl_seconds."""
        moment = to_millis(viewed_at) if viewed_at else utc_now()
        self._execute("insert_history", (user_id, moment, post_id, post_title, ttl_seconds))

    def history(self, user_id: int, size: int, paging_state: bytes | None = None) -> Page:
        """Return a page of a user's viewing history, newest first."""
        rows, next_state = self._page("select_history", (user_id,), size, paging_state)
        items = [
            HistoryEntry(r.post_id, r.post_title or "", _aware(r.viewed_at), r.expires_in)
            for r in rows
        ]
        return Page(items, next_state or None)

    # Demo seed bookkeeping

    def seed_record(self, seed: int):
        """Return the demo_seed row of a seed, or None."""
        return self._execute("select_seed", (seed,)).one()

    def save_seed_record(self, seed: int, anchor: datetime, counts: dict, completed: bool) -> None:
        """Record a seed run's anchor, sizes and whether it finished."""
        self._execute(
            "insert_seed",
            (
                seed,
                anchor,
                counts["posts"],
                counts["comments"],
                counts["users"],
                counts["views"],
                completed,
            ),
        )


_repositories: dict[int, BlogRepository] = {}
_repositories_lock = threading.Lock()
# (session, repository) once the repository is ready on that session:
# every post view asks, so the answer skips the checks while the site's
# Session is the same object (holding it keeps its identity from reuse).
_ready: tuple[object, BlogRepository] | None = None


def repository() -> BlogRepository:
    """Return the repository on the site's wide-column Session."""
    global _ready
    session = clients.wide()
    ready = _ready
    if ready is not None and ready[0] is session:
        return ready[1]
    from django.conf import settings

    repo = _repositories.get(id(session))
    if repo is None or repo.session is not session:
        with _repositories_lock:
            repo = BlogRepository(session, settings.BLOG_KEYSPACE)
            _repositories.clear()
            _repositories[id(session)] = repo
    from blog.memory_bootstrap import ensure_ready

    ensure_ready(session, repo)
    _ready = (session, repo)
    return repo
