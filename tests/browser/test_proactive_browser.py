"""免申即享 in the browser, in Chinese: commerce imports the sample customs file, a second commerce
reviewer approves it, matching offers the demo enterprise M05, the enterprise confirms with only
the declaration and two documents, the reviewer sees the provenance, and the application goes
through to the approval notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from applications.models import Application
from applications.tests.factories import pdf_bytes
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import Entitlement, Notice, StatisticsImport
from reviews.tests.factories import make_allocation, make_enterprise, make_member, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = (
    Path(__file__).resolve().parents[2] / "reviews" / "fixtures" / "statistics"
) / "customs-cbec-2026.csv"
USCC = "91430400MA4L1A2B3Y"


@pytest.fixture
def in_process_tasks():
    """Embedded mode (tasks run in-process after commit) even when REDIS_URL is set."""
    from hengyang_cbec.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def switch_user(page, login, username: str) -> None:
    page.context.clear_cookies()
    login(username)


def test_customs_statistics_become_an_application_and_a_notice(
    page, live_server, login, catalogue, settings, in_process_tasks, tmp_path, look
):
    settings.PUBLIC_NOTICE_DAYS = 0  # publishing goes straight to government approval
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", uscc=USCC)
    make_member(enterprise, "enterprise")
    make_staff(Role.COMMERCE_REVIEWER, "commerce", full_name="周敏")
    make_staff(Role.COMMERCE_REVIEWER, "commerce2", full_name="陈立")
    make_staff(Role.FINANCE_REVIEWER, "finance")
    make_staff(Role.APPROVAL_REGISTRAR, "registrar")
    make_allocation("5000000")
    document = tmp_path / "信用承诺书.pdf"
    document.write_bytes(pdf_bytes())

    # 1. Commerce imports the sample customs file: checked whole, previewed, waiting.
    login("commerce")
    page.goto(f"{live_server.url}/staff/statistics/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    look("statistics page")
    page.select_option("#id_source", "customs")
    page.set_input_files("#id_file", str(SAMPLE))
    page.click("[data-action=import_statistics]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-count=new]").inner_text() == "新增 5 条"
    assert page.locator("[data-waiting]").is_visible()  # not by the importer
    look("preview waiting for approval")
    statistics_import = StatisticsImport.objects.get()

    # 2. A second commerce reviewer approves it; matching runs on what it changed.
    switch_user(page, login, "commerce2")
    page.goto(f"{live_server.url}/staff/statistics/{statistics_import.pk}/")
    page.click("[data-action=approve_import]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-state]").first.inner_text() == "已生效"
    look("import applied")

    # 3. The entitlement list: M05, CNY 500,000, the clause and the import line in the trace.
    page.goto(f"{live_server.url}/staff/entitlements/")
    row = page.locator(f"tr[data-uscc='{USCC}'][data-measure=M05]")
    assert row.locator("[data-amount]").inner_text() == "500,000.00 元"
    row.locator("summary").click()
    trace = row.locator(".trace").inner_text()
    assert "II(3)5" in trace
    assert f"导入第 {statistics_import.pk} 号第 2 行" in trace and "陈立" in trace
    look("entitlement list")
    # Matched but not registered: listed with an invitation link binding the credit code.
    page.goto(f"{live_server.url}/staff/entitlements/?registered=no")
    links = page.locator("[data-invite]").evaluate_all("els => els.map(e => e.value)")
    assert any(link.endswith("?uscc=91430400MA4QH7R2CL") for link in links), links
    look("enterprises to invite")

    # 4. The enterprise sees it, confirms, adds only what the source lacks, and submits.
    switch_user(page, login, "enterprise")
    page.goto(f"{live_server.url}/my/")
    assert "依据海关统计，贵单位 2026 年可享受 M05 奖励 500,000.00 元" in page.content()
    card = page.locator("[data-entitlements] [data-measure=M05]")
    assert card.locator("[data-amount]").inner_text() == "500,000.00 元"
    look("dashboard with the entitlement")
    card.locator("[data-action=confirm_entitlement]").click()
    page.wait_for_load_state("networkidle")
    volume = page.locator("#id_cbec_export_volume_usd")
    assert volume.is_disabled() and volume.input_value() == "1250000.00"
    assert "来自海关统计" in page.locator("#application-form").inner_text()
    page.select_option("#id_had_cbec_exports_before", "no")
    page.locator("#autosave-status[data-state=saved]").wait_for()
    blocks = page.locator("[data-document-type]")
    assert blocks.evaluate_all("els => els.map(e => e.dataset.documentType)") == [
        "credit_commitment_letter",
        "bank_account_proof",
    ]
    look("application filled from the source")
    for index in range(2):
        block = page.locator("[data-document-type]").nth(index)
        block.locator("input[type=file]").set_input_files(str(document))
        block.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
    page.locator("[data-to-check]:visible").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-fact=cbec_export_volume_usd]").inner_text() == "1,250,000.00 美元"
    page.check("#id_declared")
    page.fill("#id_signer_name", "王芳")
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    look("submitted")
    application = Application.objects.get(enterprise=enterprise, measure__code="M05")
    assert application.state == State.SUBMITTED
    assert application.evidence.count() == 2
    assert Entitlement.objects.get(application=application).status == "confirmed"
    detail = f"{live_server.url}/staff/applications/{application.pk}/"

    # 5. The reviewer sees the figure verified at the source, with its provenance.
    switch_user(page, login, "commerce")
    page.goto(f"{live_server.url}/staff/queue/commerce/")
    page.locator(f"tr[data-application='{application.pk}'] [data-action=take]").click()
    page.wait_for_load_state("networkidle")
    provenance = page.locator("[data-provenance=cbec_export_volume_usd]").inner_text()
    assert "已在来源核实" in provenance
    assert f"导入第 {statistics_import.pk} 号第 2 行" in provenance and "陈立" in provenance
    assert page.locator("[data-proactive]").is_visible()
    look("review page with provenance")
    page.fill("#recommend-form input[name=amount]", "500000")
    page.click("[data-action=recommend]")
    page.wait_for_load_state("networkidle")
    page.locator("[data-state=finance_review]").wait_for()

    # 6. Finance commits, the registrar publishes and records the approval: the notice follows.
    switch_user(page, login, "finance")
    page.goto(detail)
    page.locator("#commit-form select[name=allocation]").select_option(index=1)
    page.click("[data-action=commit]")
    page.wait_for_load_state("networkidle")
    switch_user(page, login, "registrar")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=to_publish")
    page.check(f"tr[data-application='{application.pk}'] input[name=applications]")
    page.click("[data-action=publish]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=to_approve")
    page.check(f"tr[data-application='{application.pk}'] input[name=applications]")
    page.fill("#id_document_number", "衡政函〔2026〕36号")
    page.fill("#id_document_date", "2026-11-25")
    page.click("[data-action=record_approval]")
    page.wait_for_load_state("networkidle")
    application.refresh_from_db()
    assert application.state == State.APPROVED
    assert str(application.approved_amount_cny) == "500000.00"
    notice = Notice.objects.get(application=application)
    assert notice.status == Notice.Status.READY, notice.error
    switch_user(page, login, "enterprise")
    page.goto(f"{live_server.url}/my/applications/{application.pk}/")
    assert notice.number in page.locator("[data-approval-notice=ready]").inner_text()
    look("applicant sees the notice")


def test_a_file_with_one_bad_line_names_the_line_and_imports_nothing(
    page, live_server, login, catalogue, tmp_path, look
):
    make_staff(Role.COMMERCE_REVIEWER, "commerce")
    text = SAMPLE.read_text(encoding="utf-8").replace("650000.00", "-650000.00")
    bad = tmp_path / "海关统计-有误.csv"
    bad.write_text(text, encoding="utf-8")
    login("commerce")
    page.goto(f"{live_server.url}/staff/statistics/")
    page.select_option("#id_source", "customs")
    page.set_input_files("#id_file", str(bad))
    page.click("[data-action=import_statistics]")
    page.wait_for_load_state("networkidle")
    errors = page.locator("[data-import-errors]")
    assert errors.locator("[data-error-line]").count() == 1
    assert "第 4 行" in errors.inner_text() and "不能为负数" in errors.inner_text()
    look("one bad line")
    assert not StatisticsImport.objects.exists()
