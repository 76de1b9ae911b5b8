"""URLs of the staff pages, mounted under /admin/stores/ before the admin's own."""

from django.urls import path

from stores.staff import kv_views

app_name = "stores-staff"

urlpatterns = [
    path("kv/", kv_views.overview, name="kv"),
    path("kv/keys/", kv_views.key_browser, name="kv-keys"),
    path("kv/key/", kv_views.key_detail, name="kv-key"),
    path("kv/memory/", kv_views.memory, name="kv-memory"),
    path("kv/slowlog/", kv_views.slowlog, name="kv-slowlog"),
    path("kv/pubsub/", kv_views.pubsub, name="kv-pubsub"),
    path("kv/console/", kv_views.console, name="kv-console"),
    path("kv/action/<slug:name>/", kv_views.action, name="kv-action"),
]
