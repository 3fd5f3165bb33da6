"""A submitted M05 application travels the bureau's whole path to approved, in the browser."""

from __future__ import annotations

import pytest

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
        facts={"cbec_export_volume_usd": "600000"},
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
        facts={"cbec_export_volume_usd": "600000"},
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
