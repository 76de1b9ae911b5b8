"""Deterministic demo content for the blog: users, posts, comments and views.

Owns the generation of the demo data set from a seed: the same seed and
sizes always give the same ids, texts and times, so writing them again is
an upsert that changes nothing. The one non-idempotent part of CQL,
counters, is brought to its target by adding only the missing difference.
The time anchor of a seed is recorded on first use (``demo_seed`` table)
and reused, so a later run does not move posts to other day buckets.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from blog import leaderboard
from blog.repositories import BlogRepository, Post, to_millis

DEMO_PASSWORD = "demo-password"
STAFF_USERNAME = "editor"

TOPICS = [
    "caching",
    "sessions",
    "leaderboards",
    "rate limits",
    "time series",
    "feeds",
    "partitions",
    "compaction",
    "tombstones",
    "TTL",
    "sorted sets",
    "pub/sub",
    "eviction",
    "paging",
    "consistency",
    "replication",
    "memtables",
    "SSTables",
]
TAGS = [
    "redis",
    "cassandra",
    "caching",
    "data-modeling",
    "performance",
    "django",
    "operations",
    "ttl",
    "lsm",
    "sorted-sets",
    "sessions",
    "benchmarks",
]
ADJECTIVES = [
    "Practical",
    "Surprising",
    "Hidden",
    "Simple",
    "Fast",
    "Durable",
    "Careful",
    "Everyday",
    "Lazy",
    "Honest",
    "Small",
    "Unbounded",
]
NOUNS = [
    "guide to",
    "notes on",
    "lessons in",
    "mistakes with",
    "patterns for",
    "myths about",
    "a tour of",
    "benchmarks of",
    "the cost of",
    "questions about",
]
WORDS = (
    "key value partition cluster row column cache page session store write read latency "
    "memory disk log index bloom filter token ring replica node query table schema design "
    "counter expire evict snapshot append fsync batch slice order newest oldest window hot "
    "cold shard scale throughput request response client server engine bucket day user"
).split()


@dataclass
class SeedSizes:
    """How much demo data to make."""

    posts: int = 200
    comments: int = 5000
    users: int = 50
    views: int = 20000
    days: int = 90


class ProgressBar:
    """A one-line text progress bar on a stream."""

    WIDTH = 30

    def __init__(self, label: str, total: int, stream=None, enabled: bool = True):
        self.label, self.total = label, max(total, 1)
        self.stream = stream or sys.stdout
        self.enabled = enabled
        self.done = 0
        self._last = -1.0

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.1 or self.done >= self.total):
            self._last = now
            filled = int(self.WIDTH * min(self.done, self.total) / self.total)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self._write(f"\r{self.label:<10} [{bar}] {self.done}/{self.total}")
            if self.done >= self.total:
                self._write("\n")
            self.stream.flush()

    def _write(self, text: str) -> None:
        # Django's OutputWrapper appends a newline unless told otherwise.
        try:
            self.stream.write(text, ending="")
        except TypeError:
            self.stream.write(text)

    def finish(self) -> None:
        if self.done < self.total:
            self.done = self.total - 1
            self.advance()


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _sentence(rng: random.Random, low: int = 6, high: int = 16) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def _body(rng: random.Random, topic: str) -> str:
    parts = [_paragraph(rng), f"## Why {topic} matters", _paragraph(rng)]
    if rng.random() < 0.6:
        parts.append(
            "\n".join(f"- **{rng.choice(WORDS)}**: {_sentence(rng, 4, 8)}" for _ in range(3))
        )
    if rng.random() < 0.4:
        parts.append(
            f"```\nSELECT * FROM {rng.choice(WORDS)}s WHERE day = '2024-01-01' LIMIT 10;\n```"
        )
    parts.append(_paragraph(rng))
    return "\n\n".join(parts)


@dataclass
class DemoPlan:
    """The posts and users of a seed; comments and views are streamed, never held."""

    seed: int
    sizes: SeedSizes
    anchor: datetime
    posts: list[Post]
    usernames: list[str]

    def _moment_after(self, rng: random.Random, post: Post) -> datetime:
        age = (self.anchor - post.created_at).total_seconds()
        return to_millis(post.created_at + timedelta(seconds=rng.uniform(0, max(age, 1))))

    def comments(self) -> Iterator[tuple[int, uuid.UUID, datetime, str, str]]:
        """Yield (post index, comment id, time, author, body), the same each time."""
        if not self.posts:
            return
        rng = random.Random(f"{self.seed}:comments")
        authors = self.usernames or [STAFF_USERNAME]
        # Some posts draw far more comments than others, as on a real blog.
        cumulative = list(accumulate(1.0 / (1 + i % 17) for i in range(len(self.posts))))
        population = range(len(self.posts))
        for _ in range(self.sizes.comments):
            index = rng.choices(population, cum_weights=cumulative)[0]
            moment = self._moment_after(rng, self.posts[index])
            body = " ".join(_sentence(rng, 4, 14) for _ in range(rng.randint(1, 3)))
            yield index, _uuid(rng), moment, rng.choice(authors), body

    def views(self) -> Iterator[tuple[int, int, datetime]]:
        """Yield (user index, post index, time), the same each time."""
        if not self.posts or not self.usernames:
            return
        rng = random.Random(f"{self.seed}:views")
        for _ in range(self.sizes.views):
            index = rng.randrange(len(self.posts))
            moment = self._moment_after(rng, self.posts[index])
            yield rng.randrange(len(self.usernames)), index, moment


def plan(seed: int, sizes: SeedSizes, anchor: datetime) -> DemoPlan:
    """Return the demo data of a seed; the same arguments give the same plan."""
    rng = random.Random(seed)
    usernames = [f"reader{i:02d}" for i in range(1, sizes.users + 1)]
    authors = [STAFF_USERNAME, *usernames[: max(1, min(5, len(usernames)))]]
    span = sizes.days * 86400
    posts: list[Post] = []
    for _ in range(sizes.posts):
        created = to_millis(anchor - timedelta(seconds=rng.uniform(0, span)))
        topic = rng.choice(TOPICS)
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {topic}"
        tags = sorted(set(rng.sample(TAGS, rng.randint(1, 3))))
        body = _body(rng, topic)
        post_id = _uuid(rng)
        author = rng.choice(authors)
        day = created.strftime("%Y-%m-%d")
        posts.append(Post(post_id, title, body, author, tags, day, created, created))
    return DemoPlan(seed, sizes, anchor, posts, usernames)


def ensure_users(usernames: list[str]) -> dict[str, int]:
    """Create the demo users (and the staff editor) if missing; return their ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user_model = get_user_model()
    password = make_password(DEMO_PASSWORD)
    ids: dict[str, int] = {}
    for name in [STAFF_USERNAME, *usernames]:
        user, created = user_model.objects.get_or_create(
            username=name, defaults={"password": password, "is_staff": name == STAFF_USERNAME}
        )
        ids[name] = user.pk
    return ids


