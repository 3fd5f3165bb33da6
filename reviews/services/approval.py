"""The government's approval of a batch of awards, which fixes them and requests their notices."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.services import notify, prior_award
from applications.workflow import Action
from hengyang_cbec.statetables import move

from ..models import ApprovalBatch, Award, Stage
from ..transitions import AWARD
from .assessment import award_components
from .steps import (
    ReviewError,
    _conclude,
    _four_eyes,
    _lock_many,
    _money,
    _set_actor,
    _transition,
)


@transaction.atomic
def approval_record(
    *,
    user,
    application_ids: Iterable[int],
    document_number: str,
    document_date: date,
    ip=None,
) -> ApprovalBatch:
    """Record the government's approval of a batch: all approved and fixed, or nothing."""
    applications = _lock_many(application_ids)
    if not applications:
        raise ReviewError(_("Choose at least one application."))
    transitions = [
        _transition(application, Action.RECORD_APPROVAL, user) for application in applications
    ]
    document_number = (document_number or "").strip()
    if not document_number:
        raise ReviewError(_("Enter the government document number."))
    if not isinstance(document_date, date) or isinstance(document_date, datetime):
        raise ReviewError(_("Enter the document date."))
    if document_date > timezone.localdate():
        raise ReviewError(_("The document date cannot be in the future."))
    work = []
    for application, (transition, role) in zip(applications, transitions, strict=True):
        actors = _four_eyes(application, user, "registrar")
        award = (
            Award.objects.select_for_update()
            .filter(application=application, status=Award.Status.COMMITTED)
            .first()
        )
        if award is None:
            raise ReviewError(_("%(ref)s has no committed award.") % {"ref": application.reference})
        work.append((application, transition, role, actors, award))
    if ApprovalBatch.objects.filter(document_number=document_number).exists():
        raise ReviewError(_("This document number has been recorded already."))
    try:
        with transaction.atomic():
            batch = ApprovalBatch.objects.create(
                document_number=document_number[:80], document_date=document_date, recorded_by=user
            )
    except IntegrityError:
        raise ReviewError(_("This document number has been recorded already.")) from None
    now = timezone.now()
    for application, transition, role, actors, award in work:
        _set_actor(actors, "registrar", user)
        award.approval_batch = batch
        award.registrar = user
        award.fixed_at = now
        move(
            award, AWARD, "fixed", user=user, role=role,
            fields=("approval_batch", "registrar", "fixed_at"), data=_fixed_data(award),
        )  # fmt: skip
        application.approved_amount_cny = award.amount_cny
        # The components of the approved amount, reduced the engine's way, for I-9.
        approved = prior_award(application, award.amount_cny, award_components(award))
        application.approved_components = {
            name: _money(amount) for name, amount in (approved.component_amounts or {}).items()
        }
        _conclude(
            application, transition, Action.RECORD_APPROVAL, Stage.REGISTRAR, user, role, ip=ip,
            fields=("approved_amount_cny", "approved_components"), amount=award.amount_cny,
            data={
                "document_number": batch.document_number,
                "document_date": document_date.isoformat(),
                "approved_amount_cny": _money(award.amount_cny),
            },
        )  # fmt: skip
        award_fixed(award)
        notify(
            application,
            "application_approved",
            document_number=batch.document_number,
            amount=award.amount_cny,
        )
    return batch


def _fixed_data(award: Award) -> dict:
    """What the audit event of a fixed award holds: everything needed to re-derive it."""
    return {
        "amount_cny": _money(award.amount_cny),
        "cap_cny": _money(award.cap_cny),
        "fund_source": award.fund_source.code if award.fund_source_id else None,
        "allocation": award.allocation_id,
        "approval": award.approval_batch.document_number,
        "rules_version": award.assessment.rules_version,
        "actors": {
            "submitter": award.submitter_id,
            "commerce_reviewer": award.commerce_reviewer_id,
            "finance_reviewer": award.finance_reviewer_id,
            "registrar": award.registrar_id,
        },
    }


def award_fixed(award: Award) -> None:
    """The award is fixed by government approval (its move is audited as award.fixed); called
    inside the approving transaction, this requests the award's approval notice (number, frozen
    content and its render job, one notice per award version) so that it is rendered exactly
    once after this transaction commits.
    """
    from .notices import notice_request

    notice_request(award)
