"""Per-request store trace: the "What this page did" panel and the 503 page.

Owns the request's ``stores.tracing.Trace``: made active before anything
else runs (so session loads and saves are included), rendered into the
page's ``<!--store-trace-->`` marker after everything else has run, and
consulted when a view raises, so that an error that came out of a store
becomes a 503 page naming the store instead of a traceback.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from blog.trace_panel import render_panel_bytes
from stores import clients, tracing

MARKER = b"<!--store-trace-->"
STORE_NAMES = {"kv": "key-value store", "wide": "wide-column store"}

logger = logging.getLogger("blog.stores")


def _description(build) -> str:
    try:
        return getattr(build(), "trace_description", "")
    except Exception:
        return "unavailable"


_described: tuple = ()


def store_descriptions() -> dict[str, str]:
    """Return what each store handle is (keys ``kv``, ``pages``, ``wide``), for the panel.

    Worked out once per set of handles: ``stores.clients.reset()`` replaces
    them all at once, so while ``kv()`` is the handle they were worked out
    with, they still hold (and holding it keeps its identity from reuse).
    """
    global _described
    memo = _described
    try:
        main = clients.kv()
    except Exception:
        main = None
    if memo and main is not None and memo[0] is main:
        return memo[1]
    descriptions = {
        "kv": _description(clients.kv),
        "pages": _description(clients.kv_pages),
        "wide": _description(clients.wide),
    }
    if main is not None and "unavailable" not in descriptions.values():
        _described = (main, descriptions)
    return descriptions


def failed_store(trace: tracing.Trace) -> str:
    """Return the name of the store whose command failed last."""
    for event in reversed(trace.events):
        if event.failed:
            return STORE_NAMES.get(event.store, event.store)
    return "data store"


def panel_html(trace: tracing.Trace) -> bytes:
    """Return the trace's "What this page did" panel, to put in place of the marker."""
    total_ms = (time.perf_counter() - trace.started) * 1000
    return render_panel_bytes(trace, total_ms, store_descriptions())


def insert_panel(content: bytes, trace: tracing.Trace) -> bytes:
    """Return an HTML page with its trace marker replaced by the trace's panel."""
    return content.replace(MARKER, panel_html(trace), 1)


class StoreTraceMiddleware:
    """Trace every request's store commands; show them on HTML pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with tracing.tracing() as trace:
            request.store_trace = trace
            response = self.get_response(request)
            if (
                settings.BLOG_TRACE_PANEL
                and not response.streaming
                and response.get("Content-Type", "").startswith("text/html")
                and MARKER in response.content
            ):
                self._insert_panel(request, response, trace)
        return response

    def _insert_panel(self, request, response, trace: tracing.Trace) -> None:
        response.content = insert_panel(response.content, trace)
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))

    def process_exception(self, request, exception):
        trace = getattr(request, "store_trace", None)
        if trace is None or not trace.is_store_error(exception):
            return None
        store = failed_store(trace)
        logger.error("store error on %s: %s", request.path, exception, exc_info=exception)
        from django.shortcuts import render

        detail = str(exception)[:300] if settings.DEBUG else ""
        response = render(
            request,
            "503.html",
            {"store": store, "error": exception.__class__.__name__, "detail": detail},
            status=503,
        )
        response["Retry-After"] = "30"
        return response
