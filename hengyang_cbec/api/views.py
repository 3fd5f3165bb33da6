"""Pages of the API: the reference page (/api/), the security administrator's keys, and the
disbursement officers' confirmation of bank results sent through the API."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hengyang_cbec import formatting
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import client_ip

from . import keys as key_services
from . import payments
from .forms import KeyForm, ReasonForm, TokenForm
from .models import ApiKey, BankResultProposal


@require_safe
def reference(request: HttpRequest) -> HttpResponse:
    """The interactive reference (Swagger UI from the portal's own static files)."""
    settings = {
        "url": reverse("api-v1:openapi-json"),
        "layout": "BaseLayout",
        "deepLinking": False,  # its path links inside the summary buttons nest controls
        "tryItOutEnabled": False,
        "defaultModelsExpandDepth": -1,  # the schemas show under each operation
        "syntaxHighlight": {"activated": False},  # its colours fail the contrast check
    }
    return render(
        request,
        "api/reference.html",
        {"swagger_settings": json.dumps(settings), "openapi_url": settings["url"]},
    )


@never_cache  # the page that shows a new key's secret is never kept by a cache
@role_required(Role.SECURITY_ADMINISTRATOR)
@require_http_methods(["GET", "POST"])
def keys(request: HttpRequest) -> HttpResponse:
    form = KeyForm(request.POST or None)
    secret = None
    if request.method == "POST" and _sent_twice(request):
        messages.info(request, _("This form was sent already; no second key was created."))
        return redirect("api_keys")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            key, secret = key_services.key_create(
                user=request.user,
                name=data["name"],
                scopes=data["scopes"],
                days=data["days"],
                ip=client_ip(request),
            )
        except key_services.ApiKeyError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown on this response only: never stored, never shown again.
            form = KeyForm()
            messages.success(request, _("The key was created. Copy it now: it is not shown again."))
            return render(
                request,
                "api/keys.html",
                {
                    "form": form,
                    "keys": _keys(),
                    "secret": secret,
                    "new_key": key,
                    "once": _once(request),
                },
            )
    return render(
        request,
        "api/keys.html",
        {"form": form, "keys": _keys(), "secret": None, "once": _once(request)},
    )


_ONCE = "api_key_form_once"


def _sent_twice(request: HttpRequest) -> bool:
    """True for a form sent again (reload, back button): it must not create a second key."""
    expected = request.session.pop(_ONCE, None)
    return not expected or request.POST.get("once") != expected


def _once(request: HttpRequest) -> str:
    request.session[_ONCE] = value = secrets.token_urlsafe(16)
    return value


def _keys():
    return ApiKey.objects.select_related("created_by", "revoked_by")[:200]


@role_required(Role.SECURITY_ADMINISTRATOR)
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for revoking the key."))
        return redirect("api_keys")
    try:
        key_services.key_revoke(
            user=request.user, key=key, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except key_services.ApiKeyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The key was revoked. Calls with it are refused from now on."))
    return redirect("api_keys")


@never_cache
@role_required(Role.APPLICANT)
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """An applicant's own read-only tokens for their enterprise's applications."""
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and _sent_twice(request):
        messages.info(request, _("This form was sent already; no second token was created."))
        return redirect("api_tokens")
    if request.method == "POST" and form.is_valid():
        try:
            _key, secret = key_services.token_create(
                user=request.user, days=form.cleaned_data["days"], ip=client_ip(request)
            )
        except key_services.ApiKeyError as exc:
            form.add_error(None, str(exc))
        else:
            form = TokenForm()
            messages.success(
                request, _("The token was created. Copy it now: it is not shown again.")
            )
    mine = ApiKey.objects.filter(owner=request.user)[:50]
    return render(
        request,
        "api/tokens.html",
        {"form": form, "tokens": mine, "secret": secret, "once": _once(request)},
    )


@role_required(Role.APPLICANT)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiKey, pk=pk, owner=request.user)
    try:
        key_services.key_revoke(
            user=request.user,
            key=token,
            reason=str(_("Revoked by its holder.")),
            ip=client_ip(request),
        )
    except key_services.ApiKeyError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The token was revoked."))
    return redirect("api_tokens")


@role_required(Role.DISBURSEMENT_OFFICER)
@require_safe
def results(request: HttpRequest) -> HttpResponse:
    proposals = BankResultProposal.objects.select_related("batch", "api_key", "decided_by")[:200]
    return render(request, "api/results.html", {"proposals": proposals})


@role_required(Role.DISBURSEMENT_OFFICER)
@require_http_methods(["GET", "POST"])
def result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(
        BankResultProposal.objects.select_related("batch", "api_key", "decided_by"), pk=pk
    )
    form = ReasonForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("decision") == "confirm":
                report = payments.proposal_confirm(
                    user=request.user, proposal=proposal, ip=client_ip(request)
                )
                if report.ok:
                    messages.success(
                        request,
                        _("Reconciled: %(paid)s paid, %(failed)s failed.")
                        % {"paid": report.paid, "failed": report.failed},
                    )
                else:
                    messages.error(request, _("The bank's result was refused; nothing was paid."))
                return redirect("api_result", pk=proposal.pk)
            if form.is_valid():
                payments.proposal_reject(
                    user=request.user,
                    proposal=proposal,
                    reason=form.cleaned_data["reason"],
                    ip=client_ip(request),
                )
                messages.success(request, _("The bank's result was rejected."))
                return redirect("api_result", pk=proposal.pk)
        except payments.ProposalError as exc:
            messages.error(request, str(exc))
            return redirect("api_result", pk=proposal.pk)
    lines = {line.line_reference: line for line in proposal.batch.lines.all()}
    rows = [
        {
            **row,
            "known": lines.get(row.get("line", "")),
            "amount_shown": _bank_amount(row.get("amount", "")),
            "status_shown": _bank_status(row.get("status", "")),
        }
        for row in proposal.rows
    ]
    return render(
        request, "api/result_detail.html", {"proposal": proposal, "rows": rows, "form": form}
    )


def _bank_amount(text: str) -> str:
    """The bank's amount as a reader expects it (500,000.00 元), or as the bank wrote it."""
    try:
        return formatting.cny(Decimal(text.replace(",", "")))
    except (InvalidOperation, ValueError):
        return text


def _bank_status(text: str) -> str:
    status = text.strip().lower()
    if status in {"paid", "success", "成功", "已支付"}:
        return _("Paid by the bank")
    if status in {"failed", "failure", "失败", "退回"}:
        return _("Refused by the bank")
    return text
