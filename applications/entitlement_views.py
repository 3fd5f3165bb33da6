"""The applicant confirms or declines an entitlement found from official statistics."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import client_ip

from .entitlements import entitlement_confirm, entitlement_decline, entitlements_of
from .services import ApplicationError, active_membership


def _entitlement_for(request: HttpRequest, pk: int):
    membership = active_membership(request.user)
    found = entitlements_of(membership.enterprise).filter(pk=pk).first() if membership else None
    if found is None:
        raise Http404
    return found


@role_required(Role.APPLICANT)
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    entitlement = _entitlement_for(request, pk)
    try:
        application = entitlement_confirm(
            user=request.user, entitlement=entitlement, ip=client_ip(request)
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
        return redirect("applications:dashboard")
    messages.success(
        request,
        _(
            "The figures from the official statistics are filled in and locked. Add what the "
            "source does not hold, the documents and the declaration."
        ),
    )
    return redirect("applications:application_edit", pk=application.pk)


@role_required(Role.APPLICANT)
@require_POST
def decline(request: HttpRequest, pk: int) -> HttpResponse:
    entitlement = _entitlement_for(request, pk)
    try:
        entitlement_decline(
            user=request.user,
            entitlement=entitlement,
            reason=request.POST.get("reason", ""),
            ip=client_ip(request),
        )
    except ApplicationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("You declined it. The bureau sees your reason."))
    return redirect("applications:dashboard")
