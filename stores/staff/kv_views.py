"""Staff pages for the key-value store, inside the Django admin."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.cache import caches
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from stores import clients
from stores.staff import kv_actions, kv_inspect
from stores.staff.access import staff_required, superuser_required
from stores.staff.unavailable import is_store_error, store_unavailable_as_503

MEMORY_SESSION_KEY = "stores_staff_memory_report"


def _context(request, title: str, **extra) -> dict:
    context = admin.site.each_context(request)
    context.update(title=title, kv_url=settings.KV_URL, kv_stores=_stores(request), **extra)
    return context


STORE_SESSION_KEY = "stores_staff_kv_store"
HANDLES = {"main": clients.kv, "pages": clients.kv_pages}
HANDLE_LABELS = {"main": "main (sessions, leaderboards, counters)", "pages": "page cache"}


def _store_name(request) -> str:
    """Return which handle the staff user looks at, switching on ?store=."""
    wanted = request.GET.get("store")
    if wanted in HANDLES:
        request.session[STORE_SESSION_KEY] = wanted
        return wanted
    name = request.session.get(STORE_SESSION_KEY, "main")
    return name if name in HANDLES else "main"


def _handle(request):
    return HANDLES[_store_name(request)]()


def _stores(request) -> list[tuple[str, str, bool]]:
    """Return the handles to choose from, when the page cache has a store of its own."""
    if clients.kv_pages() is clients.kv():
        return []
    current = _store_name(request)
    return [(name, HANDLE_LABELS[name], name == current) for name in HANDLES]


@staff_required
@store_unavailable_as_503("KV_URL")
def overview(request):
    """Show memory, keyspace, hit ratio, ops/s, clients and persistence, refreshed live."""
    data = kv_inspect.overview(_handle(request))
    if request.GET.get("format") == "json":
        return JsonResponse(data)
    return render(
        request, "admin/stores/kv/overview.html", _context(request, "Key-value store", stats=data)
    )


@staff_required
@store_unavailable_as_503("KV_URL")
def key_browser(request):
    """List keys page by page with SCAN, filtered by pattern and type."""
    match = request.GET.get("match", "").strip() or None
    type_ = request.GET.get("type", "").strip() or None
    if type_ not in (None, *kv_inspect.KEY_TYPES):
        type_ = None
    try:
        cursor = max(0, int(request.GET.get("cursor", "0")))
    except ValueError:
        cursor = 0
    next_cursor, rows = kv_inspect.scan_page(
        _handle(request), cursor=cursor, match=match, type_=type_
    )
    params = {k: v for k, v in (("match", match or ""), ("type", type_ or "")) if v}
    next_url = None
    if next_cursor:
        next_url = "?" + urlencode({**params, "cursor": next_cursor})
    context = _context(
        request,
        "Key browser",
        rows=rows,
        tree=kv_inspect.namespace_tree(rows),
        match=match or "",
        type=type_ or "",
        key_types=kv_inspect.KEY_TYPES,
        next_url=next_url,
        first_url="?" + urlencode(params) if cursor else None,
    )
    return render(request, "admin/stores/kv/keys.html", context)


def _cached_page_html(name: str) -> str | None:
    """Return the HTML held by a page-cache key, or None if the key is not one.

    The page cache's keys are Django cache keys (``prefix:version:key``); the
    value is read back through the cache itself, which knows its handle and
    serializer. A whole response (``cache_page``) gives its content; the
    blog's cached pages and fragments are dicts with an ``"html"`` entry.
    """
    cache = caches["default"]
    prefix = getattr(cache, "key_prefix", None)
    if prefix is None or not name.startswith(f"{prefix}:"):
        return None
    version, sep, raw = name[len(prefix) + 1 :].partition(":")
    if not (sep and version.isdigit()):
        return None
    value = cache.get(raw, version=int(version))
    content = getattr(value, "content", None)
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    if isinstance(value, dict) and isinstance(value.get("html"), str):
        return value["html"]
    return None


@staff_required
@store_unavailable_as_503("KV_URL")
def key_detail(request):
    """Show one key: type, TTL, memory, encoding and a page of its contents."""
    name = request.GET.get("key")
    if name is None:
        raise Http404("No key given.")
    key = kv_inspect.to_key(name)
    try:
        start = max(0, int(request.GET.get("start", "0")))
        cursor = max(0, int(request.GET.get("cursor", "0")))
    except ValueError:
        start = cursor = 0
    detail = kv_inspect.key_detail(_handle(request), key, start=start, cursor=cursor)
    if detail is None:
        raise Http404("No such key (it may have expired).")
    context = _context(
        request,
        f"Key {name}",
        detail=detail,
        key_name=name,
        cached_html=_cached_page_html(name),
        next_start=start + detail.page_size if start + detail.page_size < detail.length else None,
        prev_start=max(0, start - detail.page_size) if start else None,
    )
    return render(request, "admin/stores/kv/key.html", context)


@staff_required
@store_unavailable_as_503("KV_URL")
def memory(request):
    """Analyse memory by a bounded SCAN sample: biggest keys, prefixes, TTLs."""
    handle = _handle(request)
    if request.method == "POST" or request.GET.get("restart"):
        request.session[MEMORY_SESSION_KEY] = kv_inspect.MemoryReport().as_dict()
    data = request.session.get(MEMORY_SESSION_KEY)
    report = kv_inspect.MemoryReport.from_dict(data) if data else None
    step = request.GET.get("step")
    if step is not None or request.GET.get("run"):
        report = report or kv_inspect.MemoryReport()
        if step is not None:
            kv_inspect.memory_step(handle, report)
        else:
            while not report.done:
                kv_inspect.memory_step(handle, report)
        request.session[MEMORY_SESSION_KEY] = report.as_dict()
    dbsize = handle.dbsize()
    context = _context(
        request,
        "Memory analysis",
        report=report,
        dbsize=dbsize,
        sample_limit=kv_inspect.SAMPLE_LIMIT,
    )
    if request.GET.get("format") == "json":
        html = render(request, "admin/stores/kv/memory_report.html", context).content.decode()
        return JsonResponse(
            {
                "done": bool(report and report.done),
                "sampled": report.sampled if report else 0,
                "target": min(dbsize, kv_inspect.SAMPLE_LIMIT),
                "html": html,
            }
        )
    return render(request, "admin/stores/kv/memory.html", context)


@staff_required
@store_unavailable_as_503("KV_URL")
def slowlog(request):
    """Show the slow log."""
    entries = _handle(request).slowlog_get(128)
    return render(
        request, "admin/stores/kv/slowlog.html", _context(request, "Slow log", entries=entries)
    )


@staff_required
@store_unavailable_as_503("KV_URL")
def pubsub(request):
    """Show the active pub/sub channels with their subscriber counts."""
    handle = _handle(request)
    channels = sorted(handle.pubsub_channels())[:500]
    counts = handle.pubsub_numsub(*channels) if channels else []
    context = _context(
        request,
        "Pub/sub",
        channels=[(kv_inspect.text(c), n) for c, n in counts],
        patterns=handle.pubsub_numpat(),
    )
    return render(request, "admin/stores/kv/pubsub.html", context)


@staff_required
@store_unavailable_as_503("KV_URL")
@require_http_methods(["GET", "POST"])
def console(request):
    """Run read-only commands for staff, printed the way redis-cli prints them."""
    line = request.POST.get("command", "") if request.method == "POST" else ""
    output = error = None
    if request.method == "POST":
        try:
            args = kv_inspect.parse_console_line(line)
            output = kv_inspect.format_reply(_handle(request).execute_command(*args))
        except kv_inspect.ConsoleError as exc:
            error = str(exc)
        except Exception as exc:
            if is_store_error(exc):
                raise
            error = f"(error) {exc}"
    context = _context(
        request,
        "Console",
        line=line,
        output=output,
        error=error,
        allowed=sorted(kv_inspect.READONLY_COMMANDS),
    )
    return render(request, "admin/stores/kv/console.html", context)


ACTIONS = {
    "delete": ("Delete key", "Delete the key {key}? This cannot be undone."),
    "expire": ("Set TTL", "Set the key {key} to expire in {seconds} seconds?"),
    "persist": ("Clear TTL", "Remove the TTL of {key} so it never expires?"),
    "flush-page-cache": (
        "Flush the page cache",
        "Delete every cached page? Sessions and leaderboards stay.",
    ),
}


@superuser_required
@store_unavailable_as_503("KV_URL")
@require_http_methods(["GET", "POST"])
def action(request, name: str):
    """Confirm (GET) and then perform (POST) a change to the store."""
    if name not in ACTIONS:
        raise Http404("No such action.")
    source = request.POST if request.method == "POST" else request.GET
    key_name = source.get("key", "")
    seconds_text = source.get("seconds", "")
    if name != "flush-page-cache" and not key_name:
        raise Http404("No key given.")
    seconds = None
    if name == "expire":
        try:
            seconds = int(seconds_text)
            if seconds <= 0:
                raise ValueError
        except ValueError:
            messages.error(request, "The TTL must be a positive whole number of seconds.")
            return redirect(reverse("stores-staff:kv-key") + "?" + urlencode({"key": key_name}))
    label, question = ACTIONS[name]
    if request.method == "GET" or source.get("confirm") != "yes":
        context = _context(
            request,
            label,
            action=name,
            label=label,
            key_name=key_name,
            seconds=seconds,
            question=question.format(key=key_name, seconds=seconds),
        )
        return render(request, "admin/stores/kv/confirm.html", context)
    handle = _handle(request)
    key = kv_inspect.to_key(key_name)
    if name == "delete":
        done = kv_actions.delete_key(handle, key)
        messages.success(
            request, f"Deleted {key_name}." if done else f"{key_name} was already gone."
        )
        return redirect("stores-staff:kv-keys")
    if name == "expire":
        kv_actions.set_ttl(handle, key, seconds)
        messages.success(request, f"{key_name} now expires in {seconds} s.")
    elif name == "persist":
        kv_actions.clear_ttl(handle, key)
        messages.success(request, f"{key_name} no longer expires.")
    else:
        kv_actions.flush_page_cache()
        messages.success(
            request, "The page cache is empty; pages are rendered again on their next visit."
        )
        return redirect("stores-staff:kv")
    return redirect(reverse("stores-staff:kv-key") + "?" + urlencode({"key": key_name}))