def seed(
    repo: BlogRepository,
    seed_value: int,
    sizes: SeedSizes,
    history_ttl: int,
    stream=None,
    progress: bool = True,
) -> dict:
    """Write the demo data of a seed; return the counts written."""
    record = repo.seed_record(seed_value)
    if record is not None and record.anchor is not None:
        anchor = record.anchor if record.anchor.tzinfo else record.anchor.replace(tzinfo=UTC)
    else:
        anchor = to_millis(datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    counts = {
        "posts": sizes.posts,
        "comments": sizes.comments,
        "users": sizes.users,
        "views": sizes.views,
    }
    repo.save_seed_record(seed_value, anchor, counts, completed=False)
    data = plan(seed_value, sizes, anchor)

    user_ids = ensure_users(data.usernames)

    bar = ProgressBar("posts", len(data.posts), stream, progress)
    for post in data.posts:
        repo.create_post(
            title=post.title,
            body=post.body,
            author=post.author,
            tags=post.tags,
            created_at=post.created_at,
            post_id=post.post_id,
        )
        bar.advance()
    bar.finish()

    comment_targets: Counter[int] = Counter()
    commenters_this_week: Counter[str] = Counter()
    this_week = leaderboard.week_key(datetime.now(UTC).date())
    bar = ProgressBar("comments", sizes.comments, stream, progress)
    for index, comment_id, moment, author, body in data.comments():
        comment_targets[index] += 1
        if leaderboard.week_key(moment.date()) == this_week:
            commenters_this_week[author] += 1
        repo.add_comment(
            data.posts[index],
            author=author,
            body=body,
            created_at=moment,
            comment_id=comment_id,
            count=False,
        )
        bar.advance()
    bar.finish()

    now = datetime.now(UTC)
    view_targets: Counter[int] = Counter()
    views_today: Counter[int] = Counter()
    bar = ProgressBar("views", sizes.views, stream, progress)
    for user_index, post_index, moment in data.views():
        view_targets[post_index] += 1
        if moment.date() == now.date():
            views_today[post_index] += 1
        post = data.posts[post_index]
        remaining = history_ttl - int((now - moment).total_seconds())
        if remaining > 0:
            repo.record_view(
                user_ids[data.usernames[user_index]],
                post.post_id,
                post.title,
                remaining,
                viewed_at=moment,
            )
        bar.advance()
    bar.finish()

    bar = ProgressBar("counters", len(data.posts), stream, progress)
    for index, post in enumerate(data.posts):
        comments_now, views_now = repo.stats(post.post_id)
        if comment_targets[index] > comments_now:
            repo.add_comment_count(post.post_id, comment_targets[index] - comments_now)
        if view_targets[index] > views_now:
            repo.add_views(post.post_id, view_targets[index] - views_now)
        bar.advance()
    bar.finish()

    leaderboard.seed_boards(
        {data.posts[i].post_id: n for i, n in view_targets.items()},
        {data.posts[i].post_id: n for i, n in views_today.items()},
        dict(commenters_this_week),
        {post.post_id: post.title for post in data.posts},
    )
    repo.save_seed_record(seed_value, anchor, counts, completed=True)
    return {**counts, "anchor": anchor}
