"""System checks for access configuration that would silently weaken it."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_rate_limits(app_configs=None, **kwargs):
    from hengyang_cbec.ratelimits import RATE_LIMITED_VIEWS

    errors = []
    for view_name, rule in RATE_LIMITED_VIEWS.items():
        if rule.limit not in settings.RATE_LIMITS:
            errors.append(
                Error(
                    f"The rate limit {rule.limit!r} of {view_name} is not in RATE_LIMITS.",
                    id="accounts.E001",
                )
            )
    known = _url_names()
    for view_name in RATE_LIMITED_VIEWS:
        if view_name not in known:
            errors.append(
                Error(
                    f"RATE_LIMITED_VIEWS names {view_name!r}, which is no URL name: its limit "
                    "would never apply.",
                    id="accounts.E002",
                )
            )
    if settings.PRODUCTION and "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        errors.append(
            Warning(
                "Rate limits and account locks are counted in a per-process cache; set REDIS_URL "
                "so every web process shares them.",
                id="accounts.W001",
            )
        )
    return errors


def _url_names() -> set[str]:
    from django.urls import get_resolver

    names: set[str] = set()

    def walk(resolver, namespace: str) -> None:
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern, inner)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver(), "")
    return names
