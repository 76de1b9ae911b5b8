"""The leaderboard page: boards rendered on the server, then kept live.

The page works with JavaScript off (it is a plain rendered page); with
JavaScript on, static/js/leaderboard.js opens /ws/leaderboard/ and moves the
rows as views and comments happen anywhere on the site.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from blog import leaderboard


def _post_url(member: str) -> str | None:
    try:
        return reverse("blog:post", kwargs={"post_id": member})
    except NoReverseMatch:
        return None


SAMPLE_POST_ID = "00000000-0000-4000-8000-000000000000"


def _post_url_template() -> str:
    """Return the post URL with ``{id}`` where the post id goes, or ""."""
    url = _post_url(SAMPLE_POST_ID)
    return url.replace(SAMPLE_POST_ID, "{id}") if url else ""


def page(request: HttpRequest) -> HttpResponse:
    """Render the current boards."""
    snapshot = leaderboard.snapshot()
    boards = []
    for board, data in zip(leaderboard.BOARDS, snapshot["boards"], strict=True):
        entries = []
        for entry in data["entries"]:
            url = _post_url(entry["member"]) if board.labelled else None
            entries.append({**entry, "url": url})
        boards.append({**data, "entries": entries})
    context = {
        "boards": boards,
        "version": snapshot["version"],
        "simulate": simulation_allowed(),
        "post_url_template": _post_url_template(),
    }
    return render(request, "blog/leaderboard.html", context)


def simulation_allowed() -> bool:
    """Return True when the page may offer its "simulate a view" form."""
    return bool(getattr(settings, "LEADERBOARD_SIMULATE", settings.DEBUG))


@require_POST
def simulate(request: HttpRequest) -> HttpResponse:
    """Record a made-up view or comment, so a visitor can watch the boards move.

    Only offered in development (DEBUG, or LEADERBOARD_SIMULATE = True).
    """
    if not simulation_allowed():
        raise Http404("simulation is off")
    kind = request.POST.get("kind", "view")
    member = request.POST.get("member", "").strip()
    try:
        if kind == "comment":
            leaderboard.record_comment(member or "demo-reader")
        elif kind == "view":
            title = request.POST.get("title", "").strip() or f"Demo post {member}"
            leaderboard.record_view(member or "demo-post", title)
        else:
            return HttpResponse("kind must be view or comment", status=400)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400)
    return redirect(request.path.rsplit("simulate/", 1)[0] or "/")
