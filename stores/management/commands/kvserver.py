"""``manage.py kvserver``: run the key-value RESP server with the site's data.

The options are ``python -m stores.kv``'s. Without ``--dir`` the data
directory is KV_URL's when KV_URL is ``embedded:``, else ``var/kv-server``.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from stores.clients import kv_target
from stores.kv.server_cli import add_arguments, run


def default_data_dir() -> str:
    """Return the data directory the server uses when --dir is not given."""
    target = kv_target()
    path = Path(target.path) if target.kind == "embedded" and target.path else Path("var/kv-server")
    if not path.is_absolute():
        path = Path(settings.BASE_DIR) / path
    return str(path)


class Command(BaseCommand):
    help = "Serve the key-value engine over the Redis protocol (RESP2/RESP3)."

    def add_arguments(self, parser):
        add_arguments(parser, default_dir=default_data_dir())

    def handle(self, *args, **options):
        code = run(options)
        if code:
            raise CommandError(f"kvserver exited with status {code}")
