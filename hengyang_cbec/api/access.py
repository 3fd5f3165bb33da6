"""Who may call what: API keys with a scope (header X-API-Key), and rate limits.

Keyed calls are audited one by one with the key's id (keys.audit_call) and limited per key and
per address (RATE_LIMITS["api_key"]); public endpoints are limited per address through the same
settings and counters as the pages (hengyang_cbec.ratelimits).
"""

from __future__ import annotations

import logging
from functools import wraps

from django.utils.translation import gettext_lazy as _
from ninja.security import APIKeyHeader

from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.ratelimits import limit_exceeded

from .errors import ApiError
from .keys import KeyCheck, audit_call, check_key
from .models import ApiKey

logger = logging.getLogger(__name__)

_REFUSALS = {
    "unknown": (401, "unknown_key", _("This API key is not known.")),
    "expired": (401, "key_expired", _("This API key has expired.")),
    "revoked": (401, "key_revoked", _("This API key was revoked.")),
    "scope": (403, "wrong_scope", _("This API key does not have the scope this endpoint needs.")),
    "holder": (
        401,
        "holder_inactive",
        _("The holder of this token is no longer an active member of an enterprise."),
    ),
}


class KeyAuth(APIKeyHeader):
    """The key of a system, which must hold `scope`."""

    param_name = "X-API-Key"

    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def authenticate(self, request, key: str | None) -> ApiKey | None:
        if not key:
            raise ApiError(401, "no_key")
        check = check_key(key, self.scope)
        request.api_key = check.key
        over = limit_exceeded(request, "api_key")
        if over and check.key is None:
            # Guessing keys from one address: refused without an audit row each time, so that a
            # flood cannot fill the audit log (the rate limit itself is logged).
            logger.warning("API calls with unknown keys over the limit from %s", client_ip(request))
        else:
            audit_call(
                KeyCheck(check.key, "rate") if over and not check.refusal else check,
                scope=self.scope,
                method=request.method,
                path=request.path,
                ip=client_ip(request),
            )
        if over:
            raise ApiError(429, "too_many_requests")
        if check.refusal:
            status, code, message = _REFUSALS[check.refusal]
            raise ApiError(status, code, message)
        return check.key


def limited(limit: str):
    """A public endpoint counted against RATE_LIMITS[limit] (HTTP 429 when over)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if limit_exceeded(request, limit):
                raise ApiError(429, "too_many_requests")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
