"""Apply the blog's versioned CQL schema files to the wide-column store."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.schema_files import apply_schema
from stores import clients

DEFAULT_REPLICATION = "{'class': 'SimpleStrategy', 'replication_factor': 1}"


class Command(BaseCommand):
    help = "Create the blog keyspace and apply every blog/schema/*.cql file not yet applied."

    def add_arguments(self, parser):
        parser.add_argument(
            "--replication",
            default=DEFAULT_REPLICATION,
            help=f"replication map for CREATE KEYSPACE (default {DEFAULT_REPLICATION})",
        )

    def handle(self, *args, replication, **options):
        if not replication.strip().startswith("{") or ";" in replication:
            raise CommandError(
                "--replication must be a CQL map literal, e.g. " + DEFAULT_REPLICATION
            )
        session = clients.wide()
        done = apply_schema(
            session, settings.BLOG_KEYSPACE, replication, log=lambda m: self.stdout.write(m)
        )
        if not done:
            self.stdout.write(f"keyspace {settings.BLOG_KEYSPACE}: schema is up to date")
