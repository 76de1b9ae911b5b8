"""manage.py seed_demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blog.repositories import repository

pytestmark = pytest.mark.django_db


def test_seed_demo_with_progress_and_if_empty(wide_store):
    out = StringIO()
    call_command("seed_demo", posts=8, comments=20, users=3, views=10, days=5, stdout=out)
    text = out.getvalue()
    assert "Seeded 8 posts, 20 comments, 3 users, 10 views" in text
    assert "[##############################] 8/8" in text
    assert len(repository().latest_posts(20).items) == 8
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "already has posts" in out.getvalue()


def test_seed_demo_rejects_negative_sizes(wide_store):
    with pytest.raises(CommandError):
        call_command("seed_demo", posts=-1)
