"""Count one view of a post, wherever the page was served from.

Owns what a view of a post changes: the post's ``views`` counter in the
wide-column store and the view leaderboards in the key-value store. Both
Django's view and the cached-page shortcut call it, so a page served from
the cache counts exactly as one built by the view.
"""

from __future__ import annotations

import uuid

from blog import leaderboard
from blog.repositories import repository


def count_view(post_id: uuid.UUID, title: str | None) -> None:
    """Add one view of a post to its counter and to the leaderboards."""
    repository().add_views(post_id)
    leaderboard.record_view(post_id, title)
