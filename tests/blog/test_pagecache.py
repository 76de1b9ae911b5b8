"""Page-cache invalidation, including a comment landing while a page is being built."""

import uuid

from blog import pagecache


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
