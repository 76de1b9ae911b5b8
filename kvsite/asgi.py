"""ASGI entry point: HTTP through Django, WebSockets through Channels.

A signed-out visitor's cached front or post page is answered before Django
by ``blog.page_shortcut.CachedPageShortcut`` (same body, headers, panel and
view count as Django would give it); every other HTTP request goes to
Django unchanged.

Loading this module is server start-up, so it is also where the store
settings are checked for reachability: a wrong KV_URL or WIDE_URL stops the
server here with one clear message instead of failing inside a request.

It is also where the objects of start-up (Django, its apps, URL patterns,
templates' machinery: about 100k objects that live as long as the process)
are moved out of the garbage collector's sight with ``gc.freeze()``. Every
full collection would otherwise walk them all again: under load, daphne's
cyclic garbage triggers one every second or so, 40-95 ms each here
(bench/site.py's p99.9). ``KVSITE_GC_FREEZE=0`` leaves the collector alone.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvsite.settings")

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from blog.page_shortcut import CachedPageShortcut  # noqa: E402
from kvsite.routing import websocket_urlpatterns  # noqa: E402
from stores import clients  # noqa: E402

clients.check_reachable()


def freeze_startup_objects() -> None:
    """Collect start-up's garbage, then exempt what survives from later collections."""
    if os.environ.get("KVSITE_GC_FREEZE", "1") != "0":
        gc.collect()
        gc.freeze()


application = ProtocolTypeRouter(
    {
        "http": CachedPageShortcut(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

freeze_startup_objects()
