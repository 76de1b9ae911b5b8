"""HTTP URL routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/stores/", include("stores.staff.urls")),
    path("admin/", admin.site.urls),
    path("", include("blog.urls")),
]
