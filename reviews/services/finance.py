"""Finance: disbursement batches (maker-checker), exports for the bank, payments and
reconciliation with the bank's result file (the reports are in reviews.reports).

Every write follows the services' pattern: lock, re-check state, role and four eyes, change,
audit in the same transaction, tell the applicant after commit.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application
from applications.services import notify
from applications.workflow import Action, State, move_application, transition_for
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import record, record_action
from hengyang_cbec.fieldcrypto import hash_candidates
from hengyang_cbec.numbering.services import DISBURSEMENT_BATCH, next_number
from hengyang_cbec.statetables import move

from ..exports import Column
from ..models import Award, DisbursementBatch, DisbursementLine
from ..numerals import amount_in_capitals
from ..transitions import BATCH, LINE
from .bank_files import (
    FAILED_WORDS,
    PAID_WORDS,
    RESULT_MAX_EXTRA_ROWS,
    has_control_characters,
    parse_bank_amount,
    read_result_file,
)
from .steps import FinanceError

ZERO = Decimal("0.00")


def _require_officer(user) -> None:
    if not has_role(user, Role.DISBURSEMENT_OFFICER):
        raise FinanceError(_("Only a disbursement officer may do this."))


# --- Building and confirming batches -------------------------------------------------------------


def payable_awards():
    """Fixed awards of approved applications that are in no disbursement batch yet."""
    return (
        Award.objects.filter(
            status=Award.Status.FIXED,
            application__state=State.APPROVED,
            disbursement_line__isnull=True,
        )
        .select_related(
            "application__enterprise", "application__measure", "fund_source", "approval_batch"
        )
        .order_by("approval_batch__document_date", "pk")
    )


def _next_batch_number(year: int) -> str:
    return f"PB-{year}-{next_number(DISBURSEMENT_BATCH, year):04d}"


@transaction.atomic
def batch_create(*, user, award_ids: Iterable[int], note: str = "", ip=None) -> DisbursementBatch:
    """Put payable awards into a new open batch (the preparer is the maker)."""
    _require_officer(user)
    ids = sorted(set(award_ids))
    if not ids:
        raise FinanceError(_("Choose at least one approved award."))
    awards = list(
        payable_awards().filter(pk__in=ids).select_for_update(of=("self",)).order_by("pk")
    )
    if len(awards) != len(ids):
        raise FinanceError(
            _("Some awards are not payable any more (already in a batch, or not approved).")
        )
    batch = DisbursementBatch.objects.create(
        number=_next_batch_number(timezone.localdate().year),
        prepared_by=user,
        note=note[:200],
    )
    DisbursementLine.objects.bulk_create(
        _line(batch, sequence, award) for sequence, award in enumerate(awards, start=1)
    )
    total = sum((award.amount_cny for award in awards), ZERO)
    record_action(
        batch,
        "finance.batch_create",
        user,
        Role.DISBURSEMENT_OFFICER,
        ip=ip,
        data={"lines": len(awards), "total_cny": f"{total:.2f}", "awards": ids},
    )
    return batch


def _line(batch: DisbursementBatch, sequence: int, award: Award) -> DisbursementLine:
    application = award.application
    enterprise = application.enterprise
    return DisbursementLine(
        batch=batch,
        award=award,
        sequence=sequence,
        line_reference=DisbursementLine.reference_for(batch.number, sequence),
        payee_name=enterprise.name,
        uscc=enterprise.uscc,
        bank_name=enterprise.bank_name,
        bank_account=enterprise.bank_account,
        amount_cny=award.amount_cny,
        measure_code=application.measure.code,
        measure_title=application.measure.title_zh,
        fund_source=award.fund_source.name_zh if award.fund_source else "",
        approval_document=award.approval_batch.document_number if award.approval_batch else "",
        application_reference=application.reference or "",
    )


# Locks are always taken in one order: the batch, then its lines (in sequence), then the
# applications. Each lock names its own table (`of=`), so that a join never locks a batch after a
# line: "mark paid" and reconciliation of the same batch queue behind each other instead of
# deadlocking.


def _locked_batch(batch: DisbursementBatch) -> DisbursementBatch:
    return DisbursementBatch.objects.select_for_update(of=("self",)).get(pk=batch.pk)


@transaction.atomic
def batch_remove_line(*, user, line: DisbursementLine, ip=None) -> None:
    _require_officer(user)
    batch = _locked_batch(line.batch)
    if batch.state != DisbursementBatch.State.OPEN:
        raise FinanceError(_("A confirmed batch cannot change."))
    line.delete()
    record_action(
        batch,
        "finance.batch_remove_line",
        user,
        Role.DISBURSEMENT_OFFICER,
        ip=ip,
        data={"award": line.award_id},
    )


@transaction.atomic
def batch_confirm(*, user, batch: DisbursementBatch, ip=None) -> DisbursementBatch:
    """The checker confirms: a second officer, never the preparer. The batch is then frozen."""
    _require_officer(user)
    batch = _locked_batch(batch)
    if batch.state != DisbursementBatch.State.OPEN:
        raise FinanceError(_("This batch is confirmed already."))
    if batch.prepared_by_id == user.pk:
        raise FinanceError(_("The officer who prepared a batch cannot confirm it."))
    if not batch.lines.exists():
        raise FinanceError(_("An empty batch cannot be confirmed."))
    batch.confirmed_by = user
    batch.confirmed_at = timezone.now()
    move(
        batch,
        BATCH,
        "confirm",
        user=user,
        role=Role.DISBURSEMENT_OFFICER,
        fields=("confirmed_by", "confirmed_at"),
        ip=ip,
        data={"lines": batch.lines.count()},
    )
    return batch


# --- Exports -------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    Column("序号 Seq.", "int"),
    Column("收款单位 Payee"),
    Column("统一社会信用代码 USCC"),
    Column("开户银行 Bank"),
    Column("银行账号 Account", "account"),
    Column("金额（元） Amount (CNY)", "money"),
    Column("大写金额 Amount in capitals"),
    Column("措施代码 Measure"),
    Column("措施名称 Measure title"),
    Column("申报编号 Application"),
    Column("资金来源 Fund source"),
    Column("批准文号 Approval document"),
    Column("明细编号 Line reference"),
]


def export_preamble(batch: DisbursementBatch) -> list[list[str]]:
    return [
        ["拨付批次 Batch", batch.number],
        ["日期 Date", timezone.localdate().isoformat()],
        ["制单 Prepared by", str(batch.prepared_by)],
        ["复核 Confirmed by", str(batch.confirmed_by or "")],
    ]


def export_rows(batch: DisbursementBatch) -> Iterator[list[Any]]:
    """The batch's lines, read in chunks from the database (never all at once)."""
    lines = batch.lines.order_by("sequence").values_list(
        "sequence",
        "payee_name",
        "uscc",
        "bank_name",
        "bank_account",
        "amount_cny",
        "measure_code",
        "measure_title",
        "application_reference",
        "fund_source",
        "approval_document",
        "line_reference",
    )
    for row in lines.iterator(chunk_size=2000):
        yield [*row[:6], amount_in_capitals(row[5]), *row[6:]]


