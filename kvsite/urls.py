"""HTTP URL routes."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/stores/", include("stores.staff.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("blog.urls")),
]

handler500 = "blog.views.server_error"
