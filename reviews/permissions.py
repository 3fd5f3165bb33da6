"""Who may see what on the bureau's side: plain functions, and fetch-or-404 helpers for views.

A user without any review role gets 403 from the views' decorators; a user with a role who may
not see a particular object (a co-reviewer outside their unit, a draft, evidence not yet
scanned) gets 404, exactly as if it did not exist.
"""

from __future__ import annotations

from django.http import Http404

from applications.models import Application, Evidence
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role, has_role

from .models import CoReviewRequest, Objection

# Staff who read every submitted application.
READERS = (
    Role.COMMERCE_REVIEWER,
    Role.FINANCE_REVIEWER,
    Role.APPROVAL_REGISTRAR,
    Role.AUDITOR,
)
BUDGET_READERS = (
    Role.FINANCE_REVIEWER,
    Role.POLICY_ADMINISTRATOR,
    Role.APPROVAL_REGISTRAR,
    Role.DISBURSEMENT_OFFICER,
    Role.AUDITOR,
)


def can_read_application(user, application: Application) -> bool:
    if application.state == State.DRAFT:
        return False
    if has_role(user, *READERS):
        return True
    if has_role(user, Role.CO_REVIEWER) and user.unit:
        return CoReviewRequest.objects.filter(application=application, unit=user.unit).exists()
    return False


def application_for_staff(user, pk: int) -> Application:
    application = (
        Application.objects.select_related("enterprise", "enterprise__district", "measure")
        .filter(pk=pk)
        .first()
    )
    if application is None or not can_read_application(user, application):
        raise Http404
    return application


def evidence_for_staff(user, pk: int) -> Evidence:
    """Only clean evidence of an application the user may read (SECURITY.md rows 16, 21)."""
    evidence = Evidence.objects.select_related("application").filter(pk=pk).first()
    if (
        evidence is None
        or evidence.scan_state != Evidence.ScanState.CLEAN
        or not can_read_application(user, evidence.application)
    ):
        raise Http404
    return evidence


def coreview_request_for(user, pk: int) -> CoReviewRequest:
    request = CoReviewRequest.objects.select_related("application").filter(pk=pk).first()
    if request is None or not user.unit or request.unit != user.unit:
        raise Http404
    return request


def objection_for_staff(user, pk: int) -> Objection:
    objection = Objection.objects.select_related("application").filter(pk=pk).first()
    if objection is None or not has_role(user, *READERS):
        raise Http404
    return objection