EXPORT_ROLES = (Role.DISBURSEMENT_OFFICER, Role.FINANCE_REVIEWER)


def _export_role(user) -> Role | None:
    """The role in which the user exports: the first of EXPORT_ROLES they hold."""
    return next((role for role in EXPORT_ROLES if has_role(user, role)), None)


def check_exportable(user, batch: DisbursementBatch) -> None:
    if _export_role(user) is None:
        raise FinanceError(_("Only finance staff may export disbursement lists."))
    if batch.state == DisbursementBatch.State.OPEN:
        raise FinanceError(_("Confirm the batch before exporting it for the bank."))


def audit_export(*, user, batch: DisbursementBatch, file_format: str, ip=None) -> None:
    record_action(
        batch,
        "finance.export",
        user,
        _export_role(user),
        ip=ip,
        data={"format": file_format, "rows": batch.lines.count()},
    )


def audit_export_job_download(*, user, job, ip=None) -> None:
    """A background export's file leaves the portal: who, which batch, how many rows."""
    record(
        action="finance.export_download",
        actor=user,
        actor_role=Role.DISBURSEMENT_OFFICER
        if has_role(user, Role.DISBURSEMENT_OFFICER)
        else Role.FINANCE_REVIEWER,
        ip=ip,
        obj=job,
        data={"batch": job.batch.number, "format": "xlsx", "rows": job.batch.lines.count()},
    )


# --- Payments ------------------------------------------------------------------------------------


