"""Serve a signed-out visitor's cached page before Django's request handling.

Owns ``CachedPageShortcut``, the ASGI application in front of Django's. A
``GET`` of the front page or of a post page, with no query string, no
session or messages cookie (so the visitor is signed out and has no
pending message), an allowed ``Host`` and no HTTPS redirect due, is
answered from the whole-page cache of ``blog.pagecache`` with the body,
headers and "What this page did" panel that Django's full path gives it,
and a post view is counted exactly as the view counts it
(``blog.view_counts``). Everything else, every cache miss and every store
error goes to Django unchanged, so this path can only serve what Django
would have served. It never stores a page and never reads a session.

Why it exists: Django's ASGI handler runs sync middleware and views in a
new thread per request (asgiref's per-request ``ThreadSensitiveContext``),
about 2-3 ms here, several times what a cached page costs. When every store
the answer touches is in this process (embedded key-value and wide-column
engines, ``KVCache`` or ``LocMemCache``), the answer runs on the event loop
itself, in tens of microseconds; with a network store (``redis://``,
``cassandra://``, Django's ``RedisCache``) it runs in a worker thread so the
loop never waits on a socket.

The shortcut stands in for the middleware of ``settings.MIDDLEWARE`` as
listed in ``REPLACED_MIDDLEWARE``; with any other middleware list, or with
``BLOG_PAGE_SHORTCUT = False`` (bench/site.py's "Django path"), it stands
aside and Django serves everything.
"""

from __future__ import annotations

import io
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.core.signals import setting_changed
from django.http import HttpResponse
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import reverse
from django.urls.converters import UUIDConverter
from django.utils.cache import patch_vary_headers

from blog import pagecache
from blog.middleware import panel_html
from blog.view_counts import count_view
from stores import clients, tracing

