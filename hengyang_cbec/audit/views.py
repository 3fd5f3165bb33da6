"""The auditor's page: the audit log, filtered, and on request the check of its hash chain.

Routed as reviews:audit_log (/staff/audit/), where the auditor has always found it.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role

from .models import AuditEvent
from .services import verify_chain


@role_required(Role.AUDITOR, Role.AUDIT_ADMINISTRATOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.order_by("-id")
    application = request.GET.get("application", "")
    if application.isdigit():
        events = events.filter(application_id=int(application))
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action[:60])
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/audit.html",
        {
            "page": page,
            # Re-hashing the whole log is a deliberate act, not a cost of every page view.
            "chain": verify_chain() if request.GET.get("verify") == "1" else None,
            "application": application,
            "action": action,
        },
    )
