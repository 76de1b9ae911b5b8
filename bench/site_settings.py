"""Settings for bench/site.py's "Django path" configuration: the site's, without the shortcut.

Cached pages then go through Django's ASGI handler, middleware and view, as
they did before blog.page_shortcut existed, so one run shows what the
shortcut saves.
"""

from kvsite.settings import *  # noqa: F403

BLOG_PAGE_SHORTCUT = False
