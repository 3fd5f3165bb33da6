"""Permission helpers shared by the apps: plain functions and one view decorator.

Object-level questions ("may this user review this application?") live in each app's
permissions.py and build on has_role.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from .roles import ADMIN_SITE_ROLES, REVIEW_ROLES, Role, has_role


def is_reviewer(user) -> bool:
    return has_role(user, *REVIEW_ROLES)


def may_use_admin_site(user) -> bool:
    return has_role(user, *ADMIN_SITE_ROLES)


def is_applicant(user) -> bool:
    return has_role(user, Role.APPLICANT)


def role_required(*roles: Role):
    """View decorator: anonymous users go to the login page, users without the role get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
