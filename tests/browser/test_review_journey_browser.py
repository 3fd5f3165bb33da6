"""A submitted M05 application travels the bureau's whole path to approved, in the browser."""

from __future__ import annotations

import pytest
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import Award
from reviews.tests.factories import (
    add_evidence,
    make_allocation,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch_user(page, login, username: str) -> None:
    page.context.clear_cookies()
    login(username)


def test_a_submitted_application_travels_to_approved(
    page, live_server, login, catalogue, settings, look
):
    settings.PUBLIC_NOTICE_DAYS = 0  # public notice off: publishing goes to government approval
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司")
    applicant = make_member(enterprise, "enterprise")
    application = make_application(
        enterprise=enterprise,
        submitter=applicant,
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
    )
    add_evidence(application, sha256="5e" * 32)
    make_allocation("5000000")
    for role, username in (
        (Role.COMMERCE_REVIEWER, "commerce"),
        (Role.FINANCE_REVIEWER, "finance"),
        (Role.APPROVAL_REGISTRAR, "registrar"),
    ):
        make_staff(role, username)
    detail = f"{live_server.url}/staff/applications/{application.pk}/"

    # Commerce: take it from the queue, verify the figures, approve CNY 100,000.
    login("commerce")
    page.goto(f"{live_server.url}/staff/queue/commerce/")
    row = page.locator(f"tr[data-application='{application.pk}']")
    assert enterprise.uscc in row.inner_text()
    look("commerce queue")
    row.locator("[data-action=take]").click()
    page.wait_for_load_state("networkidle")
    assert page.url == detail
    look("review page after taking")
    page.fill("#id_facts-cbec_export_volume_usd", "600000")
    page.click("[data-action=save_facts]")
    page.wait_for_load_state("networkidle")
    verified = page.locator("[data-fact=cbec_export_volume_usd] [data-verified]").inner_text()
    assert verified == "600,000.00 美元"
    page.fill("#recommend-form input[name=amount]", "100000")
    page.click("[data-action=recommend]")
    page.wait_for_load_state("networkidle")
    page.locator("[data-state=finance_review]").wait_for()
    look("sent to finance")

    # Finance: commit it to the 2026 budget.
    switch_user(page, login, "finance")
    page.goto(detail)
    page.locator("#commit-form select[name=allocation]").select_option(index=1)
    page.click("[data-action=commit]")
    page.wait_for_load_state("networkidle")
    page.locator("[data-state=public_notice]").wait_for()

    # Registrar: publish (period 0: straight to government approval), then record approval.
    switch_user(page, login, "registrar")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=to_publish")
    page.check(f"tr[data-application='{application.pk}'] input[name=applications]")
    page.click("[data-action=publish]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=to_approve")
    page.check(f"tr[data-application='{application.pk}'] input[name=applications]")
    page.fill("#id_document_number", "衡政函〔2026〕35号")
    page.fill("#id_document_date", "2026-11-20")
    page.click("[data-action=record_approval]")
    page.wait_for_load_state("networkidle")

    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert str(application.approved_amount_cny) == "100000.00"
    assert Award.objects.get(application=application, status=Award.Status.FIXED)

    # The applicant sees every step on the timeline, in order.
    switch_user(page, login, "enterprise")
    page.goto(f"{live_server.url}/my/applications/{application.pk}/")
    page.locator("[data-timeline-action]").first.wait_for()
    actions = page.locator("[data-timeline-action]").evaluate_all(
        "els => els.map(e => e.dataset.timelineAction)"
    )
    steps = [
        "review.take",
        "review.recommend",
        "review.commit",
        "review.notice_publish",
        "review.close_notice",
        "review.record_approval",
    ]
    shown = [a for a in actions if a in steps]
    assert shown == steps, actions
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_a_commerce_reviewer_saves_a_verified_figure_and_sees_the_amount_recomputed(
    page, live_server, login, catalogue, look
):
    """The heart of the review: the typed figure is stored, the amount recomputed from it, and the
    change from the declared figure highlighted, all as the reviewer reads it."""
    from decimal import Decimal

    from policies.services import assess_measure
    from reviews.models import Assessment

    enterprise = make_enterprise("衡阳核定数据测试有限公司")
    applicant = make_member(enterprise, "filer")
    application = make_application(
        enterprise=enterprise,
        submitter=applicant,
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
    )
    make_staff(Role.COMMERCE_REVIEWER, "commerce")
    login("commerce")
    page.goto(f"{live_server.url}/staff/queue/commerce/")
    page.locator(f"tr[data-application='{application.pk}'] [data-action=take]").click()
    page.wait_for_load_state("networkidle")
    # The form opens without errors, and the locked year is the application's year.
    assert page.locator("#facts-form .invalid-feedback").count() == 0
    assert page.input_value("#id_facts-year") == str(application.year)
    declared = page.locator("[data-fact=cbec_export_volume_usd] [data-declared]")
    assert declared.inner_text() == "600,000.00 美元"
    look("review page before verifying")

    page.fill("#id_facts-cbec_export_volume_usd", "500000")
    page.click("[data-action=save_facts]")
    page.wait_for_load_state("networkidle")
    look("verified figure saved")

    # Stored: the latest assessment holds the typed figure and the amount computed from it.
    latest = Assessment.objects.filter(application=application).latest("created_at", "id")
    assert Decimal(str(latest.verified_facts["cbec_export_volume_usd"])) == Decimal("500000")
    facts = {**latest.verified_facts}
    expected = assess_measure("M05", facts, on_date=latest.on_date, prior_awards=[]).amount_cny
    assert latest.amount_cny == expected
    assert expected != Decimal("100000.00")  # a different figure, a different amount

    # Shown: the figure as typed, highlighted as changed; the amount recomputed, with its unit.
    row = page.locator("[data-fact=cbec_export_volume_usd]")
    assert row.get_attribute("data-changed") is not None
    assert row.locator("[data-verified]").inner_text().startswith("500,000.00 美元")
    assert row.locator("[data-change-badge]").inner_text() == "已修改"
    assert declared.inner_text() == "600,000.00 美元"
    shown = page.locator("[data-result-amount]").inner_text()
    assert shown == f"{expected:,.2f} 元"
    assert page.input_value("#recommend-form input[name=amount]") == f"{expected:.2f}"
    assert "核定数据已保存" in page.locator(".messages").inner_text()
    timeline = page.locator("[data-audit-action='review.verify']").inner_text()
    assert "保存了核定数据并重新测算金额" in timeline


def test_a_return_is_answered_and_the_reviewer_sees_what_changed_then_rejects_after_a_question(
    page, live_server, login, catalogue, look, tmp_path
):
    from applications.models import Evidence
    from applications.tests.factories import pdf_bytes

    enterprise = make_enterprise("衡阳补正测试有限公司")
    applicant = make_member(enterprise, "filer")
    application = make_application(
        enterprise=enterprise,
        submitter=applicant,
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
    )
    for index, code in enumerate(application.measure.evidence_types):
        evidence = add_evidence(application, sha256=f"{index:02d}" * 32)
        Evidence.objects.filter(pk=evidence.pk).update(document_type=code)
    reopened_document = application.measure.evidence_types[-1]
    make_staff(Role.COMMERCE_REVIEWER, "commerce")
    detail = f"{live_server.url}/staff/applications/{application.pk}/"

    # Commerce takes it and returns the export figure and one document.
    login("commerce")
    page.goto(detail)
    page.click("[data-action=take]")
    page.wait_for_load_state("networkidle")
    page.click("summary:has-text('退回补正')")
    page.check("input[name=fields_to_reopen][value=cbec_export_volume_usd]")
    page.check(f"input[name=documents_to_reopen][value={reopened_document}]")
    page.fill(
        "form[action$='/return/'] textarea[name=message]",
        "出口额与海关统计不一致，请核对并上传海关证明。",
    )
    look("return form filled")
    page.click("[data-action=return]")
    page.wait_for_load_state("networkidle")
    page.locator("[data-state=returned]").wait_for()

    # The applicant corrects the figure and adds the customs certificate.
    page.context.clear_cookies()
    login("filer")
    page.goto(f"{live_server.url}/my/applications/{application.pk}/edit/")
    look("returned application to correct")
    page.fill("#id_cbec_export_volume_usd", "700000")
    page.locator("#autosave-status[data-state=saved]").wait_for()
    certificate = tmp_path / "海关证明.pdf"
    certificate.write_bytes(pdf_bytes())
    # The wrong file is replaced in its slot; the old one stays in the record, struck through.
    block = page.locator(f"[data-document-type={reopened_document}]")
    block.locator("summary:has-text('更换')").click()
    replace = block.locator("form[data-replace]")
    replace.locator("input[type=file]").set_input_files(str(certificate))
    replace.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "海关证明.pdf" in page.locator(".messages").inner_text()
    block = page.locator(f"[data-document-type={reopened_document}]")
    assert "已撤下，原件留档" in block.locator("[data-withdrawn]").inner_text()
    look("document replaced")
    page.locator("[data-to-check]:visible").click()
    page.check("#id_declared")
    page.fill("#id_signer_name", "王芳")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert application.resubmission_count == 1

    # The reviewer sees the figures before and after, and the new document.
    page.context.clear_cookies()
    login("commerce")
    page.goto(detail)
    changes = page.locator("[data-changes-since-return]")
    row = changes.locator("[data-changed-fact=cbec_export_volume_usd]")
    assert "600,000.00 美元" in row.inner_text() and "700,000.00 美元" in row.inner_text()
    assert "海关证明.pdf" in changes.inner_text()
    assert page.locator("[data-evidence][data-withdrawn]").count() == 1
    look("reviewer sees what changed")

    # Rejecting asks first; saying no changes nothing.
    page.click("[data-action=take]")
    page.wait_for_load_state("networkidle")
    page.click("summary:has-text('不予支持')")
    page.fill("form[action$='/reject/'] textarea[name=reason]", "出口额证明与海关统计仍不一致。")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("[data-action=reject]")
    page.wait_for_load_state("networkidle")
    assert "不予支持" in questions[0]
    application.refresh_from_db()
    assert application.state == State.COMMERCE_REVIEW
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("[data-action=reject]")
    page.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.state == State.REJECTED
    look("rejected")


def test_in_english_the_review_page_reads_as_english_with_units(
    page, live_server, login, catalogue, settings, look
):
    """The shorter run in English: facts, amounts and the timeline in English, with units."""
    enterprise = make_enterprise("衡阳英文测试有限公司")
    applicant = make_member(enterprise, "filer")
    application = make_application(
        enterprise=enterprise,
        submitter=applicant,
        facts={"cbec_export_volume_usd": "1200000", "had_cbec_exports_before": False},
    )
    make_staff(Role.COMMERCE_REVIEWER, "commerce", full_name="Zhang Wei")
    login("commerce")
    page.click("button[data-language=en]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/staff/applications/{application.pk}/")
    page.click("[data-action=take]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    row = page.locator("[data-fact=cbec_export_volume_usd] [data-declared]")
    assert row.inner_text() == "USD 1,200,000.00"
    assert page.locator("[data-fact=entity_type] [data-declared]").inner_text() == "CBEC enterprise"
    assert page.locator("[data-fact=pays_taxes] [data-declared]").inner_text() == "Yes"
    assert page.locator("[data-result-amount]").inner_text() == "CNY 500,000.00"
    timeline = page.locator("[data-audit-action='review.take']").inner_text()
    assert "Zhang Wei took the application for review." in timeline
    look("review page in English")


def test_the_registrar_sees_when_each_notice_ends_and_closes_the_due_ones(
    page, live_server, login, catalogue, look
):
    from reviews.tests.factories import Crew, advance, end_notice, publish

    crew = Crew()
    crew._users[Role.APPROVAL_REGISTRAR] = make_staff(Role.APPROVAL_REGISTRAR, "registrar")
    application = make_application(submitted_days_ago=60)
    advance(application, State.PUBLIC_NOTICE, crew=crew)
    batch = publish(application, crew.registrar)
    login("registrar")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=on_notice")
    row = page.locator(f"tr[data-application='{application.pk}']")
    ends = timezone.localtime(batch.ends_at)
    assert row.locator("[data-notice-ends]").inner_text() == f"公示截止：{ends:%Y-%m-%d %H:%M}"
    assert application.enterprise.uscc in row.inner_text()
    # Submitted 60 days ago, but on notice: not the bureau's delay, so never 超期.
    assert row.get_attribute("data-overdue") is None
    assert "超期" not in row.inner_text()
    look("on notice with end dates")
    end_notice(application)
    page.click("[data-action=close_notices]")
    page.wait_for_load_state("networkidle")
    assert "已结束 1 项公示。" in page.locator(".messages").inner_text()
    application.refresh_from_db()
    assert application.state == State.GOVERNMENT_APPROVAL
    look("due notices closed")
