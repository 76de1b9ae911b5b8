"""Who may see the staff pages and who may change a store from them.

Anonymous visitors are sent to the admin login page; signed-in users who are
not staff get 403; actions that change a store need a superuser.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse


def staff_required(view):
    """Let staff through; send anonymous users to log in; refuse the rest."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_staff):
            raise PermissionDenied("Staff only.")
        return view(request, *args, **kwargs)

    return wrapper


def superuser_required(view):
    """Like staff_required, but only superusers may go on."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not (user.is_active and user.is_superuser):
            raise PermissionDenied("Superusers only.")
        return view(request, *args, **kwargs)

    return wrapper
