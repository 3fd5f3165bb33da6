"""Finance: maker-checker batches, exports for the bank, payments, reconciliation, reports."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse

from applications.models import Notification
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import Award, DisbursementBatch, DisbursementLine
from reviews.reports import report_tables
from reviews.services import export_jobs, finance
from reviews.services.finance import FinanceError

from .factories import advance, make_application, make_enterprise, make_member, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers():
    return make_staff(Role.DISBURSEMENT_OFFICER, "maker"), make_staff(
        Role.DISBURSEMENT_OFFICER, "checker"
    )


def approved_award(crew, *, name=None, account=None, amount="100000", facts=None) -> Award:
    fields = {}
    if account:
        fields["bank_account"] = account
    enterprise = make_enterprise(name, **fields)
    application = make_application(
        enterprise=enterprise, submitter=make_member(enterprise), facts=facts
    )
    advance(application, State.APPROVED, crew=crew, amount=amount)
    return Award.objects.get(application=application, status=Award.Status.FIXED)


@pytest.fixture
def awards(crew):
    return [
        approved_award(
            crew, name='=HYPERLINK("http://evil","click")', account="0123456789012345678"
        ),
        approved_award(
            crew,
            name="衡阳普通跨境电商有限公司",
            amount="20000",
            facts={"cbec_export_volume_usd": "200000"},
        ),
    ]


def confirmed_batch(officers, awards) -> DisbursementBatch:
    maker, checker = officers
    batch = finance.batch_create(user=maker, award_ids=[a.pk for a in awards])
    return finance.batch_confirm(user=checker, batch=batch)


def test_the_preparer_cannot_confirm_their_own_batch(officers, awards):
    maker, checker = officers
    batch = finance.batch_create(user=maker, award_ids=[a.pk for a in awards])
    with pytest.raises(FinanceError, match="prepared"):
        finance.batch_confirm(user=maker, batch=batch)
    finance.batch_confirm(user=checker, batch=batch)
    batch.refresh_from_db()
    assert batch.state == DisbursementBatch.State.CONFIRMED


def test_the_database_refuses_a_batch_confirmed_by_its_preparer(officers, awards):
    maker, _checker = officers
    batch = finance.batch_create(user=maker, award_ids=[awards[0].pk])
    with pytest.raises(IntegrityError), transaction.atomic():
        DisbursementBatch.objects.filter(pk=batch.pk).update(state="confirmed", confirmed_by=maker)


def test_a_confirmed_batch_cannot_change(officers, awards):
    batch = confirmed_batch(officers, awards)
    with pytest.raises(FinanceError, match="confirmed"):
        finance.batch_remove_line(user=officers[0], line=batch.lines.first())
    assert batch.lines.count() == 2


def test_an_award_is_in_at_most_one_batch(officers, awards):
    maker, _ = officers
    finance.batch_create(user=maker, award_ids=[awards[0].pk])
    with pytest.raises(FinanceError, match="not payable"):
        finance.batch_create(user=maker, award_ids=[awards[0].pk])
    assert DisbursementLine.objects.filter(award=awards[0]).count() == 1


def test_only_a_disbursement_officer_builds_batches(crew, awards):
    with pytest.raises(FinanceError):
        finance.batch_create(user=crew.finance, award_ids=[awards[0].pk])


def test_paying_moves_the_application_to_disbursed_and_tells_the_applicant(officers, awards):
    batch = confirmed_batch(officers, awards)
    line = batch.lines.get(award=awards[1])
    finance.line_mark_paid(
        user=officers[0], line=line, paid_on=date(2026, 11, 20), reference="BOC1"
    )
    application = awards[1].application
    application.refresh_from_db()
    assert application.state == State.DISBURSED
    assert Notification.objects.filter(
        application=application, message_en__contains="paid"
    ).exists()
    with pytest.raises(FinanceError, match="paid already"):
        finance.line_mark_paid(
            user=officers[0], line=line, paid_on=date(2026, 11, 21), reference="X"
        )
    assert (
        AuditEvent.objects.filter(action="finance.pay", application_id=application.pk).count() == 1
    )


def test_lines_of_an_open_batch_cannot_be_paid(officers, awards):
    batch = finance.batch_create(user=officers[0], award_ids=[awards[0].pk])
    with pytest.raises(FinanceError, match="confirmed"):
        finance.line_mark_paid(
            user=officers[1], line=batch.lines.get(), paid_on=date(2026, 11, 20), reference="R"
        )


def export(client, batch, file_format):
    return client.get(reverse("reviews:finance_export", args=[batch.pk, file_format]))


def test_csv_export_is_safe_exact_and_audited(client, officers, awards, password):
    batch = confirmed_batch(officers, awards)
    client.login(username=officers[0].username, password=password)
    response = export(client, batch, "csv")
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    data = [row for row in rows if row and row[0].isdigit()]
    assert data[0][1].startswith("'=HYPERLINK")
    # A leading tab makes Excel keep the account as text: all 19 digits, the leading zero too.
    assert data[0][4] == "\t0123456789012345678"
    assert data[0][6] == "壹拾万元整"
    db_total = batch.lines.aggregate(total=Sum("amount_cny"))["total"]
    assert rows[-1][5] == f"{db_total:.2f}" == "120000.00"
    event = AuditEvent.objects.get(action="finance.export")
    assert event.data == {"format": "csv", "rows": 2}
    assert event.actor_role == Role.DISBURSEMENT_OFFICER


def test_the_export_event_names_the_finance_reviewer_who_exported(
    client, officers, awards, password
):
    batch = confirmed_batch(officers, awards)
    reviewer = make_staff(Role.FINANCE_REVIEWER, "exporting-reviewer")
    client.login(username=reviewer.username, password=password)
    assert export(client, batch, "csv").status_code == 200
    event = AuditEvent.objects.get(action="finance.export")
    assert (event.actor, event.actor_role) == (reviewer, Role.FINANCE_REVIEWER)


def test_xlsx_export_opens_with_numbers_and_text(client, officers, awards, password):
    batch = confirmed_batch(officers, awards)
    client.login(username=officers[1].username, password=password)
    response = export(client, batch, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "序号 Seq.")
    first = rows[header + 1]
    assert first[4] == "0123456789012345678"
    assert first[1].startswith("'=")
    assert isinstance(first[5], int | float)
    assert Decimal(str(rows[-1][5])) == batch.lines.aggregate(total=Sum("amount_cny"))["total"]


def test_an_open_batch_is_not_exported(client, officers, awards, password):
    batch = finance.batch_create(user=officers[0], award_ids=[awards[0].pk])
    client.login(username=officers[0].username, password=password)
    response = export(client, batch, "csv")
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="finance.export").exists()


def result_file(
    rows, header=("line", "account", "amount", "reference", "status", "reason")
) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile("result.csv", buffer.getvalue().encode("utf-8-sig"))


def test_one_bad_line_in_the_bank_file_applies_nothing_and_is_reported(officers, awards):
    batch = confirmed_batch(officers, awards)
    lines = list(batch.lines.order_by("sequence"))
    upload = result_file(
        [
            [lines[0].line_reference, lines[0].bank_account, "100000.00", "BOC-1", "paid", ""],
            [lines[1].line_reference, lines[1].bank_account, "99999.00", "BOC-2", "paid", ""],
        ]
    )
    report = finance.reconcile(user=officers[0], batch=batch, upload=upload)
    assert not report.ok
    assert len(report.errors) == 1 and "3" in report.errors[0]  # the file's third line
    assert not batch.lines.filter(state="paid").exists()


def test_a_good_bank_file_pays_the_lines_and_returns_failures(officers, awards):
    batch = confirmed_batch(officers, awards)
    lines = list(batch.lines.order_by("sequence"))
    upload = result_file(
        [
            [lines[0].line_reference, lines[0].bank_account, "100,000.00", "BOC-1", "paid", ""],
            [lines[1].line_reference, lines[1].bank_account, "20000", "", "failed", "账户已销户"],
        ]
    )
    report = finance.reconcile(user=officers[0], batch=batch, upload=upload)
    assert report.ok and report.paid == 1 and report.failed == 1
    lines[0].refresh_from_db()
    lines[1].refresh_from_db()
    assert lines[0].state == "paid" and lines[0].bank_reference == "BOC-1"
    assert lines[1].state == "to_pay" and lines[1].failure_reason == "账户已销户"
    lines[0].award.application.refresh_from_db()
    assert lines[0].award.application.state == State.DISBURSED
    assert Notification.objects.filter(
        application=lines[0].award.application, message_zh__contains="已于"
    ).exists()


def test_two_lines_with_the_same_account_and_amount_are_both_reconciled(officers, crew):
    enterprise = make_enterprise("衡阳双项跨境电商有限公司", bank_account="0011223344556677889")
    member = make_member(enterprise)
    awards = []
    for code, facts in (("M05", None), ("M16", {"social_security_paid_cny": "1000000"})):
        application = make_application(
            enterprise=enterprise, submitter=member, code=code, facts=facts
        )
        advance(application, State.APPROVED, crew=crew, amount="100000")
        awards.append(Award.objects.get(application=application, status=Award.Status.FIXED))
    batch = confirmed_batch(officers, awards)
    first, second = batch.lines.order_by("sequence")
    row = ["0011223344556677889", "100000.00"]
    upload = result_file(
        [
            [first.line_reference, *row, "BOC-1", "paid", ""],
            [second.line_reference, *row, "BOC-2", "paid", ""],
        ]
    )
    report = finance.reconcile(user=officers[0], batch=batch, upload=upload)
    assert report.ok, report.errors
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.bank_reference, second.bank_reference) == ("BOC-1", "BOC-2")
    batch.refresh_from_db()
    assert batch.state == DisbursementBatch.State.PAID
    # Nothing is left to pay: a further result file is refused whole.
    with pytest.raises(FinanceError, match="confirmed"):
        finance.reconcile(
            user=officers[0],
            batch=batch,
            upload=result_file([[first.line_reference, *row, "BOC-3", "paid", ""]]),
        )


def test_reports_equal_hand_computed_sums(officers, awards):
    batch = confirmed_batch(officers, awards)
    line = batch.lines.get(award=awards[1])
    finance.line_mark_paid(user=officers[0], line=line, paid_on=date(2026, 11, 20), reference="R1")
    tables = report_tables(2026)
    m05 = next(row for row in tables["by_measure"] if row["key"] == "M05")
    assert m05["applications"] == 2
    assert m05["approved"] == 2
    assert m05["committed_cny"] == Decimal("120000.00")
    assert m05["paid_cny"] == Decimal("20000.00")
    assert tables["totals"]["committed_cny"] == Decimal("120000.00")
    assert tables["totals"]["paid_cny"] == Decimal("20000.00")
    fund = tables["by_fund"][0]
    assert fund["committed_cny"] == Decimal("120000.00") and fund["paid_cny"] == Decimal("20000.00")
    assert sum(row["paid_cny"] for row in tables["by_month"]) == Decimal("20000.00")
    assert tables["totals"]["days_to_payment"] is not None


@pytest.mark.parametrize("table", ["by_measure", "by_district", "by_fund", "by_month"])
def test_every_report_table_exports_as_xlsx(client, officers, awards, password, table):
    confirmed_batch(officers, awards)
    client.login(username=officers[0].username, password=password)
    response = client.get(reverse("reviews:finance_report_export", args=[table]))
    assert response.status_code == 200
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    assert Decimal(str(rows[-1][-2])) == Decimal("120000.00")  # committed total


FINANCE_URLS = [
    ("reviews:finance_disbursements", False),
    ("reviews:finance_batch", True),
    ("reviews:finance_export_csv", True),
    ("reviews:finance_reports", False),
    ("reviews:finance_report_export", False),
    ("reviews:finance_export_job", True),
    ("reviews:finance_export_job_download", True),
]


def finance_url(name, batch):
    if name in {"reviews:finance_export_job", "reviews:finance_export_job_download"}:
        return reverse(name, args=[batch.exports.get().pk])
    if name == "reviews:finance_export_csv":
        return reverse("reviews:finance_export", args=[batch.pk, "csv"])
    if name == "reviews:finance_report_export":
        return reverse(name, args=["by_measure"])
    return reverse(name, args=[batch.pk]) if name == "reviews:finance_batch" else reverse(name)


EXPECTED = {
    # persona: (disbursements, batch, export, reports, report export, export job, its download)
    "anonymous": (302, 302, 302, 302, 302, 302, 302),
    "applicant": (403, 403, 403, 403, 403, 403, 403),
    "commerce": (403, 403, 403, 200, 200, 403, 403),
    "finance_reviewer": (403, 200, 200, 200, 200, 200, 200),
    "officer": (200, 200, 200, 200, 200, 200, 200),
    "registrar": (403, 403, 403, 403, 403, 403, 403),
    "auditor": (403, 403, 403, 200, 200, 403, 403),
    "sysadmin": (403, 403, 403, 403, 403, 403, 403),
    "secadmin": (403, 403, 403, 403, 403, 403, 403),
    "auditadmin": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.fixture
def personas(officers, member):
    """One user per persona of the finance matrices (anonymous has none)."""
    return {
        "applicant": member,
        "commerce": make_staff(Role.COMMERCE_REVIEWER),
        "finance_reviewer": make_staff(Role.FINANCE_REVIEWER),
        "officer": officers[0],
        "registrar": make_staff(Role.APPROVAL_REGISTRAR),
        "auditor": make_staff(Role.AUDITOR),
        "sysadmin": make_staff(Role.SYSTEM_ADMINISTRATOR),
        "secadmin": make_staff(Role.SECURITY_ADMINISTRATOR),
        "auditadmin": make_staff(Role.AUDIT_ADMINISTRATOR),
    }


@pytest.mark.parametrize("persona", EXPECTED)
def test_finance_permission_matrix(client, officers, awards, password, personas, persona):
    batch = confirmed_batch(officers, awards)
    job = export_jobs.export_job_start(user=officers[0], batch=batch, file_format="xlsx")
    export_jobs.export_job_run(job.pk)
    if persona in personas:
        client.login(username=personas[persona].username, password=password)
    codes = tuple(client.get(finance_url(name, batch)).status_code for name, _needs in FINANCE_URLS)
    assert codes == EXPECTED[persona]


def _prepare_batch(officers, awards):
    """A batch prepared by the maker; the checker may confirm it."""
    batch = finance.batch_create(user=officers[0], award_ids=[a.pk for a in awards])
    return (
        reverse("reviews:finance_batch", args=[batch.pk]),
        {"action": "confirm"},
        lambda: DisbursementBatch.objects.values_list("state", flat=True).get(pk=batch.pk),
        DisbursementBatch.State.CONFIRMED,
        officers[1],
    )


def _create_batch(officers, awards):
    return (
        reverse("reviews:finance_disbursements"),
        {"award": [a.pk for a in awards], "note": "十一月第一批"},
        lambda: DisbursementBatch.objects.count(),
        1,
        officers[0],
    )


def _pay_line(officers, awards):
    line = confirmed_batch(officers, awards).lines.order_by("sequence").first()
    return (
        reverse("reviews:finance_batch", args=[line.batch_id]),
        {"action": "paid", "line": line.pk, "paid_on": "2026-11-20", "reference": "P-0001"},
        lambda: DisbursementLine.objects.values_list("state", flat=True).get(pk=line.pk),
        DisbursementLine.State.PAID,
        officers[0],
    )


@pytest.mark.parametrize(
    "prepare", [_create_batch, _prepare_batch, _pay_line], ids=["create", "confirm", "pay"]
)
def test_finance_actions_with_valid_bodies_only_for_the_disbursement_officer(
    client, officers, awards, personas, prepare
):
    """Every other persona is refused and changes nothing; the officer's POST takes effect."""
    url, body, observe, wanted, officer = prepare(officers, awards)
    before = observe()
    assert before != wanted
    wrong = []
    for persona in EXPECTED:
        if persona == "officer":
            continue
        client.logout()
        if persona in personas:
            client.force_login(personas[persona])
        status = client.post(url, body).status_code
        if status != (302 if persona == "anonymous" else 403) or observe() != before:
            wrong.append(f"{persona}: {status}, {observe()!r}")
    client.logout()
    client.force_login(officer)
    response = client.post(url, body)
    assert response.status_code == 302 and observe() == wanted, response
    assert not wrong, "; ".join(wrong)


