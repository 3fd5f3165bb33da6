from django.conf import settings

from .accounts.roles import Role, roles_of
from .navigation import items_for


def portal(request) -> dict:
    user = getattr(request, "user", None)
    held = roles_of(user) if user is not None else frozenset()
    role_labels = [role.label for role in Role if role.value in held]
    return {
        "portal_name": settings.PORTAL_NAME,
        "nav_items": items_for(user) if user is not None else [],
        "user_role_labels": role_labels,
    }
