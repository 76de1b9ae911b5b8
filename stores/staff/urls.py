"""URLs of the staff pages, mounted under /admin/stores/ before the admin's own."""

from django.urls import path

from stores.staff import kv_views, wide_views

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
    path("wide/", wide_views.overview, name="wide"),
    path("wide/locate/", wide_views.locate, name="wide-locate"),
    path("wide/console/", wide_views.console, name="wide-console"),
    path("wide/<str:keyspace>/<str:table>/", wide_views.table, name="wide-table"),
    path(
        "wide/<str:keyspace>/<str:table>/partitions/", wide_views.partitions, name="wide-partitions"
    ),
    path(
        "wide/<str:keyspace>/<str:table>/partitions/<str:token>/",
        wide_views.partition,
        name="wide-partition",
    ),
    path(
        "wide/<str:keyspace>/<str:table>/action/<slug:name>/", wide_views.action, name="wide-action"
    ),
]
