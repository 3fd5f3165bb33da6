"""The transition table, walked triple by triple through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from applications.workflow import TRANSITIONS, Action, State, TransitionRefused
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import Award, Objection, PublicNoticeBatch, PublicNoticeItem
from reviews.services.approval import approval_record
from reviews.services.publicity import notice_close, objection_resolve
from reviews.services.review import (
    application_commit,
    application_recommend,
    application_reject,
    application_return,
    application_return_to_commerce,
    application_take,
)

from .factories import Crew, advance, make_allocation, make_application, make_staff, publish

# The actions the bureau carries out (the applicant's and disbursement belong to other apps).
REVIEW_ACTIONS = [
    Action.TAKE,
    Action.RETURN,
    Action.REJECT,
    Action.RECOMMEND,
    Action.RETURN_TO_COMMERCE,
    Action.COMMIT,
    Action.UPHOLD_OBJECTION,
    Action.CLOSE_NOTICE,
    Action.RECORD_APPROVAL,
]
TRIPLES = [
    pytest.param(state, action, role, id=f"{state.value}-{action.value}-{role.value}")
    for state in State
    for action in REVIEW_ACTIONS
    for role in Role
]
PATH = [
    State.SUBMITTED,
    State.COMMERCE_REVIEW,
    State.FINANCE_REVIEW,
    State.PUBLIC_NOTICE,
    State.GOVERNMENT_APPROVAL,
    State.APPROVED,
]


def allowed(state, action, role) -> bool:
    transition = TRANSITIONS.get((state, action))
    return transition is not None and role.value in transition.actors


def _objection_on(application, crew):
    """An open objection; builds the notice it belongs to where the application has none."""
    item = PublicNoticeItem.objects.filter(application=application).first()
    if item is None:
        award = Award.objects.filter(application=application).first()
        if award is None:
            from reviews.models import Assessment

            assessment = Assessment.objects.create(
                application=application,
                on_date=timezone.localdate(),
                rules_version="test",
                eligible=True,
            )
            award = Award.objects.create(
                application=application,
                assessment=assessment,
                amount_cny=1,
                cap_cny=1,
                commerce_reviewer=crew.commerce,
                status=Award.Status.CANCELLED,
            )
        now = timezone.now()
        batch = PublicNoticeBatch.objects.create(
            published_by=crew.registrar,
            published_at=now,
            period_days=7,
            ends_at=now + timedelta(days=7),
        )
        item = PublicNoticeItem.objects.create(
            batch=batch,
            application=application,
            award=award,
            enterprise_name="x",
            measure_code="M05",
            amount_cny=1,
            status=PublicNoticeItem.Status.CLOSED,
        )
    return Objection.objects.create(
        item=item,
        application=application,
        author=make_staff(Role.APPLICANT),
        real_name="赵六",
        contact="13800000001",
        text="该企业出口额存疑。",
    )


def perform(action, user, application, *, crew, allocation):
    version = application.version
    common = {"user": user, "version": version}
    if action == Action.TAKE:
        return application_take(application=application, **common)
    if action == Action.RETURN:
        return application_return(
            application=application,
            fields=["cbec_export_volume_usd"],
            documents=["business_licence"],
            message="请补充海关统计证明。",
            **common,
        )
    if action == Action.REJECT:
        return application_reject(application=application, reason="不符合条件", **common)
    if action == Action.RECOMMEND:
        return application_recommend(application=application, amount="100000", **common)
    if action == Action.RETURN_TO_COMMERCE:
        return application_return_to_commerce(
            application=application, message="请核对金额", **common
        )
    if action == Action.COMMIT:
        return application_commit(application=application, allocation=allocation, **common)
    if action == Action.UPHOLD_OBJECTION:
        objection = _objection_on(application, crew)
        return objection_resolve(objection=objection, upheld=True, resolution="异议成立", **common)
    if action == Action.CLOSE_NOTICE:
        return notice_close(application=application, **common)
    if action == Action.RECORD_APPROVAL:
        return approval_record(
            user=user,
            application_ids=[application.pk],
            document_number=f"衡政函〔2026〕{application.pk}号",
            document_date=timezone.localdate(),
        )
    raise AssertionError(action)


def build(state, action, role, crew, allocation):
    """An application in `state`.

    Where the step is to succeed, through the services (the end-to-end paths: the state carries
    everything the step needs); where the table refuses it, from the factory, since the refusal
    comes at the first check and reads nothing but the state and the role.
    """
    if state in PATH and allowed(state, action, role):
        application = make_application()
        if state == State.PUBLIC_NOTICE:
            advance(application, State.PUBLIC_NOTICE, crew=crew, allocation=allocation)
            # Published; the period is over only when the notice is to be closed.
            publish(application, crew.registrar, over=action == Action.CLOSE_NOTICE)
        else:
            advance(application, state, crew=crew, allocation=allocation)
        return application
    return make_application(state=state)


@pytest.mark.django_db
@pytest.mark.parametrize(("state", "action", "role"), TRIPLES)
def test_transition_table_through_the_services(state, action, role, catalogue):
    crew = Crew()
    allocation = make_allocation()
    application = build(state, action, role, crew, allocation)
    application.refresh_from_db()
    user = make_staff(role)
    events_before = AuditEvent.objects.filter(action=f"review.{action.value}").count()
    if allowed(state, action, role):
        perform(action, user, application, crew=crew, allocation=allocation)
        application.refresh_from_db()
        assert application.state == TRANSITIONS[(state, action)].target
        events = AuditEvent.objects.filter(
            action=f"review.{action.value}", application_id=application.pk
        )
        assert events.count() == 1
        assert AuditEvent.objects.filter(action=f"review.{action.value}").count() == (
            events_before + 1
        )
    else:
        with pytest.raises(TransitionRefused) as refused:
            perform(action, user, application, crew=crew, allocation=allocation)
        message = str(refused.value)
        assert message
        assert "may not" in message or "is not possible" in message
        application.refresh_from_db()
        assert application.state == state
