"""The applicant's side of 免申即享: an entitlement found from official statistics is confirmed
(one click opens an application with the sourced facts filled and locked) or declined."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import record

from . import services
from .forms import application_form
from .models import Application, Enterprise
from .workflow import APPLICANT, State

SOURCE_LABELS = {
    "customs": ("来自海关统计", "From customs statistics"),
    "social_security": ("来自社保缴费记录", "From social-security records"),
}


def _entitlement_model():
    from reviews.models import Entitlement

    return Entitlement


def entitlements_of(enterprise: Enterprise):
    return (
        _entitlement_model()
        .objects.filter(enterprise=enterprise)
        .select_related("measure", "application")
        .order_by("-year", "measure__code")
    )


def _locked_entitlement(user, entitlement):
    Entitlement = _entitlement_model()
    entitlement = (
        Entitlement.objects.select_for_update().select_related("measure").get(pk=entitlement.pk)
    )
    if entitlement.enterprise_id is None or not services.is_member(user, entitlement.enterprise_id):
        raise services.ApplicationError(_("Only members of the applicant enterprise may do this."))
    if entitlement.status != Entitlement.Status.OFFERED:
        raise services.ApplicationError(_("This entitlement is no longer on offer."))
    return entitlement


def _draft_value(value):
    if value is True:
        return "on"
    if value is False:
        return ""
    return str(Decimal(str(value))) if isinstance(value, int | float | Decimal) else str(value)


@transaction.atomic
def entitlement_confirm(*, user, entitlement, ip=None) -> Application:
    """Open the application of an offered entitlement: the sourced facts are filled and locked,
    each with its source record; an open draft of the same measure and year is taken over."""
    Entitlement = _entitlement_model()
    entitlement = _locked_entitlement(user, entitlement)
    enterprise = Enterprise.objects.get(pk=entitlement.enterprise_id)
    code = entitlement.measure.code
    existing = Application.objects.filter(
        enterprise=enterprise,
        measure__code=code,
        year=entitlement.year,
        scope_key="",
        state=State.DRAFT,
    ).first()
    application = existing or services.application_start(
        user=user, enterprise=enterprise, measure_code=code, year=entitlement.year, ip=ip
    )
    fields = set(application_form(application).fields)
    sourced = {name: item for name, item in entitlement.sourced_facts.items() if name in fields}
    application = Application.objects.select_for_update().get(pk=application.pk)
    draft = dict(application.draft_facts)
    draft.update({name: _draft_value(item["value"]) for name, item in sourced.items()})
    application.draft_facts = draft
    application.sourced_facts = sourced
    application.version += 1
    application.save(update_fields=["draft_facts", "sourced_facts", "version", "updated_at"])
    entitlement.status = Entitlement.Status.CONFIRMED
    entitlement.application = application
    entitlement.decided_by = user
    entitlement.decided_at = timezone.now()
    entitlement.save(update_fields=["status", "application", "decided_by", "decided_at"])
    record(
        action="entitlement.confirm",
        actor=user,
        actor_role=APPLICANT,
        ip=ip,
        obj=entitlement,
        application_id=application.pk,
        data={
            "measure": code,
            "year": entitlement.year,
            "amount_cny": entitlement.amount_cny,
            "sourced_facts": sorted(sourced),
        },
        visible_to_applicant=True,
    )
    return application


@transaction.atomic
def entitlement_decline(*, user, entitlement, reason: str, ip=None):
    """Decline an offered entitlement, with a reason the bureau reads."""
    Entitlement = _entitlement_model()
    entitlement = _locked_entitlement(user, entitlement)
    reason = services.without_control_characters((reason or "").strip())[:300]
    if not reason:
        raise services.ApplicationError(_("Give the reason for declining."))
    entitlement.status = Entitlement.Status.DECLINED
    entitlement.decline_reason = reason
    entitlement.decided_by = user
    entitlement.decided_at = timezone.now()
    entitlement.save(update_fields=["status", "decline_reason", "decided_by", "decided_at"])
    record(
        action="entitlement.decline",
        actor=user,
        actor_role=APPLICANT,
        ip=ip,
        obj=entitlement,
        data={"measure": entitlement.measure.code, "year": entitlement.year, "reason": reason},
    )
    return entitlement


def source_label(item: dict, english: bool = False) -> str:
    """'来自海关统计（2026-11-30 导入）' / 'From customs statistics (imported 2026-11-30)'."""
    zh, en = SOURCE_LABELS.get(item.get("source", ""), ("来自官方统计", "From official statistics"))
    date = item.get("imported_at", "")
    return f"{en} (imported {date})" if english else f"{zh}（{date} 导入）"
