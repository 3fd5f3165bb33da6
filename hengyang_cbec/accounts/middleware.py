"""Per request: who acts (for audit rows), the second factor, a forced password change."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import client_ip

from . import second_factor
from .context import acting

# Pages an authenticated user may reach before finishing the second factor or a forced change.
_OPEN = {
    "logout",
    "set_language",
    "accounts:second_factor",
    "accounts:recovery_codes",
    "password_change",
    "password_change_done",
    "healthz",
}


class AccountGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        with acting(user, client_ip(request)):
            return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated:
            return None
        match = request.resolver_match
        name = match.view_name if match else ""
        if name in _OPEN or request.path.startswith("/static/"):
            return None
        if not user.is_verified() and second_factor.required_for(user):
            # A session that never gave a code (its holder became staff since, or it was opened
            # without the login page): give one now. Applicants who turned the factor on give it
            # at the login page; checking their device here would cost a query on every page.
            return redirect("accounts:second_factor")
        if user.must_change_password:
            messages.info(request, _("Choose your own password before you continue."))
            return redirect("password_change")
        return None