def _pay(user, line: DisbursementLine, *, paid_on: date, reference: str, ip=None) -> None:
    """Mark one locked line paid and move its application to DISBURSED."""
    if line.state == DisbursementLine.State.PAID:
        raise FinanceError(_("Line %(n)s is paid already.") % {"n": line.sequence})
    application = Application.objects.select_for_update().get(pk=line.award.application_id)
    transition = transition_for(application.state, Action.DISBURSE, Role.DISBURSEMENT_OFFICER)
    line.paid_on = paid_on
    line.bank_reference = reference[:80]
    line.failure_reason = ""
    line.recorded_by = user
    move(
        line,
        LINE,
        "pay",
        user=user,
        role=Role.DISBURSEMENT_OFFICER,
        fields=("paid_on", "bank_reference", "failure_reason", "recorded_by"),
        ip=ip,
        application_id=application.pk,
        data={"amount_cny": f"{line.amount_cny:.2f}", "paid_on": paid_on, "reference": reference},
        visible=True,
    )
    move_application(application, transition)
    notify(
        application,
        "award_paid",
        amount=line.amount_cny,
        paid_on=paid_on,
        account_end=line.bank_account[-4:],
    )


def _fail(user, line: DisbursementLine, *, reason: str, ip=None) -> None:
    if line.state == DisbursementLine.State.PAID:
        raise FinanceError(_("Line %(n)s is paid already.") % {"n": line.sequence})
    line.failure_reason = reason[:200] or _("Refused by the bank")
    line.save(update_fields=["failure_reason"])
    record_action(
        line,
        "finance.payment_failed",
        user,
        Role.DISBURSEMENT_OFFICER,
        ip=ip,
        data={"reason": line.failure_reason},
    )


def _payable_line(user, line: DisbursementLine) -> DisbursementLine:
    """The line locked after its batch (the global lock order), with the locked batch."""
    _require_officer(user)
    batch_id = DisbursementLine.objects.values_list("batch_id", flat=True).get(pk=line.pk)
    batch = _locked_batch(DisbursementBatch(pk=batch_id))
    line = (
        DisbursementLine.objects.select_for_update(of=("self",))
        .select_related("award")
        .get(pk=line.pk)
    )
    line.batch = batch
    if batch.state != DisbursementBatch.State.CONFIRMED:
        raise FinanceError(_("Only the lines of a confirmed batch can be paid."))
    return line


@transaction.atomic
def line_mark_paid(*, user, line: DisbursementLine, paid_on: date, reference: str, ip=None):
    line = _payable_line(user, line)
    if not reference.strip():
        raise FinanceError(_("Enter the bank's reference of the payment."))
    _pay(user, line, paid_on=paid_on, reference=reference.strip(), ip=ip)
    _close_if_done(user, line.batch, ip=ip)


@transaction.atomic
def line_mark_failed(*, user, line: DisbursementLine, reason: str, ip=None):
    line = _payable_line(user, line)
    _fail(user, line, reason=reason.strip(), ip=ip)


def _close_if_done(user, batch: DisbursementBatch, *, ip=None) -> None:
    """A confirmed batch whose every line is paid is paid itself (an audited move)."""
    if batch.state != DisbursementBatch.State.CONFIRMED:
        return
    if batch.lines.exclude(state=DisbursementLine.State.PAID).exists():
        return
    batch.closed_at = timezone.now()
    move(
        batch,
        BATCH,
        "close",
        user=user,
        role=Role.DISBURSEMENT_OFFICER,
        fields=("closed_at",),
        ip=ip,
        data={"lines": batch.lines.count()},
    )


# --- Reconciliation with the bank's result file --------------------------------------------------


@dataclass
class ReconciliationReport:
    rows: int = 0
    errors: list[str] = field(default_factory=list)
    paid: int = 0
    failed: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@transaction.atomic
