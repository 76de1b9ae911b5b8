"""The blog's pages on the embedded stores and on a real Redis."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from blog import pagecache
from blog.repositories import repository

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(stores):
    repo = repository()
    post = repo.create_post(
        title="Caching <b>pages</b>", body="Some **bold** text.", author="grace", tags=["redis"]
    )
    return post


def _comments_section(html: str) -> str:
    return html.split('id="comments"', 1)[1].split('class="comment-form"', 1)[0]


def test_front_page_lists_posts_with_counts(client, post):
    repository().add_comment(post, author="ada", body="first!")
    pagecache.invalidate_front()
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "See Redis and Cassandra at work" in html
    assert "Caching &lt;b&gt;pages&lt;/b&gt;" in html
    assert "1 comment" in html
    assert "<li>redis</li>" in html
    assert reverse("blog:post", args=[post.post_id]) in html


def test_front_page_second_visit_is_a_cache_hit(client, post):
    first = client.get("/").content.decode()
    second = client.get("/").content.decode()
    assert "page cache miss" in first
    assert "page cache hit" in second
    assert "posts_by_day" not in second.split('id="store-trace"')[1]


def test_front_page_pages_with_signed_cursor(client, stores):
    repo = repository()
    for i in range(13):
        repo.create_post(title=f"Numbered {i:02d}", body="b", author="a", tags=[])
    first = client.get("/").content.decode()
    match = re.search(r'href="\?after=([^"]+)"', first)
    assert match
    second = client.get("/?after=" + match.group(1)).content.decode()
    titles_first = set(re.findall(r"Numbered \d\d", first))
    titles_second = set(re.findall(r"Numbered \d\d", second))
    assert len(titles_first) == 10 and len(titles_second) == 3
    assert not titles_first & titles_second


@pytest.mark.parametrize("after", ["garbage", "a:b:c", ""])
def test_bad_front_cursor_is_404_or_first_page(client, stores, after):
    response = client.get("/", {"after": after})
    assert response.status_code == (200 if after == "" else 404)


def test_post_page_renders_markdown_and_escapes_title(client, post):
    response = client.get(reverse("blog:post", args=[post.post_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>bold</strong>" in html
    assert "Caching &lt;b&gt;pages&lt;/b&gt;" in html
    assert "Sign in</a> to comment" in html


def test_unknown_and_malformed_post_ids_are_404(client, stores):
    assert client.get(f"/posts/{uuid.uuid4()}/").status_code == 404
    assert client.get("/posts/not-a-uuid/").status_code == 404
    assert client.get("/posts/12345/").status_code == 404
    assert client.get(f"/posts/{uuid.uuid4()}/?after=xyz").status_code == 404


def test_anonymous_cannot_comment(client, post):
    url = reverse("blog:add_comment", args=[post.post_id])
    response = client.post(url, {"body": "hi"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert repository().comments(post.post_id, 5).items == []


def test_comment_shows_on_the_very_next_request(client, reader, post):
    client.force_login(reader)
    url = reverse("blog:post", args=[post.post_id])
    client.get(url)
    assert "page cache hit" in client.get(url).content.decode()
    response = client.post(
        reverse("blog:add_comment", args=[post.post_id]),
        {"body": "Fresh <script>alert(1)</script>"},
    )
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "page cache miss" in html
    comments = _comments_section(html)
    assert "Fresh &lt;script&gt;alert(1)&lt;/script&gt;" in comments
    assert "<script>alert(1)" not in html
    assert "1 comment" in comments
    front = client.get("/").content.decode()
    assert "1 comment" in front


@pytest.mark.parametrize(
    "body, message", [("   ", "required"), ("", "required"), ("x" * 2001, "at most 2000")]
)
def test_bad_comments_give_form_errors(client, reader, post, body, message):
    client.force_login(reader)
    response = client.post(reverse("blog:add_comment", args=[post.post_id]), {"body": body})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert repository().comments(post.post_id, 5).items == []


def test_comment_on_unknown_post_is_404(client, reader, stores):
    client.force_login(reader)
    assert client.post(f"/posts/{uuid.uuid4()}/comments/", {"body": "x"}).status_code == 404


def test_comment_rate_limit(client, reader, post, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = (2, 60)
    client.force_login(reader)
    url = reverse("blog:add_comment", args=[post.post_id])
    assert client.post(url, {"body": "one"}).status_code == 302
    assert client.post(url, {"body": "two"}).status_code == 302
    refused = client.post(url, {"body": "three"})
    assert refused.status_code == 429
    assert "commenting too fast" in refused.content.decode()
    assert len(repository().comments(post.post_id, 5).items) == 2


def test_csrf_is_enforced(reader, post):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    response = client.post(reverse("blog:add_comment", args=[post.post_id]), {"body": "hi"})
    assert response.status_code == 403
    page = client.get(reverse("blog:post", args=[post.post_id])).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page


def test_history_needs_sign_in_and_lists_views_newest_first(client, reader, stores):
    assert client.get("/history/").status_code == 302
    repo = repository()
    a = repo.create_post(title="Alpha", body="a", author="g", tags=[])
    b = repo.create_post(title="Beta", body="b", author="g", tags=[])
    client.force_login(reader)
    client.get(reverse("blog:post", args=[a.post_id]))
    client.get(reverse("blog:post", args=[b.post_id]))
    client.get(reverse("blog:post", args=[b.post_id]))
    html = client.get("/history/").content.decode()
    assert html.index("Beta") < html.index("Alpha")
    assert html.count("Beta</a>") == 2
    assert "expires in" in html


def test_users_see_only_their_own_history(client, reader, django_user_model, stores):
    other = django_user_model.objects.create_user("bob", password="pw-for-tests-3")
    post = repository().create_post(title="Private-ish", body="b", author="g", tags=[])
    client.force_login(other)
    client.get(reverse("blog:post", args=[post.post_id]))
    client.force_login(reader)
    assert "Private-ish" not in client.get("/history/").content.decode()


def test_staff_write_and_edit_post(client, editor, stores):
    client.force_login(editor)
    response = client.post(
        "/posts/new/",
        {"title": "  New   post ", "body": "Hello *world*", "tags": "Redis, redis, ttl"},
    )
    assert response.status_code == 302
    post_url = response["Location"]
    html = client.get(post_url).content.decode()
    assert "New post" in html and "<em>world</em>" in html
    assert "New post" in client.get("/").content.decode()
    post_id = uuid.UUID(post_url.rstrip("/").split("/")[-1])
    assert repository().get_post(post_id).tags == ["redis", "ttl"]
    client.get(post_url)
    response = client.post(
        f"/posts/{post_id}/edit/", {"title": "Renamed", "body": "Changed", "tags": ""}
    )
    assert response.status_code == 302
    html = client.get(post_url).content.decode()
    assert "Renamed" in html and "Changed" in html
    assert "Renamed" in client.get("/").content.decode()


def test_non_staff_cannot_write(client, reader, post):
    assert client.get("/posts/new/").status_code == 302
    client.force_login(reader)
    assert client.get("/posts/new/").status_code == 403
    assert (
        client.post(f"/posts/{post.post_id}/edit/", {"title": "x", "body": "y"}).status_code == 403
    )
    assert repository().get_post(post.post_id).title == post.title


def test_post_form_errors(client, editor, stores):
    client.force_login(editor)
    response = client.post(
        "/posts/new/", {"title": " ", "body": "", "tags": ",".join(f"t{i}" for i in range(9))}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "This field is required" in html or "needs a title" in html
    assert "At most 8 tags" in html


def test_sign_up_sign_in_sign_out(client, stores):
    response = client.post(
        "/accounts/signup/",
        {"username": "newbie", "password1": "a-Long-pass-9876", "password2": "a-Long-pass-9876"},
    )
    assert response.status_code == 302
    assert "newbie" in client.get("/").content.decode()
    client.post("/accounts/logout/")
    assert "Sign in" in client.get("/").content.decode()
    response = client.post(
        "/accounts/login/", {"username": "newbie", "password": "a-Long-pass-9876"}
    )
    assert response.status_code == 302
    assert "newbie" in client.get("/history/").content.decode()


def test_session_lives_in_the_main_store_not_the_page_cache(client, reader, stores):
    from stores import clients

    client.force_login(reader)
    key = client.cookies["sessionid"].value
    main_keys = [
        k.decode() if isinstance(k, bytes) else k for k in clients.kv().scan_iter(match="session:*")
    ]
    assert any(key in k for k in main_keys)
    if stores == "memory":
        page_keys = list(clients.kv_pages().scan_iter(match="session:*"))
        assert page_keys == []


def test_compare_page_links_to_live_examples(client, stores):
    html = client.get("/redis-or-cassandra/").content.decode()
    assert "When to use" in html
    assert 'href="/history/"' in html
    assert "when would you use redis vs cassandra" in html.lower()


def test_signed_out_visitors_get_the_whole_page_from_cache_until_it_changes(client, reader, post):
    url = reverse("blog:post", args=[post.post_id])
    client.get(url)
    cached = client.get(url).content.decode()
    assert "page cache hit" in cached and "whole post page" in cached
    assert "FROM blog.posts WHERE" not in cached.split('id="store-trace"')[1]
    commenter = Client()
    commenter.force_login(reader)
    commenter.post(reverse("blog:add_comment", args=[post.post_id]), {"body": "news for everyone"})
    fresh = client.get(url).content.decode()
    assert "news for everyone" in fresh
    assert "page cache miss" in fresh
    assert "1 comment" in client.get("/").content.decode()


def test_whole_page_cache_holds_no_csrf_token_or_user(client, reader, post):
    url = reverse("blog:post", args=[post.post_id])
    client.get(url)
    html = client.get(url).content.decode()
    assert "csrfmiddlewaretoken" not in html
    signed_in = Client()
    signed_in.force_login(reader)
    mine = signed_in.get(url).content.decode()
    assert "Sign out" in mine and 'name="csrfmiddlewaretoken"' in mine
    assert "Sign out" not in client.get(url).content.decode()


def test_older_comments_page_through_the_signed_cursor(client, post):
    repo = repository()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(25):
        repo.add_comment(
            post,
            author="ada",
            body=f"comment number {i:02d}",
            created_at=start + timedelta(minutes=i),
        )
    pagecache.invalidate_post(post.post_id)
    url = reverse("blog:post", args=[post.post_id])
    first = client.get(url).content.decode()
    assert "comment number 24" in first and "comment number 04" not in first
    token = re.search(r'href="\?after=([^"#]+)#comments"', first).group(1)
    older = client.get(url + "?after=" + token).content.decode()
    assert "Older comments" in older and "Back to the post" in older
    assert re.findall(r"comment number (\d\d)", older) == [f"{i:02d}" for i in range(4, -1, -1)]
    other = repo.create_post(title="Other", body="b", author="a", tags=[])
    assert (
        client.get(reverse("blog:post", args=[other.post_id]) + "?after=" + token).status_code
        == 404
    )


def test_history_pages_with_a_cursor_bound_to_its_user(client, reader, django_user_model, stores):
    repo = repository()
    post = repo.create_post(title="Often read", body="b", author="g", tags=[])
    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(23):
        repo.record_view(
            reader.pk, post.post_id, f"view {i:02d}", 3600, viewed_at=start + timedelta(seconds=i)
        )
    client.force_login(reader)
    first = client.get("/history/").content.decode()
    assert re.findall(r"view (\d\d)</a>", first) == [f"{i:02d}" for i in range(22, 2, -1)]
    token = re.search(r'href="\?after=([^"]+)"', first).group(1)
    second = client.get("/history/?after=" + token).content.decode()
    assert re.findall(r"view (\d\d)</a>", second) == ["02", "01", "00"]
    other = django_user_model.objects.create_user("eve", password="pw-for-tests-4")
    client.force_login(other)
    assert client.get("/history/?after=" + token).status_code == 404
