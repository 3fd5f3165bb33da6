"""For systems with the scope `exchange_payments` (the bank, the treasury): confirmed disbursement
batches as data, and the bank's result as data. A result is a proposal: a disbursement officer
confirms it in the portal, and only then does it go through the reconciliation."""

from datetime import date, datetime

from ninja import Router, Schema, Status

from hengyang_cbec.audit.services import client_ip
from reviews.models import DisbursementBatch
from reviews.numerals import amount_in_capitals

from ..access import KeyAuth
from ..errors import ApiError
from ..models import BankResultProposal, Scope
from ..payments import ProposalError, exchangeable_batches, proposal_submit

router = Router(tags=["payments · 拨付与对账"], auth=KeyAuth(Scope.EXCHANGE_PAYMENTS))

_SCOPE_NOTE = "\n\n需要范围 · Scope: `exchange_payments`."


class BatchOut(Schema):
    number: str
    state: str
    confirmed_at: datetime | None
    lines: int
    total_cny: str


class LineOut(Schema):
    line_reference: str
    sequence: int
    payee_name: str
    uscc: str
    bank_name: str
    bank_account: str
    amount_cny: str
    amount_in_capitals: str
    measure_code: str
    measure_title: str
    application_reference: str
    fund_source: str
    approval_document: str
    state: str
    paid_on: date | None
    bank_reference: str


class BatchDetailOut(BatchOut):
    lines_detail: list[LineOut]


class ResultRow(Schema):
    line: str
    account: str
    amount: str
    reference: str = ""
    status: str
    reason: str = ""


class ResultIn(Schema):
    rows: list[ResultRow]


class ProposalOut(Schema):
    id: int
    batch: str
    status: str
    submitted_at: datetime
    decided_at: datetime | None
    paid: int
    failed: int
    errors: list[str]


def _batch(number: str) -> DisbursementBatch:
    batch = exchangeable_batches().filter(number=number.strip()[:20]).first()
    if batch is None:
        raise ApiError(
            404,
            "unknown_batch",
            ("没有这个编号的已复核拨付批次。", "No confirmed disbursement batch has this number."),
        )
    return batch


def _summary(batch: DisbursementBatch, lines: list) -> dict:
    total = sum((line.amount_cny for line in lines), start=0)
    return {
        "number": batch.number,
        "state": batch.state,
        "confirmed_at": batch.confirmed_at,
        "lines": len(lines),
        "total_cny": f"{total:.2f}",
    }


@router.get(
    "/disbursement-batches",
    response=list[BatchOut],
    summary="已复核的拨付批次 · Confirmed disbursement batches",
    description="已复核（待支付）和已支付的批次，最新在前；金额为两位小数的字符串。\n\n"
    "Confirmed (to pay) and paid batches, newest first; amounts are strings." + _SCOPE_NOTE,
)
def batches(request):
    out = []
    for batch in exchangeable_batches().prefetch_related("lines").order_by("-confirmed_at")[:200]:
        out.append(_summary(batch, list(batch.lines.all())))
    return out


@router.get(
    "/disbursement-batches/{number}",
    response=BatchDetailOut,
    summary="一个批次的明细 · One batch with its lines",
    description="与导出给银行的文件相同的明细，每行带明细编号（line_reference），"
    "银行结果须原样带回。\n\n"
    "The same lines as the file exported for the bank; each carries its line reference, which "
    "the bank's result must echo." + _SCOPE_NOTE,
)
def batch_detail(request, number: str):
    batch = _batch(number)
    lines = list(batch.lines.order_by("sequence"))
    return {
        **_summary(batch, lines),
        "lines_detail": [
            {
                "line_reference": line.line_reference,
                "sequence": line.sequence,
                "payee_name": line.payee_name,
                "uscc": line.uscc,
                "bank_name": line.bank_name,
                "bank_account": line.bank_account,
                "amount_cny": f"{line.amount_cny:.2f}",
                "amount_in_capitals": amount_in_capitals(line.amount_cny),
                "measure_code": line.measure_code,
                "measure_title": line.measure_title,
                "application_reference": line.application_reference,
                "fund_source": line.fund_source,
                "approval_document": line.approval_document,
                "state": line.state,
                "paid_on": line.paid_on,
                "bank_reference": line.bank_reference,
            }
            for line in lines
        ],
    }


def _proposal(proposal: BankResultProposal) -> dict:
    return {
        "id": proposal.pk,
        "batch": proposal.batch.number,
        "status": proposal.status,
        "submitted_at": proposal.submitted_at,
        "decided_at": proposal.decided_at,
        "paid": proposal.paid,
        "failed": proposal.failed,
        "errors": [str(e) for e in proposal.errors],
    }


@router.post(
    "/disbursement-batches/{number}/results",
    response={202: ProposalOut},
    summary="提交银行结果（待确认）· Send the bank's result (to be confirmed)",
    description="与银行结果文件相同的列：line（明细编号）、account、amount、reference、status"
    "（paid 或 failed）、reason。提交后不会立即入账：拨付经办人在平台上核对并确认后，"
    "按与上传文件相同的规则对账。\n\n"
    "The columns of the bank's result file. Nothing is paid on arrival: a disbursement officer "
    "checks and confirms it in the portal, and it is then reconciled by the same rules as an "
    "uploaded file." + _SCOPE_NOTE,
)
def submit_result(request, number: str, payload: ResultIn):
    batch = _batch(number)
    try:
        proposal = proposal_submit(
            key=request.auth,
            batch=batch,
            rows=[row.dict() for row in payload.rows],
            ip=client_ip(request),
        )
    except ProposalError as exc:
        raise ApiError(409, "not_accepted", str(exc)) from None
    response = _proposal(proposal)
    return Status(202, response)


@router.get(
    "/disbursement-batches/{number}/results/{proposal_id}",
    response=ProposalOut,
    url_name="result",
    summary="银行结果的处理情况 · What became of a sent result",
    description="pending（待确认）、applied（已对账）、refused（对账未通过，见 errors）或 "
    "rejected（经办人退回）。\n\n"
    "pending, applied, refused (see errors) or rejected by an officer." + _SCOPE_NOTE,
)
def result_status(request, number: str, proposal_id: int):
    proposal = (
        BankResultProposal.objects.filter(
            pk=proposal_id, batch__number=number.strip()[:20], api_key=request.auth
        )
        .select_related("batch")
        .first()
    )
    if proposal is None:
        raise ApiError(404, "unknown_result", ("没有这份结果。", "There is no such result."))
    return _proposal(proposal)