def reconcile(*, user, batch: DisbursementBatch, upload, ip=None) -> ReconciliationReport:
    """Apply the bank's results: every line is validated first; one bad line applies nothing.

    Each row names its line by the line reference of the export; it must be a line of this batch
    with the same account and amount. A file whose references belong to another batch is refused
    whole, naming those lines.
    """
    _require_officer(user)
    batch = _locked_batch(batch)
    if batch.state != DisbursementBatch.State.CONFIRMED:
        raise FinanceError(_("Only the lines of a confirmed batch can be paid."))
    report = ReconciliationReport()
    lines = {
        line.line_reference: line
        for line in (
            batch.lines.select_for_update(of=("self",)).select_related("award").order_by("sequence")
        )
    }
    try:
        rows = read_result_file(upload, max_rows=len(lines) + RESULT_MAX_EXTRA_ROWS)
    except (UnicodeDecodeError, csv.Error, ValueError, KeyError) as exc:
        raise FinanceError(_("The file could not be read: %(error)s") % {"error": exc}) from None
    foreign = _lines_of_other_batches(rows, batch, lines)
    if foreign:
        report.rows = len(rows)
        for number, (reference, other) in foreign.items():
            report.errors.append(
                _("Line %(n)s: %(ref)s is a line of batch %(batch)s, not of this batch.")
                % {"n": number, "ref": reference, "batch": other}
            )
        return _refused(user, batch, report, ip=ip)
    planned: list[tuple[DisbursementLine, dict[str, str]]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):
        report.rows += 1
        error = _row_error(row, lines, seen)
        if error:
            report.errors.append(_("Line %(n)s: %(error)s") % {"n": number, "error": error})
            continue
        seen.add(row["line"])
        planned.append((lines[row["line"]], row))
    if report.errors:
        return _refused(user, batch, report, ip=ip)
    today = timezone.localdate()
    for line, row in planned:
        if row["status"].strip().lower() in PAID_WORDS:
            _pay(user, line, paid_on=today, reference=row["reference"], ip=ip)
            report.paid += 1
        else:
            _fail(user, line, reason=row.get("reason", ""), ip=ip)
            report.failed += 1
    record_action(
        batch,
        "finance.reconcile",
        user,
        Role.DISBURSEMENT_OFFICER,
        ip=ip,
        data={"paid": report.paid, "failed": report.failed},
    )
    _close_if_done(user, batch, ip=ip)
    return report


def _refused(user, batch: DisbursementBatch, report, *, ip=None):
    """A result file with errors applies nothing; the refusal is audited with its first errors."""
    record_action(
        batch,
        "finance.reconcile_refused",
        user,
        Role.DISBURSEMENT_OFFICER,
        ip=ip,
        data={"errors": report.errors[:50]},
    )
    return report


def _lines_of_other_batches(
    rows: list[dict[str, str]], batch: DisbursementBatch, lines: dict[str, DisbursementLine]
) -> dict[int, tuple[str, str]]:
    """{file line: (line reference, other batch's number)} for rows naming another batch's line."""
    unknown = {
        row["line"]: number
        for number, row in enumerate(rows, start=2)
        if row["line"]
        and row["line"] not in lines
        and len(row["line"]) <= 30
        and not has_control_characters(row)
    }
    if not unknown:
        return {}
    others = DisbursementLine.objects.filter(line_reference__in=list(unknown)).exclude(batch=batch)
    return {
        unknown[reference]: (reference, number)
        for reference, number in others.values_list("line_reference", "batch__number")
    }


def _row_error(row: dict[str, str], lines: dict[str, DisbursementLine], seen: set[str]) -> str:
    """Why this row of the result file cannot be applied, or "" when it can."""
    if has_control_characters(row):
        return _("the row contains control characters.")
    line = lines.get(row["line"])
    if not row["line"]:
        return _("the line reference is missing.")
    if line is None:
        return _("no line of this batch has the line reference %(ref)s.") % {"ref": row["line"]}
    if row["line"] in seen:
        return _("this line appears twice.")
    amount = parse_bank_amount(row["amount"])
    if amount is None:
        return _("the amount is not a number.")
    # The account is compared by its keyed hash: reconciliation decrypts no account.
    if line.bank_account_hash not in hash_candidates(row["account"], purpose="bank_account") or (
        amount != line.amount_cny
    ):
        return _("the account or the amount differs from line %(ref)s.") % {
            "ref": line.line_reference
        }
    if line.state == DisbursementLine.State.PAID:
        return _("this line is paid already.")
    status = row["status"].strip().lower()
    if status not in PAID_WORDS | FAILED_WORDS:
        return _("the status must be paid or failed.")
    if status in PAID_WORDS and not row["reference"]:
        return _("a paid line needs the bank's reference.")
    return ""
