"""WSGI entry point (HTTP only; WebSockets need the ASGI application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kvsite.settings")

application = get_wsgi_application()

from stores import clients  # noqa: E402

clients.check_reachable()