def test_the_budgets_page_shows_what_was_paid(client, officers, awards, password, crew):
    from reviews.services.budgets import budget_summary

    batch = confirmed_batch(officers, awards)
    line = batch.lines.get(award=awards[0])
    finance.line_mark_paid(user=officers[0], line=line, paid_on=date(2026, 11, 20), reference="P1")
    row = next(r for r in budget_summary(2026) if r["committed"] > 0)
    assert row["paid"] == Decimal("100000.00")
    assert row["committed"] == Decimal("120000.00")
    client.login(username=crew.finance.username, password=password)
    html = client.get(reverse("reviews:budgets")).content.decode()
    assert "100,000.00" in html


def test_a_large_xlsx_export_is_written_in_the_background_with_progress(
    client, officers, awards, password, settings, django_capture_on_commit_callbacks, eager_tasks
):
    from reviews.models import ExportJob

    settings.EXPORT_ASYNC_ROWS = 1
    batch = confirmed_batch(officers, awards)
    client.login(username=officers[0].username, password=password)
    with django_capture_on_commit_callbacks(execute=True):
        response = export(client, batch, "xlsx")
    job = ExportJob.objects.get()
    assert response.url == reverse("reviews:finance_export_job", args=[job.pk])
    full = client.get(response.url)
    assert "<html" in full.content.decode()
    progress = client.get(response.url, HTTP_HX_REQUEST="true")
    page = progress.content.decode()
    assert "<html" not in page
    assert 'data-export-status="ready"' in page and "2 / 2" in page
    for answer in (full, progress):
        assert "HX-Request" in [v.strip() for v in answer["Vary"].split(",")]
    download = client.get(reverse("reviews:finance_export_job_download", args=[job.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert sum(1 for row in sheet.iter_rows(values_only=True) if row[0] in (1, 2)) == 2
    assert AuditEvent.objects.get(action="finance.export").data["rows"] == 2
    fetched = AuditEvent.objects.get(action="finance.export_download")
    assert fetched.actor == officers[0] and fetched.data["rows"] == 2
    assert fetched.data["batch"] == batch.number


def test_lowering_an_allocation_below_its_commitments_is_a_form_error(
    client, crew, awards, password
):
    from reviews.models import BudgetAllocation

    allocation = BudgetAllocation.objects.get(committed_cny__gt=0)
    admin_user = make_staff(Role.POLICY_ADMINISTRATOR, is_staff=True)
    client.login(username=admin_user.username, password=password)
    response = client.post(
        f"/admin/reviews/budgetallocation/{allocation.pk}/change/",
        {"amount_cny": "1000.00", "note": "cut"},
    )
    assert response.status_code == 200
    assert "120,000.00" in response.content.decode()
    allocation.refresh_from_db()
    assert allocation.amount_cny > allocation.committed_cny
