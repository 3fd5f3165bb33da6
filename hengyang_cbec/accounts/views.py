"""Login with a second factor, enrolment, recovery codes, landing, the security administrator.

The portal's login is the only login: the admin site sends its visitors here (one lockout, one
second factor, one audit trail for both).
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import client_ip, record
from hengyang_cbec.errors import PortalError

from . import second_factor, services
from .forms import (
    CodeForm,
    EnrolForm,
    OwnPasswordChangeForm,
    OwnSetPasswordForm,
    ReasonForm,
    RoleRequestForm,
)
from .lockout import LockoutAuthenticationForm
from .models import AccountLock, RoleChange, User
from .permissions import role_required
from .roles import Role, has_role

_PENDING = "second_factor_user"
_PENDING_BACKEND = "second_factor_backend"
_PENDING_AT = "second_factor_at"
_PENDING_NEXT = "second_factor_next"
_NEW_CODES = "second_factor_new_codes"


class PortalLoginView(auth_views.LoginView):
    """Password first; who needs a second factor is sent to give it before any session exists."""

    authentication_form = LockoutAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not second_factor.used_by(user):
            return super().form_valid(form)
        session = self.request.session
        session[_PENDING] = user.pk
        session[_PENDING_BACKEND] = user.backend
        session[_PENDING_AT] = time.time()
        session[_PENDING_NEXT] = self.get_success_url()
        return redirect("accounts:second_factor")


def _pending_user(request: HttpRequest) -> User | None:
    """The user between password and code: from the login page, or a session not yet verified."""
    if request.user.is_authenticated:
        return None if request.user.is_verified() else request.user
    pk, started = request.session.get(_PENDING), request.session.get(_PENDING_AT, 0)
    if not pk or time.time() - started > settings.SECOND_FACTOR_PENDING_SECONDS:
        return None
    return User.objects.filter(pk=pk, is_active=True).first()


def _finish(request: HttpRequest, user: User, device) -> HttpResponse:
    target = request.session.get(_PENDING_NEXT) or reverse("accounts:landing")
    if request.user.is_authenticated:
        otp_login(request, device)
    else:
        backend = request.session.get(_PENDING_BACKEND)
        for key in (_PENDING, _PENDING_BACKEND, _PENDING_AT, _PENDING_NEXT):
            request.session.pop(key, None)
        user.otp_device = device  # django-otp keeps it in the session at login
        login(request, user, backend=backend)
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("accounts:landing")
    if request.session.get(_NEW_CODES):
        request.session["after_codes"] = target
        return redirect("accounts:recovery_codes")
    return redirect(target)


@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        if request.user.is_authenticated:
            return redirect("accounts:landing")
        messages.info(request, _("Log in again, please: the time for the code ran out."))
        return redirect("login")
    ip = client_ip(request)
    device = second_factor.confirmed_device(user)
    if device is None:
        return _enrol(request, user, ip)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.verify(user, form.cleaned_data["code"], ip=ip)
        if result.ok:
            return _finish(request, user, result.device)
        form.add_error("code", _wrong_code(result.wait_seconds))
    return render(request, "accounts/second_factor.html", {"form": form, "account": user})


def _wrong_code(wait: int) -> str:
    if wait:
        return _(
            "Too many wrong codes. Wait %(seconds)d seconds, then enter the code the app shows."
        ) % {"seconds": wait}
    return _("This code is not right, or was used already. Enter the code the app shows now.")


def _enrol(request: HttpRequest, user: User, ip) -> HttpResponse:
    device = second_factor.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor.verify(user, form.cleaned_data["code"], device=device, ip=ip)
        if result.ok:
            request.session[_NEW_CODES] = second_factor.new_recovery_codes(user, ip=ip)
            return _finish(request, user, result.device)
        form.add_error("code", _wrong_code(result.wait_seconds))
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "account": user,
            "qr": second_factor.qr_svg(device),
            # On a phone the QR code cannot be scanned by the same phone: the link opens the app.
            "otpauth": device.config_url,
            # In groups of four, as authenticator apps accept it: easier to read and type.
            "secret": " ".join(re.findall(".{1,4}", second_factor.secret_base32(device))),
            "required": second_factor.required_for(user),
        },
    )


@never_cache
@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = request.session.pop(_NEW_CODES, None)
    if not codes:
        return redirect("accounts:landing")
    target = request.session.pop("after_codes", None) or reverse("accounts:landing")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": target})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_settings(request: HttpRequest) -> HttpResponse:
    """Applicants may turn the second factor on; everyone may get new recovery codes."""
    device = second_factor.confirmed_device(request.user)
    if request.method == "POST":
        if request.POST.get("action") == "enable" and device is None:
            # The next step shows the QR code; until it is confirmed nothing changes.
            from django_otp import DEVICE_ID_SESSION_KEY

            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            request.session[_PENDING_NEXT] = reverse("accounts:two_factor")
            return redirect("accounts:second_factor")
        if request.POST.get("action") == "codes" and device is not None:
            if not request.user.is_verified():
                raise PermissionDenied
            request.session[_NEW_CODES] = second_factor.new_recovery_codes(
                request.user, ip=client_ip(request)
            )
            request.session["after_codes"] = reverse("accounts:two_factor")
            return redirect("accounts:recovery_codes")
    return render(
        request,
        "accounts/two_factor.html",
        {"device": device, "required": second_factor.required_for(request.user)},
    )


def landing(request: HttpRequest) -> HttpResponse:
    """Where a person lands after login: their own workspace, not the public home page."""
    user = request.user
    if not user.is_authenticated:
        return redirect("home")
    order = (
        (Role.SECURITY_ADMINISTRATOR, "accounts:security"),
        (Role.AUDIT_ADMINISTRATOR, "reviews:audit_log"),
        (Role.SYSTEM_ADMINISTRATOR, "admin:index"),
        (Role.POLICY_ADMINISTRATOR, "admin:index"),
        (Role.DISBURSEMENT_OFFICER, "reviews:finance_disbursements"),
        (Role.COMMERCE_REVIEWER, "reviews:workspace"),
        (Role.CO_REVIEWER, "reviews:workspace"),
        (Role.FINANCE_REVIEWER, "reviews:workspace"),
        (Role.APPROVAL_REGISTRAR, "reviews:workspace"),
        (Role.AUDITOR, "reviews:workspace"),
        (Role.FINANCE_SUPERVISOR, "reviews:dossiers"),
        (Role.APPLICANT, "applications:dashboard"),
    )
    for role, url_name in order:
        if has_role(user, role):
            try:
                return redirect(url_name)
            except NoReverseMatch:
                continue
    return redirect("home")


class OwnPasswordChangeView(auth_views.PasswordChangeView):
    form_class = OwnPasswordChangeForm


class OwnPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = OwnSetPasswordForm


class AuditedPasswordResetView(auth_views.PasswordResetView):
    """Asking for a reset link is audited: the account it is for (when an address matches one),
    or only that nothing matched; the address typed is not kept. The page answers the same."""

    def form_valid(self, form):
        accounts = list(form.get_users(form.cleaned_data["email"]))
        record(
            action="account.password_reset_requested",
            ip=client_ip(self.request),
            obj=accounts[0] if len(accounts) == 1 else None,
            result=AuditEvent.Result.OK if accounts else AuditEvent.Result.REFUSED,
            data={"accounts": [account.pk for account in accounts]},
        )
        return super().form_valid(form)


# --- The security administrator -----------------------------------------------------------------


@role_required(Role.SECURITY_ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def security(request: HttpRequest) -> HttpResponse:
    form = RoleRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["revoke"]:
                services.revoke_role(
                    actor=request.user,
                    user=data["username"],
                    role=data["role"],
                    reason=data["reason"],
                    ip=client_ip(request),
                )
                messages.success(request, _("The role was taken away."))
            else:
                change = services.request_role(
                    actor=request.user,
                    user=data["username"],
                    role=data["role"],
                    reason=data["reason"],
                    ip=client_ip(request),
                )
                if change.status == RoleChange.Status.PENDING:
                    messages.success(
                        request, _("The grant awaits a second security administrator's approval.")
                    )
                else:
                    messages.success(request, _("The role was granted."))
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("accounts:security")
    pending = RoleChange.objects.filter(status=RoleChange.Status.PENDING).select_related(
        "user", "requested_by"
    )
    recent = RoleChange.objects.exclude(status=RoleChange.Status.PENDING).select_related(
        "user", "requested_by", "decided_by"
    )[:20]
    locks = services.active_locks().select_related("user")
    return render(
        request,
        "accounts/security.html",
        {
            "form": form,
            "pending": pending,
            "recent": recent,
            "locks": locks,
            "reason_form": ReasonForm(),
        },
    )


@role_required(Role.SECURITY_ADMINISTRATOR)
@require_POST
def decide_role(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(RoleChange, pk=pk)
    try:
        services.decide_role(
            actor=request.user,
            change=change,
            approve=request.POST.get("decision") == "approve",
            ip=client_ip(request),
        )
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The decision is recorded."))
    return redirect("accounts:security")


@role_required(Role.SECURITY_ADMINISTRATOR)
@require_POST
def lift_lock(request: HttpRequest, pk: int) -> HttpResponse:
    lock = get_object_or_404(AccountLock, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for lifting the lock."))
        return redirect("accounts:security")
    try:
        services.lift_lock(
            actor=request.user, lock=lock, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The lock is lifted."))
    return redirect("accounts:security")