# What each middleware does to a signed-out GET of a cached page, and what
# the shortcut does in its place.
REPLACED_MIDDLEWARE = (
    # The trace and its panel: done here, around the lookup.
    "blog.middleware.StoreTraceMiddleware",
    # HTTPS redirect: such requests go to Django. Headers: applied here.
    "django.middleware.security.SecurityMiddleware",
    # Serves only STATIC_URL, which the two pages are not under.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # No session cookie: nothing loaded or saved; "Vary: Cookie" added here.
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Host checked here; Content-Length set here; no redirect for these paths.
    "django.middleware.common.CommonMiddleware",
    # A GET of a page with no CSRF token: nothing to check, no cookie to set.
    "django.middleware.csrf.CsrfViewMiddleware",
    # No session: the anonymous user.
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # No messages cookie and no session: no message to show or store.
    "django.contrib.messages.middleware.MessageMiddleware",
    # X-Frame-Options: applied here.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)

FRONT_WHOLE_KEY = pagecache.whole_page_key(pagecache.FRONT_KEY)
MESSAGES_COOKIE = "messages"
UUID_TEXT_LENGTH = 36


# Bounds the table of Host headers already checked against ALLOWED_HOSTS.
HOST_MEMO_SIZE = 64
# Bounds the tables of post paths already matched and their cache keys.
POST_MEMO_SIZE = 1024


@dataclass
class Plan:
    """What the shortcut serves under the current settings.

    Made again whenever a setting changes, so it also holds the settings
    every request reads (one attribute each instead of a lookup through
    ``django.conf.settings``) and the Host headers already checked.
    """

    enabled: bool
    front_path: str = ""
    post_prefix: str = ""
    post_suffix: str = ""
    in_loop: bool = False
    allowed_hosts: tuple[str, ...] = ()
    trace_panel: bool = True
    proxy_ssl_header: tuple[str, str] | None = None
    ssl_redirect: bool = False
    session_cookie: str = "sessionid"
    hosts: dict[bytes, bool] = field(default_factory=dict)
    posts: dict[str, tuple[str, uuid.UUID] | None] = field(default_factory=dict)


def _enabled() -> bool:
    return (
        getattr(settings, "BLOG_PAGE_SHORTCUT", True)
        and tuple(settings.MIDDLEWARE) == REPLACED_MIDDLEWARE
        and settings.BLOG_PAGE_CACHE_ENABLED
        and not settings.USE_X_FORWARDED_HOST
        and not settings.DISALLOWED_USER_AGENTS
        and not settings.PREPEND_WWW
        and settings.FORCE_SCRIPT_NAME is None
    )


def _in_process(cache) -> bool:
    """Return True if the cache and both stores live in this process (no socket to wait on)."""
    from django.core.cache.backends.locmem import LocMemCache

    from stores.cache import KVCache

    return (
        clients.kv_target().kind != "redis"
        and clients.wide_target().kind != "cassandra"
        and isinstance(cache, KVCache | LocMemCache)
    )


def make_plan() -> Plan:
    """Return the plan for the current settings."""
    if not _enabled():
        return Plan(enabled=False)
    zero = uuid.UUID(int=0)
    post_path = reverse("blog:post", args=[zero])
    prefix, suffix = post_path.split(str(zero))
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return Plan(
        enabled=True,
        front_path=reverse("blog:front"),
        post_prefix=prefix,
        post_suffix=suffix,
        in_loop=_in_process(pagecache.page_cache()),
        allowed_hosts=tuple(allowed),
        trace_panel=bool(settings.BLOG_TRACE_PANEL),
        proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER or None,
        ssl_redirect=bool(settings.SECURE_SSL_REDIRECT),
        session_cookie=settings.SESSION_COOKIE_NAME,
    )


def response_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    """Return the headers Django's middleware gives a signed-out cached page (no length)."""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "headers": [],
        "scheme": "https" if secure else "http",
    }
    request = ASGIRequest(scope, io.BytesIO())
    response = HttpResponse(b"")
    # SessionMiddleware: the view asked whether the visitor is signed in.
    patch_vary_headers(response, ("Cookie",))
    SecurityMiddleware(_never_called).process_response(request, response)
    XFrameOptionsMiddleware(_never_called).process_response(request, response)
    return [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in response.items()
        if name.lower() != "content-length"
    ]


def _never_called(request):
    raise AssertionError("the shortcut only borrows response processing")


_POST_ID = re.compile(UUIDConverter.regex)


def match_page(plan: Plan, path: str) -> tuple[str, uuid.UUID | None] | None:
    """Return ("front", None) or ("post", post_id) for a page the shortcut serves, else None."""
    if path == plan.front_path:
        return "front", None
    known = plan.posts.get(path, False)
    if known is not False:
        return known
    page = _match_post(plan, path)
    if len(plan.posts) >= POST_MEMO_SIZE:
        plan.posts.clear()
    plan.posts[path] = page
    return page


def _match_post(plan: Plan, path: str) -> tuple[str, uuid.UUID] | None:
    if not path.startswith(plan.post_prefix) or not path.endswith(plan.post_suffix):
        return None
    text = path[len(plan.post_prefix) : len(path) - len(plan.post_suffix)]
    if len(text) != UUID_TEXT_LENGTH or not _is_uuid_text(text):
        return None
    return "post", uuid.UUID(text)


def _is_uuid_text(text: str) -> bool:
    return _POST_ID.fullmatch(text) is not None


def _is_secure(plan: Plan, scope, headers: dict[bytes, bytes]) -> bool | None:
    """Return whether Django would see the request as HTTPS; None if unsure."""
    proxy = plan.proxy_ssl_header
    if proxy:
        name, secure_value = proxy
        if not name.startswith("HTTP_"):
            return None
        value = headers.get(name[5:].lower().replace("_", "-").encode("latin-1"))
        if value is not None:
            return value.decode("latin-1").split(",", 1)[0].strip() == secure_value
    return scope.get("scheme") == "https"


