"""The review services: four eyes, amounts, budgets, objections, approval and the audit trail."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from applications.models import Application, Notification
from applications.workflow import Action, State, TransitionRefused
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import verify_chain
from hengyang_cbec.errors import StaleVersion
from reviews.calendar import add_working_days
from reviews.models import (
    ApplicationActors,
    Assessment,
    Award,
    BudgetAllocation,
    CoReviewRequest,
    Objection,
    PublicNoticeItem,
)
from reviews.services.approval import approval_record
from reviews.services.assessment import review_warnings
from reviews.services.budgets import allocation_save, committed_total
from reviews.services.publicity import (
    close_due_notices,
    notice_close,
    notice_publish,
    objection_lodge,
    objection_resolve,
    open_notice_items,
)
from reviews.services.review import (
    application_commit,
    application_recommend,
    application_reject,
    application_return,
    application_return_to_commerce,
    application_take,
    coreview_answer,
    coreview_request,
    review_save_facts,
)
from reviews.services.steps import (
    BudgetExceeded,
    FourEyesViolation,
    ReviewError,
    parse_amount,
)
from tests.factories import make_user

from .factories import (
    Crew,
    add_evidence,
    advance,
    end_notice,
    make_allocation,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
    publish,
)

pytestmark = pytest.mark.django_db


def v(application: Application) -> int:
    application.refresh_from_db()
    return application.version


# --- Four eyes ------------------------------------------------------------------------------------


def test_the_commerce_reviewer_cannot_also_commit_at_finance(submitted, allocation):
    both = make_user(Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, username="both")
    application_take(user=both, application=submitted, version=v(submitted))
    application_recommend(user=both, application=submitted, amount="100000", version=v(submitted))
    with pytest.raises(FourEyesViolation, match="already acted"):
        application_commit(
            user=both, application=submitted, allocation=allocation, version=v(submitted)
        )
    assert Application.objects.get(pk=submitted.pk).state == State.FINANCE_REVIEW


def test_a_reviewer_replaced_at_commerce_still_cannot_act_at_finance(submitted, allocation):
    both = make_user(Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, username="both")
    colleague = make_user(Role.COMMERCE_REVIEWER, username="colleague")
    application_take(user=both, application=submitted, version=v(submitted))
    # A colleague finishes the commerce review: the current commerce slot now names them.
    application_recommend(
        user=colleague, application=submitted, amount="100000", version=v(submitted)
    )
    with pytest.raises(FourEyesViolation, match="already acted"):
        application_commit(
            user=both, application=submitted, allocation=allocation, version=v(submitted)
        )
    assert Application.objects.get(pk=submitted.pk).state == State.FINANCE_REVIEW


def test_a_superuser_with_every_role_gets_no_bypass(submitted, allocation, crew):
    boss = make_user(
        Role.COMMERCE_REVIEWER,
        Role.FINANCE_REVIEWER,
        Role.APPROVAL_REGISTRAR,
        username="boss",
        is_superuser=True,
        is_staff=True,
    )
    advance(submitted, State.FINANCE_REVIEW, crew=crew)
    application_commit(
        user=boss, application=submitted, allocation=allocation, version=v(submitted)
    )
    publish(submitted, crew.registrar, over=True)
    notice_close(user=crew.registrar, application=submitted)
    with pytest.raises(FourEyesViolation):
        approval_record(
            user=boss,
            application_ids=[submitted.pk],
            document_number="衡政函〔2026〕1号",
            document_date=timezone.localdate(),
        )


def test_a_superuser_without_roles_cannot_act_at_all(submitted):
    root = make_user(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(TransitionRefused, match="may not"):
        application_take(user=root, application=submitted, version=v(submitted))


def test_the_submitter_cannot_review_their_own_application(enterprise):
    insider = make_member(enterprise, "insider")
    insider.groups.add(*make_staff(Role.COMMERCE_REVIEWER).groups.all())
    application = make_application(enterprise=enterprise, submitter=insider)
    with pytest.raises(FourEyesViolation, match="submitter"):
        application_take(user=insider, application=application, version=v(application))


def test_the_database_refuses_one_person_in_two_capacities(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    actors = ApplicationActors.objects.get(application=submitted)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApplicationActors.objects.filter(pk=actors.pk).update(finance_reviewer=crew.commerce)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApplicationActors.objects.filter(pk=actors.pk).update(
            commerce_reviewer=submitted.submitted_by
        )


def test_the_database_refuses_an_award_whose_registrar_was_its_finance_reviewer(submitted, crew):
    advance(submitted, State.PUBLIC_NOTICE, crew=crew)
    award = Award.objects.get(application=submitted, status=Award.Status.COMMITTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Award.objects.filter(pk=award.pk).update(registrar=crew.finance)


# --- Stale pages ----------------------------------------------------------------------------------


def test_a_stale_form_gets_a_conflict_not_an_overwrite(submitted, crew):
    stale = v(submitted)
    application_take(user=crew.commerce, application=submitted, version=stale)
    with pytest.raises(StaleVersion, match="changed since your page was loaded"):
        application_reject(user=crew.commerce, application=submitted, reason="x", version=stale)
    assert Application.objects.get(pk=submitted.pk).state == State.COMMERCE_REVIEW


# --- Verified figures and amounts -----------------------------------------------------------------


def test_verified_figures_are_recomputed_and_kept_beside_the_declared_ones(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    assessment = review_save_facts(
        user=crew.commerce,
        application=submitted,
        facts={"cbec_export_volume_usd": Decimal("400000")},
        version=v(submitted),
    )
    assert assessment.cap_cny == Decimal("20000.00")
    assert assessment.verified_facts["cbec_export_volume_usd"] == "400000"
    assert assessment.result_en["trace"] and assessment.result_zh["trace"]
    assert assessment.rules_version
    submitted.refresh_from_db()
    assert submitted.declared_facts["cbec_export_volume_usd"] == "600000"
    event = AuditEvent.objects.get(action="review.verify", application_id=submitted.pk)
    assert event.data["cap_after"] == "20000.00"
    assert event.data["changed"]["cbec_export_volume_usd"]["declared"] == "600000"
    with pytest.raises(ReviewError, match="exceeds the computed cap"):
        application_recommend(
            user=crew.commerce, application=submitted, amount="100000", version=v(submitted)
        )


def test_a_figure_the_engine_cannot_read_is_refused_with_its_reason(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="The rules engine cannot read these figures"):
        review_save_facts(
            user=crew.commerce,
            application=submitted,
            facts={"cbec_export_volume_usd": "six hundred thousand"},
            version=v(submitted),
        )
    assert not submitted.assessments.exists()


def test_a_programming_error_in_the_assessment_is_not_passed_off_as_bad_figures(
    submitted, crew, monkeypatch
):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr("reviews.services.assessment.assess_measure", broken)
    with pytest.raises(TypeError, match="a bug"):
        review_save_facts(
            user=crew.commerce,
            application=submitted,
            facts={"cbec_export_volume_usd": Decimal("400000")},
            version=v(submitted),
        )


def test_a_lower_amount_needs_a_reason(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="lower than the cap needs a written reason"):
        application_recommend(
            user=crew.commerce, application=submitted, amount="80000", version=v(submitted)
        )
    award = application_recommend(
        user=crew.commerce,
        application=submitted,
        amount="80000",
        reason="部分出口额未经海关确认",
        version=v(submitted),
    )
    assert award.amount_cny == Decimal("80000.00")
    assert award.cap_cny == Decimal("100000.00")


@pytest.mark.parametrize("amount", ["-1", "0", "1e20", "NaN", "1,000", "abc"])
def test_absurd_amounts_are_refused(submitted, crew, amount):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError):
        application_recommend(
            user=crew.commerce,
            application=submitted,
            amount=amount,
            reason="x",
            version=v(submitted),
        )


def test_half_a_fen_rounds_half_up():
    assert parse_amount("0.005") == Decimal("0.01")
    assert parse_amount("99999.995") == Decimal("100000.00")


def test_a_discretionary_measure_needs_an_amount_and_a_reason(crew):
    association = make_enterprise(entity_type="industry_association")
    application = make_application(
        enterprise=association,
        code="M11",
        facts={"approved_by_commerce_bureau": True, "expenses_cny": "80000"},
    )
    advance(application, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="discretionary"):
        application_recommend(
            user=crew.commerce, application=application, amount="80000", version=v(application)
        )
    with pytest.raises(ReviewError, match="exceeds the computed cap"):
        application_recommend(
            user=crew.commerce,
            application=application,
            amount="80000.01",
            reason="x",
            version=v(application),
        )
    award = application_recommend(
        user=crew.commerce,
        application=application,
        amount="50000",
        reason="协会组织培训，按实际支出的六成支持",
        version=v(application),
    )
    assert award.cap_cny == Decimal("80000.00")


def test_the_external_measure_cannot_be_awarded_here(enterprise, member, crew):
    application = make_application(enterprise=enterprise, submitter=member, code="M15", facts={})
    advance(application, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="another policy"):
        application_recommend(
            user=crew.commerce,
            application=application,
            amount="1000",
            reason="x",
            version=v(application),
        )


# --- Return and reject ----------------------------------------------------------------------------


@override_settings(REVIEW_HOLIDAYS=["2026-10-01", "2026-10-02"], REVIEW_EXTRA_WORKING_DAYS=[])
def test_deadlines_count_working_days_and_skip_holidays():
    # Wed 30 Sep 2026 + 3 working days: Thu 1 and Fri 2 Oct are holidays → Mon 5, Tue 6, Wed 7.
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 7)
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Fri → Mon


@override_settings(REVIEW_EXTRA_WORKING_DAYS=["2026-11-28"])
def test_an_adjusted_weekend_working_day_counts():
    assert add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 28)


def test_a_return_reopens_the_named_fields_and_documents_with_a_deadline(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    application_return(
        user=crew.commerce,
        application=submitted,
        fields=["cbec_export_volume_usd"],
        documents=["business_licence"],
        message="请补充海关统计证明。",
        working_days=5,
        version=v(submitted),
    )
    submitted.refresh_from_db()
    assert submitted.state == State.RETURNED
    assert submitted.return_fields == ["cbec_export_volume_usd"]
    assert submitted.return_documents == ["business_licence"]
    assert submitted.return_deadline == add_working_days(timezone.localdate(), 5)
    event = AuditEvent.objects.get(action="review.return", application_id=submitted.pk)
    assert event.visible_to_applicant and event.public_message == "请补充海关统计证明。"
    assert Notification.objects.filter(application=submitted).exists()


def test_a_return_must_name_something_of_this_measure(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    for fields, documents in (([], []), (["social_security_paid_cny"], []), ([], ["nope"])):
        with pytest.raises(ReviewError):
            application_return(
                user=crew.commerce,
                application=submitted,
                fields=fields,
                documents=documents,
                message="x",
                version=v(submitted),
            )


def test_a_rejection_needs_a_reason_the_applicant_reads(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="reason"):
        application_reject(
            user=crew.commerce, application=submitted, reason="  ", version=v(submitted)
        )
    application_reject(
        user=crew.commerce, application=submitted, reason="出口额不实", version=v(submitted)
    )
    event = AuditEvent.objects.get(action="review.reject", application_id=submitted.pk)
    assert event.public_message == "出口额不实"


# --- Budgets --------------------------------------------------------------------------------------


def test_a_commitment_that_would_overspend_is_refused(catalogue, crew):
    small = make_allocation("150000", source="municipal_matching")
    first, second = make_application(), make_application()
    for application in (first, second):
        advance(application, State.FINANCE_REVIEW, crew=crew)
    application_commit(user=crew.finance, application=first, allocation=small, version=v(first))
    with pytest.raises(BudgetExceeded, match="overspent"):
        application_commit(
            user=crew.finance, application=second, allocation=small, version=v(second)
        )
    small.refresh_from_db()
    assert small.committed_cny == Decimal("100000.00") == committed_total(small)


def test_the_database_refuses_an_overspent_allocation(allocation):
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetAllocation.objects.filter(pk=allocation.pk).update(
            committed_cny=allocation.amount_cny + 1
        )


def test_an_allocation_cannot_go_below_what_is_committed(submitted, crew, allocation):
    admin = make_staff(Role.POLICY_ADMINISTRATOR)
    advance(submitted, State.PUBLIC_NOTICE, crew=crew, allocation=allocation)
    with pytest.raises(ReviewError, match="lower than what is already committed"):
        allocation_save(user=admin, allocation=allocation, data={"amount_cny": "50000"})
    allocation_save(user=admin, allocation=allocation, data={"amount_cny": "100000"})
    allocation.refresh_from_db()
    assert allocation.amount_cny == allocation.committed_cny == Decimal("100000.00")


def make_application_scoped(**kwargs):
    """The applications app allows one open M16 per enterprise and year; the cap must hold even
    when two exist (they differ only in scope_key, which M16 does not read)."""
    application = make_application(**kwargs)
    Application.objects.filter(pk=application.pk).update(scope_key=f"s{application.pk}")
    application.refresh_from_db()
    return application


def test_annual_cap_is_rechecked_at_commit_from_the_awards_in_the_database(enterprise, crew):
    member = make_member(enterprise)
    facts = {"social_security_paid_cny": "800000"}
    first = make_application_scoped(
        enterprise=enterprise, submitter=member, code="M16", facts=facts
    )
    second = make_application_scoped(
        enterprise=enterprise, submitter=member, code="M16", facts=facts
    )
    for application in (first, second):
        advance(application, State.FINANCE_REVIEW, crew=crew, amount="80000")
    application_commit(
        user=crew.finance, application=first, allocation=make_allocation(), version=v(first)
    )
    with pytest.raises(ReviewError, match=r"at most CNY 20,000\.00"):
        application_commit(
            user=crew.finance, application=second, allocation=make_allocation(), version=v(second)
        )


def test_overlap_is_rechecked_at_commit(enterprise, crew):
    member = make_member(enterprise)
    m08 = make_application(
        enterprise=enterprise,
        submitter=member,
        code="M08",
        facts={"introduced_this_year": True, "cbec_volume_usd": "60000000"},
    )
    m05 = make_application(enterprise=enterprise, submitter=member)
    advance(m05, State.FINANCE_REVIEW, crew=crew)
    advance(m08, State.FINANCE_REVIEW, crew=crew, amount="500000")
    application_commit(
        user=crew.finance, application=m08, allocation=make_allocation(), version=v(m08)
    )
    with pytest.raises(ReviewError, match=r"at most CNY 0\.00"):
        application_commit(
            user=crew.finance, application=m05, allocation=make_allocation(), version=v(m05)
        )


def test_one_time_is_rechecked_at_commit(enterprise, crew):
    member = make_member(enterprise)
    first = make_application(enterprise=enterprise, submitter=member, year=2025)
    second = make_application(enterprise=enterprise, submitter=member, year=2026)
    for application in (first, second):
        advance(application, State.FINANCE_REVIEW, crew=crew)
    application_commit(
        user=crew.finance, application=first, allocation=make_allocation(), version=v(first)
    )
    with pytest.raises(ReviewError, match="one-time"):
        application_commit(
            user=crew.finance, application=second, allocation=make_allocation(), version=v(second)
        )


def test_return_to_commerce_cancels_the_recommendation(submitted, crew):
    advance(submitted, State.FINANCE_REVIEW, crew=crew)
    application_return_to_commerce(
        user=crew.finance, application=submitted, message="金额依据不足", version=v(submitted)
    )
    submitted.refresh_from_db()
    assert submitted.state == State.COMMERCE_REVIEW
    assert not Award.objects.filter(application=submitted).exclude(status="cancelled").exists()


# --- Co-review ------------------------------------------------------------------------------------


def test_co_review_is_routed_to_the_measures_units_only(submitted, crew):
    advance(submitted, State.COMMERCE_REVIEW, crew=crew)
    with pytest.raises(ReviewError, match="responsible for this measure"):
        coreview_request(
            user=crew.commerce, application=submitted, units=["pboc_hengyang"], version=v(submitted)
        )
    (request,) = coreview_request(
        user=crew.commerce,
        application=submitted,
        units=["customs"],
        message="请核实出口额",
        version=v(submitted),
    )
    taxman = make_staff(Role.CO_REVIEWER, unit="taxation_bureau")
    with pytest.raises(ReviewError, match="not routed to your unit"):
        coreview_answer(user=taxman, request=request, decision="agree", text="同意")
    customs = make_staff(Role.CO_REVIEWER, unit="customs")
    coreview_answer(user=customs, request=request, decision="agree", text="数据属实")
    request.refresh_from_db()
    assert request.status == CoReviewRequest.Status.ANSWERED
    assert request.opinion.text == "数据属实"


# --- Public notice and objections ---------------------------------------------------------------


@pytest.fixture
def on_notice(submitted, crew):
    advance(submitted, State.PUBLIC_NOTICE, crew=crew)
    publish(submitted, crew.registrar, days=7)
    return submitted


def lodge(application, text="该企业出口额存疑。"):
    item = PublicNoticeItem.objects.get(application=application, status="listed")
    citizen = make_user(username=f"citizen{application.pk}{Objection.objects.count()}")
    return objection_lodge(
        user=citizen, item=item, real_name="赵六", contact="13800000001", text=text
    )


def test_the_public_notice_shows_only_name_measure_and_amount(on_notice):
    item = open_notice_items().get(application=on_notice)
    assert item.enterprise_name == on_notice.enterprise.name
    assert item.amount_cny == Decimal("100000.00")
    assert item.batch.ends_at > timezone.now()


def test_an_open_objection_holds_the_application(on_notice, crew):
    lodge(on_notice)
    end_notice(on_notice)
    assert close_due_notices() == 0
    with pytest.raises(ReviewError, match="open objection holds"):
        notice_close(user=crew.registrar, application=on_notice)
    on_notice.refresh_from_db()
    assert on_notice.state == State.PUBLIC_NOTICE


def test_a_dismissed_objection_releases_the_application(on_notice, crew):
    objection = lodge(on_notice)
    end_notice(on_notice)
    objection_resolve(
        user=crew.commerce,
        objection=objection,
        upheld=False,
        resolution="经核查，出口额有海关数据支持。",
        version=v(on_notice),
    )
    assert close_due_notices() == 1
    on_notice.refresh_from_db()
    assert on_notice.state == State.GOVERNMENT_APPROVAL


def test_an_upheld_objection_returns_the_application_and_releases_the_budget(
    on_notice, crew, allocation
):
    allocation.refresh_from_db()
    assert allocation.committed_cny == Decimal("100000.00")
    objection = lodge(on_notice)
    objection_resolve(
        user=crew.commerce,
        objection=objection,
        upheld=True,
        resolution="异议成立：出口额含关联交易。",
        version=v(on_notice),
    )
    on_notice.refresh_from_db()
    assert on_notice.state == State.COMMERCE_REVIEW
    allocation.refresh_from_db()
    assert allocation.committed_cny == Decimal("0.00") == committed_total(allocation)
    assert not PublicNoticeItem.objects.filter(application=on_notice, status="listed").exists()


def test_an_objection_after_the_period_is_refused(on_notice):
    end_notice(on_notice)
    with pytest.raises(ReviewError, match="period of this award is over"):
        lodge(on_notice)


def test_an_objection_file_is_stored_under_a_generated_name(on_notice):
    from applications.tests.factories import pdf_upload

    item = PublicNoticeItem.objects.get(application=on_notice, status="listed")
    objection = objection_lodge(
        user=make_user(username="whistle"),
        item=item,
        real_name="赵六",
        contact="a@example.test",
        text="见附件",
        upload=pdf_upload("../../证据.pdf"),
    )
    assert objection.file.name.startswith("objections/")
    assert "证据" not in objection.file.name and ".." not in objection.file.name
    assert objection.file_name.endswith(".pdf")


@override_settings(PUBLIC_NOTICE_DAYS=0)
def test_a_zero_day_notice_goes_straight_to_government_approval(submitted, crew):
    advance(submitted, State.PUBLIC_NOTICE, crew=crew)
    notice_publish(user=crew.registrar, application_ids=[submitted.pk])
    submitted.refresh_from_db()
    assert submitted.state == State.GOVERNMENT_APPROVAL


# --- Government approval -----------------------------------------------------------------------


def test_government_approval_fixes_the_awards_of_a_batch(catalogue, crew):
    applications = [make_application() for _ in range(3)]
    for application in applications:
        advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    batch = approval_record(
        user=crew.registrar,
        application_ids=[a.pk for a in applications],
        document_number="衡政函〔2026〕88号",
        document_date=timezone.localdate(),
    )
    for application in applications:
        application.refresh_from_db()
        assert application.state == State.APPROVED
        assert application.approved_amount_cny == Decimal("100000.00")
        award = Award.objects.get(application=application, status=Award.Status.FIXED)
        assert award.approval_batch == batch
        assert award.registrar == crew.registrar
        fixed = AuditEvent.objects.get(action="award.fixed", application_id=application.pk)
        assert fixed.data["approval"] == "衡政函〔2026〕88号"


def test_a_batch_approval_is_all_or_nothing(catalogue, crew):
    ready = make_application()
    advance(ready, State.GOVERNMENT_APPROVAL, crew=crew)
    not_ready = make_application()
    advance(not_ready, State.FINANCE_REVIEW, crew=crew)
    with pytest.raises(TransitionRefused):
        approval_record(
            user=crew.registrar,
            application_ids=[ready.pk, not_ready.pk],
            document_number="衡政函〔2026〕89号",
            document_date=timezone.localdate(),
        )
    ready.refresh_from_db()
    assert ready.state == State.GOVERNMENT_APPROVAL
    assert not Award.objects.filter(status=Award.Status.FIXED).exists()


def test_a_document_number_is_used_once(catalogue, crew):
    first, second = make_application(), make_application()
    for application in (first, second):
        advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    approval_record(
        user=crew.registrar,
        application_ids=[first.pk],
        document_number="衡政函〔2026〕90号",
        document_date=timezone.localdate(),
    )
    with pytest.raises(ReviewError, match="recorded already"):
        approval_record(
            user=crew.registrar,
            application_ids=[second.pk],
            document_number="衡政函〔2026〕90号",
            document_date=timezone.localdate(),
        )


def test_a_document_date_in_the_future_is_refused(submitted, crew):
    advance(submitted, State.GOVERNMENT_APPROVAL, crew=crew)
    with pytest.raises(ReviewError, match="future"):
        approval_record(
            user=crew.registrar,
            application_ids=[submitted.pk],
            document_number="x",
            document_date=timezone.localdate() + timedelta(days=1),
        )


# --- Audit ----------------------------------------------------------------------------------------


def test_every_transition_writes_one_event_and_the_chain_verifies(submitted, crew):
    advance(submitted, State.APPROVED, crew=crew)
    actions = list(
        AuditEvent.objects.filter(application_id=submitted.pk, action__startswith="review.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    transitions = [a for a in actions if a.split(".", 1)[1] in Action.values]
    assert transitions == [
        "review.take",
        "review.recommend",
        "review.commit",
        "review.close_notice",
        "review.record_approval",
    ]
    visible = AuditEvent.objects.filter(application_id=submitted.pk, visible_to_applicant=True)
    assert set(transitions) <= set(visible.values_list("action", flat=True))
    assert verify_chain().ok


def test_the_stored_award_keeps_facts_trace_and_rules_version(submitted, crew):
    advance(submitted, State.APPROVED, crew=crew)
    award = Award.objects.select_related("assessment").get(application=submitted, status="fixed")
    assessment: Assessment = award.assessment
    assert assessment.verified_facts["cbec_export_volume_usd"] == "600000"
    assert assessment.result_en["trace"]
    assert assessment.rules_version
    assert award.submitter == submitted.submitted_by
    assert len({award.submitter_id, award.commerce_reviewer_id, award.finance_reviewer_id}) == 3


def test_warnings_show_shared_evidence_and_bank_accounts(submitted, crew):
    other = make_enterprise(bank_account=submitted.enterprise.bank_account)
    other_application = make_application(enterprise=other)
    add_evidence(submitted, sha256="cd" * 32)
    add_evidence(other_application, sha256="cd" * 32)
    codes = {w.code for w in review_warnings(submitted)}
    assert {"same_evidence", "same_bank_account"} <= codes


def test_warnings_show_one_time_and_overlap_awards(enterprise, member, crew):
    earlier = make_application(enterprise=enterprise, submitter=member, year=2025)
    advance(earlier, State.APPROVED, crew=Crew())
    m08 = make_application(
        enterprise=enterprise, submitter=member, code="M08", facts={}, state=State.APPROVED
    )
    Application.objects.filter(pk=m08.pk).update(approved_amount_cny=Decimal("30000"))
    current = make_application(enterprise=enterprise, submitter=member, year=2026)
    codes = {w.code for w in review_warnings(current)}
    assert {"one_time", "overlap"} <= codes
