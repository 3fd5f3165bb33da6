"""Rate limits per account and per address, answered with HTTP 429 (SECURITY.md row 32).

One middleware applies the limits of RATE_LIMITS (settings) to the views named in
RATE_LIMITED_VIEWS, so an app's view needs no decorator and every limit is configured in one
place. Counting is django-ratelimit's (fixed windows in the shared cache). The address is
REMOTE_ADDR: a forged X-Forwarded-For does not change it (row 3). The account is the logged-in
user, or for pages used before login, what the form names (the username tried, the e-mail
address asked for).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimitedView:
    limit: str  # a key of settings.RATE_LIMITS
    methods: tuple[str, ...] = ("POST",)
    # Only requests carrying a query string count (the calculator's GET submits its figures).
    only_with_query: bool = False


# URL name → which limit applies. Views in any app are listed here, not decorated.
RATE_LIMITED_VIEWS: dict[str, RateLimitedView] = {
    "login": RateLimitedView("login"),
    "accounts:second_factor": RateLimitedView("second_factor"),
    "password_reset": RateLimitedView("password_reset"),
    "applications:register": RateLimitedView("registration"),
    "applications:register_resend": RateLimitedView("resend_confirmation"),
    "applications:evidence_upload": RateLimitedView("upload"),
    "applications:enterprise_create": RateLimitedView("upload"),
    "applications:verification": RateLimitedView("upload"),
    "reviews:finance_export": RateLimitedView("export", ("GET", "POST")),
    "reviews:finance_export_job_download": RateLimitedView("export", ("GET",)),
    "reviews:finance_report_export": RateLimitedView("export", ("GET",)),
    "reviews:lodge_objection": RateLimitedView("objection"),
    "policies:measure_detail": RateLimitedView("calculator", ("GET",), only_with_query=True),
    "notices:verify": RateLimitedView("verify_notice", ("GET", "POST")),
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def account_key(request: HttpRequest) -> str | None:
    """Who the request acts for: the API key it carries, the logged-in user, else the account a
    pre-login form names."""
    api_key = getattr(request, "api_key", None)
    if api_key is not None:
        return f"apikey:{api_key.pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    pending = request.session.get("second_factor_user") if hasattr(request, "session") else None
    if pending:
        return f"user:{pending}"
    for field in ("username", "email"):
        value = request.POST.get(field, "") if request.method == "POST" else ""
        if value:
            return f"{field}:{_digest(value)}"
    signup = request.session.get("signup_email") if hasattr(request, "session") else None
    if signup:
        return f"email:{_digest(signup)}"
    return None


def _checks(rule: RateLimitedView, request: HttpRequest) -> list[tuple[str, Callable, str]]:
    rates = settings.RATE_LIMITS[rule.limit]
    checks = []
    if rates.get("address"):
        checks.append(
            ("address", lambda group, req: req.META.get("REMOTE_ADDR", ""), rates["address"])
        )
    if rates.get("account"):
        key = account_key(request)
        if key is not None:
            checks.append(("account", lambda group, req, key=key: key, rates["account"]))
    return checks


def limit_exceeded(request: HttpRequest, limit: str) -> bool:
    """Count one request against the limit; True when it is over (a service may call this)."""
    return _over(RateLimitedView(limit, (request.method,)), request)


def _over(rule: RateLimitedView, request: HttpRequest) -> bool:
    over = False
    for scope, key, rate in _checks(rule, request):
        # Count every scope so an attacker cannot spread work between them.
        try:
            limited = is_ratelimited(
                request, group=f"{rule.limit}:{scope}", key=key, rate=rate, increment=True
            )
        except Exception:  # the shared cache is down: a brake, not a gate (lockout still holds)
            logger.exception("rate limit %s not counted: the cache is unavailable", rule.limit)
            limited = False
        over = over or limited
    return over


def too_many_requests(request: HttpRequest, limit: str = "") -> HttpResponse:
    response = render(request, "errors/429.html", {"limit": limit}, status=429)
    response["Retry-After"] = "60"
    return response


class RateLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        rule = RATE_LIMITED_VIEWS.get(match.view_name) if match else None
        if rule is None or request.method not in rule.methods:
            return None
        if rule.only_with_query and not request.GET:
            return None
        if _over(rule, request):
            logger.warning(
                "rate limit %s exceeded by %s", rule.limit, request.META.get("REMOTE_ADDR")
            )
            return too_many_requests(request, rule.limit)
        return None
