"""Views of the demo blog."""

from django.conf import settings
from django.shortcuts import render


def home(request):
    """Render the front page."""
    context = {"kv_url": settings.KV_URL, "wide_url": settings.WIDE_URL}
    return render(request, "blog/home.html", context)
