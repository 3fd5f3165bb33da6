"""Awards, disbursement batches and notices change state through their tables, audited."""

from __future__ import annotations

from datetime import date

import pytest

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.errors import TransitionRefused
from hengyang_cbec.statetables import move
from reviews.models import Award, DisbursementBatch
from reviews.services import finance
from reviews.services.review import application_return_to_commerce
from reviews.transitions import AWARD, BATCH, LINE, NOTICE

from .factories import advance, make_staff

pytestmark = pytest.mark.django_db


def test_every_table_moves_between_states_of_its_own_model():
    for table in (AWARD, BATCH, LINE, NOTICE):
        values = set(table.states.values)
        for (source, _action), target in table.moves.items():
            assert source in values and target in values


def test_paying_the_last_line_closes_the_batch_with_an_audit_event(crew, submitted):
    advance(submitted, State.APPROVED, crew=crew)
    award = Award.objects.get(application=submitted, status=Award.Status.FIXED)
    maker = make_staff(Role.DISBURSEMENT_OFFICER, "maker")
    checker = make_staff(Role.DISBURSEMENT_OFFICER, "checker")
    batch = finance.batch_create(user=maker, award_ids=[award.pk])
    finance.batch_confirm(user=checker, batch=batch)

    finance.line_mark_paid(
        user=checker, line=batch.lines.get(), paid_on=date(2026, 11, 20), reference="BOC1"
    )

    batch.refresh_from_db()
    assert batch.state == DisbursementBatch.State.PAID and batch.closed_at is not None
    closed = AuditEvent.objects.get(action="finance.batch_close", object_id=str(batch.pk))
    assert closed.actor == checker and closed.actor_role == Role.DISBURSEMENT_OFFICER
    assert closed.data["from"] == "confirmed" and closed.data["to"] == "paid"


def test_each_change_of_an_award_is_an_audit_event_naming_who_made_it(crew, submitted):
    advance(submitted, State.FINANCE_REVIEW, crew=crew)
    application_return_to_commerce(
        user=crew.finance, application=submitted, message="请核实出口额", version=3
    )
    advance(submitted, State.APPROVED, crew=crew)

    events = AuditEvent.objects.filter(action__startswith="award.").order_by("pk")
    assert [(e.action, e.actor) for e in events] == [
        ("award.cancelled", crew.finance),
        ("award.committed", crew.finance),
        ("award.fixed", crew.registrar),
    ]


def test_a_move_the_table_does_not_have_is_refused_and_changes_nothing(crew, submitted):
    advance(submitted, State.APPROVED, crew=crew)
    award = Award.objects.get(application=submitted, status=Award.Status.FIXED)
    before = AuditEvent.objects.count()
    with pytest.raises(TransitionRefused):
        move(award, AWARD, "committed", user=crew.finance, role=Role.FINANCE_REVIEWER)
    award.refresh_from_db()
    assert award.status == Award.Status.FIXED and AuditEvent.objects.count() == before
