"""Reconciliation by line reference: the bank's file pays exactly the lines it names.

Matching is on batch, line reference, account and amount; a file for another batch is refused
naming its lines; malformed amounts, control characters and oversized files are refusals, never a
server error (SECURITY.md 31).
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import Award, DisbursementLine
from reviews.services import finance
from reviews.services.finance import FinanceError

from .factories import advance, make_application, make_enterprise, make_member, make_staff

pytestmark = pytest.mark.django_db

HEADER = ("line", "account", "amount", "reference", "status", "reason")


@pytest.fixture
def officers():
    return make_staff(Role.DISBURSEMENT_OFFICER, "maker"), make_staff(
        Role.DISBURSEMENT_OFFICER, "checker"
    )


@pytest.fixture
def two_batches(officers, crew):
    """Batches A and B, each with one CNY 100,000 line to the same enterprise and account."""
    enterprise = make_enterprise("衡阳双批跨境电商有限公司", bank_account="0011223344556677889")
    member = make_member(enterprise)
    batches = []
    for code, facts in (("M05", None), ("M16", {"social_security_paid_cny": "1000000"})):
        application = make_application(
            enterprise=enterprise, submitter=member, code=code, facts=facts
        )
        advance(application, State.APPROVED, crew=crew, amount="100000")
        award = Award.objects.get(application=application, status=Award.Status.FIXED)
        batch = finance.batch_create(user=officers[0], award_ids=[award.pk])
        batches.append(finance.batch_confirm(user=officers[1], batch=batch))
    return batches


def csv_file(rows, header=HEADER) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile("result.csv", buffer.getvalue().encode("utf-8-sig"))


def paid_row(of: DisbursementLine, **changes) -> list[str]:
    row = {
        "line": of.line_reference,
        "account": of.bank_account,
        "amount": f"{of.amount_cny:.2f}",
        "reference": "BOC-1",
        "status": "paid",
        "reason": "",
    }
    row.update(changes)
    return [row[name] for name in HEADER]


def test_every_exported_line_carries_a_unique_reference(officers, two_batches, client, password):
    a, b = two_batches
    references = set(DisbursementLine.objects.values_list("line_reference", flat=True))
    assert references == {f"{a.number}-00001", f"{b.number}-00001"}
    client.login(username=officers[0].username, password=password)
    body = b"".join(
        client.get(reverse("reviews:finance_export", args=[a.pk, "csv"])).streaming_content
    )
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header = next(row for row in rows if row and row[0] == "序号 Seq.")
    assert header[-1] == "明细编号 Line reference"
    assert rows[rows.index(header) + 1][-1] == f"{a.number}-00001"


def test_the_bank_file_of_batch_b_uploaded_into_batch_a_is_refused_naming_its_lines(
    officers, two_batches
):
    a, b = two_batches
    line_b = b.lines.get()
    report = finance.reconcile(user=officers[0], batch=a, upload=csv_file([paid_row(line_b)]))
    assert not report.ok
    assert line_b.line_reference in report.errors[0] and b.number in report.errors[0]
    assert not DisbursementLine.objects.filter(state="paid").exists()
    assert AuditEvent.objects.filter(action="finance.reconcile_refused").exists()


def test_the_right_reference_with_another_account_or_amount_is_refused(officers, two_batches):
    a, _b = two_batches
    line = a.lines.get()
    for row in (
        paid_row(line, account="6222000000000000000"),
        paid_row(line, amount="100000.01"),
    ):
        report = finance.reconcile(user=officers[0], batch=a, upload=csv_file([row]))
        assert not report.ok and line.line_reference in report.errors[0]
    line.refresh_from_db()
    assert line.state == "to_pay"


def test_a_line_named_twice_is_refused(officers, two_batches):
    a, _b = two_batches
    line = a.lines.get()
    report = finance.reconcile(
        user=officers[0], batch=a, upload=csv_file([paid_row(line), paid_row(line)])
    )
    assert not report.ok and "3" in report.errors[0]


@pytest.mark.parametrize(
    "amount", ["Infinity", "-Infinity", "NaN", "sNaN", "1e999999", "1E+30", "-1", "1.005", ""]
)
def test_a_malformed_amount_is_an_error_for_its_line(officers, two_batches, amount):
    a, _b = two_batches
    report = finance.reconcile(
        user=officers[0], batch=a, upload=csv_file([paid_row(a.lines.get(), amount=amount)])
    )
    assert not report.ok
    assert "not a number" in report.errors[0] or "不是" in report.errors[0]


@pytest.mark.parametrize("field", ["reference", "reason", "line", "account"])
def test_a_nul_or_control_character_in_a_cell_is_an_error_not_a_500(officers, two_batches, field):
    a, _b = two_batches
    row = paid_row(a.lines.get(), **{field: "BOC\x00-1"})
    report = finance.reconcile(user=officers[0], batch=a, upload=csv_file([row]))
    assert not report.ok
    assert a.lines.get().state == "to_pay"


def test_malformed_amounts_through_the_page_are_messages_not_server_errors(
    client, officers, two_batches, password
):
    a, _b = two_batches
    client.login(username=officers[0].username, password=password)
    url = reverse("reviews:finance_batch", args=[a.pk])
    for amount in ("Infinity", "sNaN", "1e999999", "1E+30"):
        upload = csv_file([paid_row(a.lines.get(), amount=amount)])
        response = client.post(url, {"action": "reconcile", "file": upload}, follow=True)
        assert response.status_code == 200
    upload = csv_file([paid_row(a.lines.get(), reference="BOC\x00")])
    assert client.post(url, {"action": "reconcile", "file": upload}).status_code in (200, 302)
    assert not DisbursementLine.objects.filter(state="paid").exists()


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_good_xlsx_result_file_pays_its_line(officers, two_batches):
    a, _b = two_batches
    upload = SimpleUploadedFile("result.xlsx", _xlsx([paid_row(a.lines.get())]))
    report = finance.reconcile(user=officers[0], batch=a, upload=upload)
    assert report.ok, report.errors
    assert a.lines.get().state == "paid"


def test_an_xlsx_that_expands_too_far_is_refused_before_it_is_parsed(officers, two_batches):
    """A few hundred KB that would expand to 200 MB: refused from the central directory."""
    a, _b = two_batches
    good = zipfile.ZipFile(io.BytesIO(_xlsx([paid_row(a.lines.get())])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in good.infolist():
            bomb.writestr(info, good.read(info))
        bomb.writestr("xl/media/padding.bin", b"\0" * (200 * 1024 * 1024))
    assert len(buffer.getvalue()) < 1024 * 1024
    upload = SimpleUploadedFile("result.xlsx", buffer.getvalue())
    with pytest.raises(FinanceError, match="50 MB"):
        finance.reconcile(user=officers[0], batch=a, upload=upload)


def test_a_file_with_more_rows_than_the_batch_has_lines_is_refused(officers, two_batches):
    a, _b = two_batches
    rows = [paid_row(a.lines.get(), reference=f"BOC-{n}") for n in range(200)]
    with pytest.raises(FinanceError):
        finance.reconcile(user=officers[0], batch=a, upload=csv_file(rows))
    upload = SimpleUploadedFile("result.xlsx", _xlsx(rows))
    with pytest.raises(FinanceError):
        finance.reconcile(user=officers[0], batch=a, upload=upload)


def test_no_audit_row_or_log_line_holds_a_full_bank_account(
    officers, two_batches, client, password, caplog
):
    """SECURITY.md 35: exports, refusals and payments are audited without the full account."""
    a, b = two_batches
    account = a.lines.get().bank_account
    client.login(username=officers[0].username, password=password)
    b"".join(client.get(reverse("reviews:finance_export", args=[a.pk, "csv"])).streaming_content)
    finance.reconcile(user=officers[0], batch=a, upload=csv_file([paid_row(b.lines.get())]))
    finance.reconcile(user=officers[0], batch=a, upload=csv_file([paid_row(a.lines.get())]))
    assert a.lines.get().state == "paid"
    for event in AuditEvent.objects.all():
        assert account not in event.canonical(), event.action
    assert account not in caplog.text
