"""``manage.py cqlserver``: the CQL native protocol server for the site's wide store.

Takes the same options as ``python -m stores.wide``; without ``--dir`` it
serves the data directory of an ``embedded:`` WIDE_URL.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from stores.wide.__main__ import add_arguments, main


class Command(BaseCommand):
    help = "Serve the wide-column store over the CQL native protocol v4 (cqlsh, cassandra-driver)."

    def add_arguments(self, parser):
        add_arguments(parser)

    def handle(self, *args, **options):
        from stores.clients import _data_dir, wide_target

        directory = options["dir"]
        if directory is None:
            target = wide_target()
            if target.kind == "embedded":
                directory = str(_data_dir(target.path))
        argv = [
            "--port",
            str(options["port"]),
            "--bind",
            options["bind"],
            "--commitlog-sync",
            options["commitlog_sync"],
            "--max-frame-size",
            str(options["max_frame_size"]),
            "--max-in-flight",
            str(options["max_in_flight"]),
        ]
        if options["workers"] is not None:
            argv += ["--workers", str(options["workers"])]
        if directory:
            argv += ["--dir", directory]
        if options["auth"]:
            argv.append("--auth")
        main(argv)
