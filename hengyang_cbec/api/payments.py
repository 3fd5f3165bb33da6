"""The bank's result sent as data by a system: a proposal that a disbursement officer confirms;
confirmed, its rows go through the same reconciliation as an uploaded result file
(reviews.services.finance.reconcile), so every rule of the file applies unchanged."""

from __future__ import annotations

import csv
import io

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import record
from reviews.models import DisbursementBatch
from reviews.services import finance
from reviews.services.bank_files import RESULT_COLUMNS
from reviews.services.finance import FinanceError, ReconciliationReport

from .models import ApiKey, BankResultProposal

MAX_ROWS = 100_000


class ProposalError(Exception):
    """A refused proposal or decision; the message is shown as it is."""


def exchangeable_batches():
    """The batches a bank or treasury system may read: confirmed, or paid already."""
    return DisbursementBatch.objects.exclude(state=DisbursementBatch.State.OPEN)


@transaction.atomic
def proposal_submit(*, key: ApiKey, batch: DisbursementBatch, rows: list[dict], ip=None):
    """Keep the rows for a person to confirm; nothing is paid here."""
    batch = DisbursementBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != DisbursementBatch.State.CONFIRMED:
        raise ProposalError(_("Only the lines of a confirmed batch can be paid."))
    if not rows or len(rows) > MAX_ROWS:
        raise ProposalError(_("Send at least one row of the bank's result."))
    clean = [{name: str(row.get(name) or "") for name in RESULT_COLUMNS} for row in rows]
    proposal = BankResultProposal.objects.create(batch=batch, api_key=key, rows=clean)
    record(
        action="api.bank_result_propose",
        ip=ip,
        obj=proposal,
        data={"key": key.prefix, "system": key.name, "batch": batch.number, "rows": len(clean)},
    )
    return proposal


def _as_file(rows: list[dict]) -> io.BytesIO:
    """The rows as the CSV result file the reconciliation reads."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(RESULT_COLUMNS)
    for row in rows:
        writer.writerow([row.get(name, "") for name in RESULT_COLUMNS])
    return io.BytesIO(text.getvalue().encode("utf-8"))


def _pending(proposal: BankResultProposal) -> BankResultProposal:
    proposal = BankResultProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != BankResultProposal.Status.PENDING:
        raise ProposalError(_("This result was decided already."))
    return proposal


def proposal_confirm(*, user, proposal: BankResultProposal, ip=None) -> ReconciliationReport:
    """A disbursement officer confirms: the rows are reconciled exactly as a file would be."""
    if not has_role(user, Role.DISBURSEMENT_OFFICER):
        raise ProposalError(_("Only a disbursement officer may do this."))
    with transaction.atomic():
        proposal = _pending(proposal)
        try:
            report = finance.reconcile(
                user=user, batch=proposal.batch, upload=_as_file(proposal.rows), ip=ip
            )
        except FinanceError as exc:
            report = ReconciliationReport(errors=[str(exc)])
        proposal.status = (
            BankResultProposal.Status.APPLIED if report.ok else BankResultProposal.Status.REFUSED
        )
        proposal.decided_by = user
        proposal.decided_at = timezone.now()
        proposal.paid, proposal.failed = report.paid, report.failed
        proposal.errors = report.errors[:200]
        proposal.save()
        record(
            action="api.bank_result_confirm",
            actor=user,
            actor_role=Role.DISBURSEMENT_OFFICER,
            ip=ip,
            obj=proposal,
            data={
                "batch": proposal.batch.number,
                "status": proposal.status,
                "paid": report.paid,
                "failed": report.failed,
                "errors": len(report.errors),
            },
        )
    return report


@transaction.atomic
def proposal_reject(*, user, proposal: BankResultProposal, reason: str, ip=None):
    if not has_role(user, Role.DISBURSEMENT_OFFICER):
        raise ProposalError(_("Only a disbursement officer may do this."))
    reason = reason.strip()[:200]
    if not reason:
        raise ProposalError(_("Give the reason for rejecting the bank's result."))
    proposal = _pending(proposal)
    proposal.status = BankResultProposal.Status.REJECTED
    proposal.decided_by = user
    proposal.decided_at = timezone.now()
    proposal.errors = [reason]
    proposal.save()
    record(
        action="api.bank_result_reject",
        actor=user,
        actor_role=Role.DISBURSEMENT_OFFICER,
        ip=ip,
        obj=proposal,
        data={"batch": proposal.batch.number, "reason": reason},
    )
    return proposal
