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
    if settings.PRODUCTION and "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        errors.append(
            Warning(
                "Rate limits and account locks are counted in a per-process cache; set REDIS_URL "
                "so every web process shares them.",
                id="accounts.W001",
            )
        )
    return errors
