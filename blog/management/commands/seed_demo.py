"""Fill the blog with deterministic demo content."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.demo_seed import DEMO_PASSWORD, STAFF_USERNAME, SeedSizes, seed
from blog.repositories import repository


class Command(BaseCommand):
    help = (
        "Create demo users, posts, comments and views (deterministic for a seed, "
        "idempotent: running it again changes nothing)."
    )

    def add_arguments(self, parser):
        defaults = SeedSizes()
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--posts", type=int, default=defaults.posts)
        parser.add_argument("--comments", type=int, default=defaults.comments)
        parser.add_argument("--users", type=int, default=defaults.users)
        parser.add_argument("--views", type=int, default=defaults.views)
        parser.add_argument("--days", type=int, default=defaults.days)
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing if the blog already has posts"
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        sizes = SeedSizes(
            posts=options["posts"],
            comments=options["comments"],
            users=options["users"],
            views=options["views"],
            days=options["days"],
        )
        for name in ("posts", "comments", "users", "views"):
            if getattr(sizes, name) < 0:
                raise CommandError(f"--{name} cannot be negative")
        if sizes.days < 1:
            raise CommandError("--days must be at least 1")
        repo = repository()
        if options["if_empty"] and repo.has_posts():
            self.stdout.write("The blog already has posts: not seeding (--if-empty).")
            return
        started = time.monotonic()
        counts = seed(
            repo,
            options["seed"],
            sizes,
            settings.BLOG_HISTORY_TTL_SECONDS,
            stream=self.stdout,
            progress=not options["no_progress"] and options["verbosity"] > 0,
        )
        from blog import pagecache

        pagecache.invalidate_front()
        self.stdout.write(
            f"Seeded {counts['posts']} posts, {counts['comments']} comments, {counts['users']} users, "
            f"{counts['views']} views in {time.monotonic() - started:.1f}s "
            f"(seed {options['seed']}, anchored at {counts['anchor']:%Y-%m-%d %H:%M} UTC). "
            f"Sign in as {STAFF_USERNAME!r} (staff) or reader01.. with password {DEMO_PASSWORD!r}."
        )
