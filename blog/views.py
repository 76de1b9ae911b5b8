"""Views of the demo blog.

Each view reads and writes posts, comments and history through
``blog.repositories`` (wide-column), keeps the parts of a page that are the
same for everyone in ``blog.pagecache`` (key-value, via Django's cache) and
counts comment attempts with ``blog.ratelimit`` (key-value). Per-visitor parts
(the header, the comment form and its CSRF token, the trace panel) are never
cached. A signed-out visitor's repeat visit to the front page or a post page
is usually answered before these views run, by ``blog.page_shortcut``, from
the same whole-page cache entries they fill.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from blog import leaderboard, pagecache, ratelimit
from blog.forms import CommentForm, PostForm, SignUpForm
from blog.rendering import render_markdown
from blog.repositories import FrontCursor, repository
from blog.view_counts import count_view

CURSOR_SALT = "blog.cursor"
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# Cursors: the store's paging state travels in the URL, signed so that only
# states this site handed out ever reach the store.


def encode_cursor(kind: str, payload: list) -> str:
    """Return a signed, URL-safe cursor."""
    return signing.dumps([kind, *payload], salt=CURSOR_SALT, compress=True)


def decode_cursor(kind: str, token: str) -> list:
    """Return a cursor's payload; raise Http404 if it is not one of ours."""
    try:
        value = signing.loads(token, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise Http404("No such page.") from None
    if not isinstance(value, list) or not value or value[0] != kind:
        raise Http404("No such page.")
    return value[1:]


def _state_out(state: bytes | None) -> str | None:
    return base64.urlsafe_b64encode(state).decode() if state else None


def _state_in(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return base64.urlsafe_b64decode(text.encode())
    except (binascii.Error, ValueError):
        raise Http404("No such page.") from None


def _front_cursor(token: str | None) -> FrontCursor | None:
    if not token:
        return None
    payload = decode_cursor("front", token)
    if len(payload) != 2 or not isinstance(payload[0], str) or not DAY.match(payload[0]):
        raise Http404("No such page.")
    return FrontCursor(payload[0], _state_in(payload[1]))


def _front_next(cursor: FrontCursor | None) -> str | None:
    if cursor is None:
        return None
    return encode_cursor("front", [cursor.day, _state_out(cursor.paging_state)])


def _build_front(cursor: FrontCursor | None) -> dict:
    page = repository().latest_posts(settings.BLOG_POSTS_PER_PAGE, cursor)
    html = render_to_string("blog/_post_list.html", {"posts": page.items})
    return {"html": html, "next": _front_next(page.next_cursor), "count": len(page.items)}


def _whole_page_cacheable(request) -> bool:
    """Return True if this visitor gets exactly what every signed-out visitor gets."""
    return (
        request.method == "GET"
        and "messages" not in request.COOKIES
        and not request.user.is_authenticated
    )


def front(request):
    """List the latest posts, newest first; the first page comes from the page cache.

    Signed-out visitors get the whole first page from the cache; signed-in
    ones get the shared list from the cache inside their own header.
    """
    token = request.GET.get("after")
    cursor = _front_cursor(token)
    if cursor is None and _whole_page_cacheable(request):

        def build_page() -> dict:
            context = {"fragment": _build_front(None), "first_page": True}
            return {"html": render_to_string("blog/front.html", context, request)}

        page, _ = pagecache.fetch(
            pagecache.whole_page_key(pagecache.FRONT_KEY),
            "whole front page",
            build_page,
            pagecache.FRONT_KEY,
        )
        return HttpResponse(page["html"])
    if cursor is None:
        fragment, hit = pagecache.fetch(
            pagecache.FRONT_KEY, "front page", lambda: _build_front(None), pagecache.FRONT_KEY
        )
    else:
        fragment, hit = _build_front(cursor), False
    return render(
        request,
        "blog/front.html",
        {"fragment": fragment, "cache_hit": hit, "first_page": cursor is None},
    )


def _build_post(post_id: uuid.UUID) -> dict | None:
    repo = repository()
    post = repo.get_post(post_id)
    if post is None:
        return None
    comments = repo.comments(post_id, settings.BLOG_COMMENTS_PER_PAGE)
    comment_count = repo.stats(post_id)[0]
    html = render_to_string(
        "blog/_post_body.html",
        {
            "post": post,
            "body_html": render_markdown(post.body),
            "comments": comments.items,
            "comment_count": comment_count,
            "next": _comments_next(post_id, comments.next_cursor),
        },
    )
    return {"html": html, "title": post.title, "author": post.author}


def _comments_next(post_id: uuid.UUID, state: bytes | None) -> str | None:
    if not state:
        return None
    return encode_cursor("comments", [str(post_id), _state_out(state)])


def post_detail(request, post_id: uuid.UUID):
    """Show a post and its comments; record the view in the reader's history."""
    repo = repository()
    token = request.GET.get("after")
    if not token and _whole_page_cacheable(request):
        return _anonymous_post(request, post_id)
    if token:
        payload = decode_cursor("comments", token)
        if len(payload) != 2 or payload[0] != str(post_id):
            raise Http404("No such page.")
        post = repo.get_post(post_id)
        if post is None:
            raise Http404("No such post.")
        comments = repo.comments(post_id, settings.BLOG_COMMENTS_PER_PAGE, _state_in(payload[1]))
        fragment = {
            "html": render_to_string(
                "blog/_older_comments.html",
                {
                    "post": post,
                    "comments": comments.items,
                    "next": _comments_next(post_id, comments.next_cursor),
                },
            ),
            "title": post.title,
            "author": post.author,
        }
        hit = False
    else:
        source = pagecache.post_key(post_id)
        fragment, hit = pagecache.fetch(source, "post page", lambda: _build_post(post_id), source)
        if fragment is None:
            raise Http404("No such post.")
    form = CommentForm()
    return _render_post(request, post_id, fragment, hit, form, status=200, first_page=not token)


def _anonymous_post(request, post_id: uuid.UUID):
    def build_page() -> dict | None:
        fragment = _build_post(post_id)
        if fragment is None:
            return None
        context = {"post_id": post_id, "fragment": fragment, "first_page": True, "can_edit": False}
        return {
            "html": render_to_string("blog/post.html", context, request),
            "title": fragment["title"],
        }

    source = pagecache.post_key(post_id)
    page, _ = pagecache.fetch(
        pagecache.whole_page_key(source), "whole post page", build_page, source
    )
    if page is None:
        raise Http404("No such post.")
    count_view(post_id, page.get("title"))
    return HttpResponse(page["html"])


def _render_post(request, post_id, fragment, hit, form, status, first_page=True):
    count_view(post_id, fragment["title"])
    if request.user.is_authenticated:
        repository().record_view(
            request.user.pk, post_id, fragment["title"], settings.BLOG_HISTORY_TTL_SECONDS
        )
    return render(
        request,
        "blog/post.html",
        {
            "post_id": post_id,
            "fragment": fragment,
            "cache_hit": hit,
            "form": form,
            "first_page": first_page,
            "can_edit": request.user.is_staff,
        },
        status=status,
    )


@require_http_methods(["POST"])
def add_comment(request, post_id: uuid.UUID):
    """Add a signed-in user's comment, then show the post with it."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("blog:post", args=[post_id]))
    repo = repository()
    post = repo.get_post(post_id)
    if post is None:
        raise Http404("No such post.")
    form = CommentForm(request.POST)
    if form.is_valid():
        limit, window = settings.BLOG_COMMENT_RATE_LIMIT
        allowed, retry_after = ratelimit.hit("comment", str(request.user.pk), limit, window)
        if allowed:
            repo.add_comment(
                post, author=request.user.get_username(), body=form.cleaned_data["body"]
            )
            leaderboard.record_comment(request.user.get_username())
            pagecache.invalidate_post(post_id)
            messages.success(request, "Your comment is posted.")
            return redirect(reverse("blog:post", args=[post_id]) + "#comments")
        form.add_error(
            None,
            f"You are commenting too fast: at most {limit} comments per {window} seconds. "
            f"Try again in {retry_after} seconds.",
        )
        status = 429
    else:
        status = 400
    source = pagecache.post_key(post_id)
    fragment, hit = pagecache.fetch(source, "post page", lambda: _build_post(post_id), source)
    if fragment is None:
        raise Http404("No such post.")
    return _render_post(request, post_id, fragment, hit, form, status=status)


def _staff_only(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.user.is_staff:
        raise PermissionDenied("Only staff can write posts.")
    return None


def post_create(request):
    """Write a new post (staff)."""
    denied = _staff_only(request)
    if denied:
        return denied
    form = PostForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        post = repository().create_post(
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            author=request.user.get_username(),
            tags=form.cleaned_data["tags"],
        )
        pagecache.invalidate_front()
        messages.success(request, "Post published.")
        return redirect("blog:post", post_id=post.post_id)
    return render(request, "blog/post_form.html", {"form": form, "editing": False})


def post_edit(request, post_id: uuid.UUID):
    """Edit a post (staff); the cached pages that show it are dropped at once."""
    denied = _staff_only(request)
    if denied:
        return denied
    repo = repository()
    post = repo.get_post(post_id)
    if post is None:
        raise Http404("No such post.")
    if request.method == "POST":
        form = PostForm(request.POST)
        if form.is_valid():
            repo.update_post(
                post,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                tags=form.cleaned_data["tags"],
            )
            pagecache.invalidate_post(post_id)
            messages.success(request, "Post updated.")
            return redirect("blog:post", post_id=post_id)
    else:
        form = PostForm(
            initial={"title": post.title, "body": post.body, "tags": ", ".join(post.tags)}
        )
    return render(request, "blog/post_form.html", {"form": form, "editing": True, "post": post})


@login_required
def history(request):
    """Show the signed-in user's recently viewed posts, newest first."""
    token = request.GET.get("after")
    state = None
    if token:
        payload = decode_cursor("history", token)
        if len(payload) != 2 or payload[0] != request.user.pk:
            raise Http404("No such page.")
        state = _state_in(payload[1])
    page = repository().history(request.user.pk, settings.BLOG_COMMENTS_PER_PAGE, state)
    next_token = (
        encode_cursor("history", [request.user.pk, _state_out(page.next_cursor)])
        if page.next_cursor
        else None
    )
    return render(
        request,
        "blog/history.html",
        {
            "entries": page.items,
            "next": next_token,
            "ttl_days": settings.BLOG_HISTORY_TTL_SECONDS // 86400,
        },
    )


def compare(request):
    """Explain when to use Redis and when to use Cassandra, from what this site does."""
    return render(
        request, "blog/compare.html", {"ttl_days": settings.BLOG_HISTORY_TTL_SECONDS // 86400}
    )


def signup(request):
    """Create an account and sign in."""
    if request.user.is_authenticated:
        return redirect("blog:front")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        messages.success(request, f"Welcome, {user.get_username()}.")
        return redirect("blog:front")
    return render(request, "registration/signup.html", {"form": form})


def server_error(request):
    """Render the 500 page, or the 503 page when a store failed."""
    import sys

    from blog.middleware import failed_store

    exc = sys.exc_info()[1]
    trace = getattr(request, "store_trace", None)
    if exc is not None and trace is not None and trace.is_store_error(exc):
        html = render_to_string("503.html", {"store": failed_store(trace)})
        return HttpResponse(html, status=503)
    return HttpResponse(render_to_string("500.html"), status=500)
