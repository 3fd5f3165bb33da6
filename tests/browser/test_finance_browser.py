"""Finance turns an approved award into money paid, in the browser."""

from __future__ import annotations

import csv

import openpyxl
import pytest

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import Award
from reviews.tests.factories import (
    Crew,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_batch_confirm_download_reconcile_and_the_applicant_sees_disbursed(
    page, live_server, catalogue, login, password, tmp_path, look
):
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司", bank_account="0622020903001234567")
    applicant = make_member(enterprise, "payee")
    application = make_application(enterprise=enterprise, submitter=applicant)
    advance(application, State.APPROVED, crew=Crew())
    award = Award.objects.get(application=application, status=Award.Status.FIXED)
    make_staff(Role.DISBURSEMENT_OFFICER, "maker")
    make_staff(Role.DISBURSEMENT_OFFICER, "checker")

    login("maker", password)
    page.goto(f"{live_server.url}/finance/disbursements/")
    page.check(f"tr[data-award='{award.pk}'] input[type=checkbox]")
    page.click("#create-batch")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-batch-state=open]").is_visible()
    assert page.locator("#confirm-batch").count() == 0  # the maker cannot confirm
    look("batch prepared")
    batch_url = page.url

    page.context.clear_cookies()
    login("checker", password)
    page.goto(batch_url)
    look("batch to confirm")
    # Confirming asks first; saying no leaves the batch open.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("#confirm-batch")
    page.wait_for_load_state("networkidle")
    assert "100,000.00" in questions[0] and "确认拨付批次" in questions[0]
    assert page.locator("[data-batch-state=open]").is_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#confirm-batch")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-batch-state=confirmed]").is_visible()
    look("batch confirmed")
    with page.expect_download() as info:
        page.click("#export-xlsx")
    path = tmp_path / "batch.xlsx"
    info.value.save_as(path)
    rows = list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))
    line = next(row for row in rows if row[0] == 1)
    assert line[4] == "0622020903001234567" and line[6] == "壹拾万元整"
    line_reference = line[-1]  # the bank's result file echoes it
    assert line_reference.startswith("PB-")

    result = tmp_path / "bank-result.csv"
    with result.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "account", "amount", "reference", "status", "reason"])
        writer.writerow(
            [line_reference, "0622020903001234567", "100000.00", "ICBC-2026-118", "paid", ""]
        )
    page.set_input_files("#id_file", str(result))
    page.click("#reconcile")
    page.wait_for_load_state("networkidle")
    assert page.locator("tr[data-line='1'][data-line-state=paid]").is_visible()
    look("reconciled")

    page.context.clear_cookies()
    login("payee", password)
    page.goto(f"{live_server.url}/my/applications/")
    assert page.locator(
        f"tr[data-application='{application.pk}'] [data-state=disbursed]"
    ).is_visible()
    page.goto(f"{live_server.url}/my/applications/{application.pk}/")
    assert page.locator("[data-timeline-action='finance.pay']").is_visible()
    assert page.locator("[data-approved]").inner_text() == "100,000.00 元"
    look("applicant sees disbursed")
