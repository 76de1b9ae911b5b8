"""Page-cache invalidation, including a comment landing while a page is being built."""

import uuid

from blog import pagecache
from blog.whole_page import encode


def test_fetch_builds_once_then_hits(stores):
    calls = []

    def build():
        calls.append(1)
        return {"html": "<p>v1</p>"}

    assert pagecache.fetch("blog:test", "test", build, "blog:test") == (
        {"html": "<p>v1</p>"},
        False,
    )
    assert pagecache.fetch("blog:test", "test", build, "blog:test") == ({"html": "<p>v1</p>"}, True)
    assert len(calls) == 1


def test_invalidation_during_a_build_keeps_the_stale_page_out(stores):
    post_id = uuid.uuid4()
    key = pagecache.post_key(post_id)

    def build_while_a_comment_lands():
        page = {"html": "before the comment"}
        pagecache.invalidate_post(post_id)
        return page

    value, hit = pagecache.fetch(key, "post page", build_while_a_comment_lands, key)
    assert value == {"html": "before the comment"} and not hit
    fresh, hit = pagecache.fetch(key, "post page", lambda: {"html": "with the comment"}, key)
    assert fresh == {"html": "with the comment"} and not hit
    assert pagecache.fetch(key, "post page", lambda: {"html": "unused"}, key)[1] is True


def test_invalidate_post_drops_post_and_front_pages_only(stores):
    mine, other = uuid.uuid4(), uuid.uuid4()
    for source in (pagecache.post_key(mine), pagecache.post_key(other), pagecache.FRONT_KEY):
        for key in (source, pagecache.whole_page_key(source)):
            pagecache.fetch(key, "x", lambda: {"html": "cached"}, source)
    pagecache.invalidate_post(mine)

    def cached(key):
        return pagecache.fetch(key, "x", lambda: {"html": "rebuilt"}, key)[1]

    assert not cached(pagecache.post_key(mine))
    assert not cached(pagecache.whole_page_key(pagecache.FRONT_KEY))
    assert cached(pagecache.post_key(other))
    assert cached(pagecache.whole_page_key(pagecache.post_key(other)))


def test_whole_pages_are_stored_as_bytes_and_fetched_as_dicts(stores):
    key = pagecache.whole_page_key(pagecache.FRONT_KEY)
    page = {"html": "<p>front<!--store-trace--></p>", "title": "T"}
    assert pagecache.fetch(key, "whole front page", lambda: page, pagecache.FRONT_KEY) == (
        page,
        False,
    )
    stored = pagecache.page_cache().get(key)
    assert isinstance(stored, bytes)
    assert pagecache.fetch(key, "whole front page", lambda: {}, pagecache.FRONT_KEY) == (page, True)
    whole = pagecache.cached_whole_page(key, "whole front page")
    assert whole.title == "T" and whole.body(b"P") == b"<p>frontP</p>"


def test_a_whole_page_stored_as_a_dict_before_is_still_served(stores):
    key = pagecache.whole_page_key(pagecache.post_key(uuid.uuid4()))
    pagecache.page_cache().set(key, {"html": "<p>old</p>", "title": "Old"})
    whole = pagecache.cached_whole_page(key, "whole post page")
    assert whole.title == "Old" and whole.body() == b"<p>old</p>"
    value, hit = pagecache.fetch(key, "whole post page", lambda: {"html": "new"}, key)
    assert value == {"html": "<p>old</p>", "title": "Old"} and hit


def test_anything_else_under_a_whole_page_key_is_rebuilt(stores):
    key = pagecache.whole_page_key(pagecache.FRONT_KEY)
    pagecache.page_cache().set(key, b"<garbage>")
    assert pagecache.cached_whole_page(key, "whole front page") is None
    value, hit = pagecache.fetch(key, "whole front page", lambda: {"html": "<p>new</p>"}, key)
    assert value == {"html": "<p>new</p>"} and not hit
    assert pagecache.cached_whole_page(key, "whole front page").body() == b"<p>new</p>"


def _store_whole_page(key, html):
    pagecache.page_cache().set(key, encode(html))


def test_a_whole_page_is_read_once_while_the_cache_hands_back_the_same_object(stores):
    key = pagecache.whole_page_key(pagecache.FRONT_KEY)
    _store_whole_page(key, "<p>v1<!--store-trace--></p>")
    first = pagecache.read_whole_page(key, "whole front page")
    again = pagecache.read_whole_page(key, "whole front page")
    assert first.body(b"P") == again.body(b"P") == b"<p>v1P</p>"
    # The embedded engine hands back its stored bytes; redis-py new ones.
    assert (again is first) is (stores == "memory")
    assert pagecache.page_cache().returns_stored_values is (stores == "memory")


def test_a_remembered_page_gives_way_to_a_new_one_under_its_key(stores):
    key = pagecache.whole_page_key(pagecache.FRONT_KEY)
    _store_whole_page(key, "<p>v1<!--store-trace--></p>")
    assert pagecache.read_whole_page(key, "x").body(b"") == b"<p>v1</p>"
    pagecache.invalidate_front()
    assert pagecache.read_whole_page(key, "x") is None
    _store_whole_page(key, "<p>v2<!--store-trace--></p>")
    assert pagecache.read_whole_page(key, "x").body(b"") == b"<p>v2</p>"


def test_locmem_pages_are_not_remembered(settings):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    key = pagecache.whole_page_key(pagecache.FRONT_KEY)
    _store_whole_page(key, "<p>local<!--store-trace--></p>")
    assert pagecache.read_whole_page(key, "x").body(b"") == b"<p>local</p>"
    assert key not in pagecache._read_pages


def test_the_whole_page_memo_is_bounded(stores, monkeypatch):
    monkeypatch.setattr(pagecache, "WHOLE_PAGE_MEMO_SIZE", 2)
    for index in range(5):
        key = pagecache.whole_page_key(pagecache.post_key(uuid.uuid4()))
        _store_whole_page(key, f"<p>{index}</p>")
        assert pagecache.read_whole_page(key, "x").body() == f"<p>{index}</p>".encode()
    assert len(pagecache._read_pages) <= 2
