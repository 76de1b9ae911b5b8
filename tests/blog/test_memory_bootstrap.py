"""A memory: wide-column store gets the schema (and an optional seed) on first use."""

import pytest

from blog.memory_bootstrap import parse_sizes
from stores import clients


def test_parse_sizes():
    assert parse_sizes("posts=3, comments=4,users=1,") == {"posts": 3, "comments": 4, "users": 1}
    assert parse_sizes("") == {}


@pytest.mark.parametrize("text", ["posts=-1", "posts", "bogus=3", "posts=3;DROP"])
def test_parse_sizes_refuses_bad_items(text):
    with pytest.raises(ValueError, match="BLOG_MEMORY_SEED"):
        parse_sizes(text)


@pytest.mark.django_db
def test_first_use_applies_schema_and_seed(wide_store, settings, django_user_model):
    from blog.repositories import repository

    settings.BLOG_MEMORY_SEED = "posts=4,comments=6,users=2,views=3,days=2"
    repo = repository()
    assert len(repo.latest_posts(10).items) == 4
    assert django_user_model.objects.filter(username="reader02").exists()
    assert repository() is repo
    assert len(repo.latest_posts(10).items) == 4


def test_persistent_store_is_left_alone(settings, tmp_path):
    from blog.repositories import repository

    settings.WIDE_URL = f"embedded:{tmp_path / 'wide'}"
    clients.reset()
    try:
        repo = repository()
        assert not getattr(repo.session, "blog_schema_ready", False)
        with pytest.raises(Exception, match="keyspace blog does not exist"):
            repo.has_posts()
    finally:
        clients.reset()
