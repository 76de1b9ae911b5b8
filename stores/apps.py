"""Django app for the store glue."""

from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = "Stores"

    def ready(self):
        from stores import clients

        clients.validate_settings()