def signed_out_request(plan: Plan, scope) -> bool | None:
    """Return the request's "secure" flag if the shortcut may answer it, else None."""
    if scope.get("root_path"):
        return None
    headers: dict[bytes, bytes] = {}
    for name, value in scope.get("headers", ()):
        if b"_" in name or name in headers:
            # Django reads both "a-b" and "a_b" as HTTP_A_B, and joins
            # repeated headers: leave such requests to it.
            return None
        headers[name] = value
    host = headers.get(b"host")
    if host is None or not _host_allowed(plan, host):
        return None
    cookie = headers.get(b"cookie")
    if cookie is not None:
        cookies = parse_cookie(cookie.decode("latin-1"))
        if plan.session_cookie in cookies or MESSAGES_COOKIE in cookies:
            return None
    secure = _is_secure(plan, scope, headers)
    if secure is None or (plan.ssl_redirect and not secure):
        return None
    return secure


def _host_allowed(plan: Plan, host: bytes) -> bool:
    """Return True if Django would accept this Host header (remembered per header)."""
    allowed = plan.hosts.get(host)
    if allowed is None:
        domain, _ = split_domain_port(host.decode("latin-1"))
        allowed = bool(domain) and validate_host(domain, plan.allowed_hosts)
        if len(plan.hosts) >= HOST_MEMO_SIZE:
            plan.hosts.clear()
        plan.hosts[host] = allowed
    return allowed


@lru_cache(maxsize=POST_MEMO_SIZE)
def _post_whole_key(post_id: uuid.UUID) -> str:
    return pagecache.whole_page_key(pagecache.post_key(post_id))


def answer(kind: str, post_id: uuid.UUID | None, panel: bool = True) -> bytes | None:
    """Return the page's HTML (with its panel if asked), counting a post view; None for Django.

    The caller has checked that the page cache is enabled (``Plan``).
    """
    with tracing.tracing() as trace:
        if kind == "front":
            key, what = FRONT_WHOLE_KEY, "whole front page"
        else:
            key, what = _post_whole_key(post_id), "whole post page"
        try:
            page = pagecache.read_whole_page(key, what)
            if page is None:
                return None
            if kind == "post":
                count_view(post_id, page.title)
        except Exception:
            # Django runs the request again and shows the store's 503 page.
            # Should the wide-column counter have been bumped before the
            # key-value store failed, that view is counted twice: the price
            # of leaving every error page to Django.
            return None
        if panel and page.marker is not None:
            return page.body(panel_html(trace))
    return page.body()


class CachedPageShortcut:
    """ASGI application: cached pages for signed-out visitors, everything else to ``app``."""

    def __init__(self, app):
        self.app = app
        self._plan: Plan | None = None
        self._headers: dict[bool, list[tuple[bytes, bytes]]] = {}
        setting_changed.connect(self._forget_plan, weak=False)

    def _forget_plan(self, **kwargs) -> None:
        self._plan = None
        self._headers = {}

    def plan(self) -> Plan:
        """Return the plan, made on first use (URLs and settings are ready by then)."""
        plan = self._plan
        if plan is None:
            plan = self._plan = make_plan()
        return plan

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] == "http"
            and scope.get("method") == "GET"
            and not scope.get("query_string")
        ):
            answered = await self._answer(scope)
            if answered is not None:
                body, secure = answered
                headers = self._headers.get(secure)
                if headers is None:
                    headers = self._headers[secure] = response_headers(secure)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [*headers, (b"content-length", str(len(body)).encode())],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope) -> tuple[bytes, bool] | None:
        plan = self.plan()
        if not plan.enabled:
            return None
        page = match_page(plan, scope["path"])
        if page is None:
            return None
        secure = signed_out_request(plan, scope)
        if secure is None:
            return None
        if plan.in_loop:
            body = answer(*page, plan.trace_panel)
        else:
            body = await sync_to_async(answer, thread_sensitive=False)(*page, plan.trace_panel)
        return None if body is None else (body, secure)
