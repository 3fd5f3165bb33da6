"""For customs and the social-security agency (scope `import_statistics`): the 免申即享 statistics
sent as data. The rows go through the same validation and preview as an uploaded file
(reviews.services.statistics); the import is a proposal until a commerce reviewer approves it on
the statistics pages, and nothing becomes current before."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema, Status

from hengyang_cbec.audit.services import client_ip
from reviews.models import StatisticsImport
from reviews.services.statistics import (
    MAX_ROWS,
    VALUE_FIELDS,
    StatisticsError,
    StatisticsInvalid,
    import_create,
    preview,
    validate_rows,
)

from ..access import KeyAuth
from ..errors import ApiError, both
from ..models import Scope

router = Router(tags=["statistics · 免申即享统计数据"], auth=KeyAuth(Scope.IMPORT_STATISTICS))

_SCOPE_NOTE = "\n\n需要范围 · Scope: `import_statistics`."
_AMOUNTS = ("export_usd", "import_usd", "contributions_cny")


class ImportIn(Schema):
    source: Literal["customs", "social_security"]
    rows: list[dict[str, Any]] = Field(..., min_length=1)
    corrects: int | None = None
    note: str = ""


class CountsOut(Schema):
    new: int
    changed: int
    unchanged: int


class ImportOut(Schema):
    id: int
    source: str
    state: str
    lines: int
    counts: CountsOut
    totals: dict[str, str]
    corrects: int | None
    note: str
    imported_at: datetime
    approved_at: datetime | None
    rejected_reason: str


class LineErrorOut(Schema):
    line: int
    message: str


def _out(statistics_import: StatisticsImport) -> dict:
    if statistics_import.state == StatisticsImport.State.APPLIED:
        counts = statistics_import.summary
    else:
        result = preview(statistics_import)
        counts = {"new": result.new, "changed": result.changed, "unchanged": result.unchanged}
    fields = [f for f in VALUE_FIELDS[statistics_import.source] if f in _AMOUNTS]
    sums = statistics_import.records.aggregate(**{f: Sum(f) for f in fields})
    return {
        "id": statistics_import.pk,
        "source": statistics_import.source,
        "state": statistics_import.state,
        "lines": statistics_import.row_count,
        "counts": counts,
        "totals": {f: f"{sums[f] or Decimal(0):.2f}" for f in fields},
        "corrects": statistics_import.corrects_id,
        "note": statistics_import.note,
        "imported_at": statistics_import.imported_at,
        "approved_at": statistics_import.approved_at,
        "rejected_reason": statistics_import.rejected_reason,
    }


@router.post(
    "/statistics/imports",
    response={202: ImportOut},
    summary="提交统计数据（待批准）· Send statistics (a proposal to approve)",
    description="source 为 customs（海关跨境电商统计）或 social_security（社保缴费）；rows "
    "的每一行使用导入模板的列名（uscc、name、year、export_usd、import_usd、customs_office，"
    "或 uscc、name、year、contributions_cny），金额请以字符串发送，最多两位小数。"
    "第 1 行即 rows 的第一个元素。与上传文件相同的规则逐行检查：任何一行有误即返回 400，"
    "errors 列出每一行及其列，不保存任何数据。通过检查后，导入待商务审核人员在平台上批准，"
    "批准前不生效；corrects 为被更正的已生效导入的编号。\n\n"
    "`source` is customs or social_security; each row uses the template's column keys; send "
    "amounts as strings with at most two decimals. Line 1 is the first element of `rows`. The "
    "rows are checked by the same rules as an uploaded file: one bad row and the answer is 400, "
    "`errors` naming each line and its column, and nothing is stored. Accepted, the import waits "
    "for a commerce reviewer's approval in the portal and changes nothing before; `corrects` is "
    "the id of the applied import it corrects." + _SCOPE_NOTE,
)
def submit_import(request, payload: ImportIn):
    if len(payload.rows) > MAX_ROWS:
        raise ApiError(
            400,
            "too_many_rows",
            (f"一次最多发送 {MAX_ROWS:,} 行。", f"Send at most {MAX_ROWS:,} rows at a time."),
        )
    corrects = None
    if payload.corrects is not None:
        corrects = StatisticsImport.objects.filter(pk=payload.corrects).first()
        if corrects is None:
            raise ApiError(
                400,
                "unknown_import",
                ("没有要更正的这项导入。", "There is no import with this id to correct."),
            )
    rows = [{**row, "line": number} for number, row in enumerate(payload.rows, start=1)]
    try:
        created = import_create(
            api_key=request.auth,
            source=payload.source,
            rows=rows,
            corrects=corrects,
            note=payload.note,
            ip=client_ip(request),
        )
    except StatisticsInvalid as exc:
        raise ApiError(
            400,
            "invalid_rows",
            both(
                _("The rows were not imported: %(n)s errors. Nothing was stored."),
                {"n": len(exc.errors)},
            ),
            errors=[{"line": e.line, "message": e.message} for e in exc.errors[:1000]],
            errors_en=_in_english(payload.source, rows),
        ) from None
    except StatisticsError as exc:
        raise ApiError(400, "not_accepted", str(exc)) from None
    return Status(202, _out(created))


def _in_english(source: str, rows: list[dict]) -> list[dict]:
    """The same line errors in English, for the logs of the calling system."""
    with translation.override("en"):
        try:
            validate_rows(source, rows)
        except StatisticsInvalid as exc:
            return [{"line": e.line, "message": e.message} for e in exc.errors[:1000]]
    return []


@router.get(
    "/statistics/imports/{import_id}",
    response=ImportOut,
    summary="一项导入的处理情况 · What became of an import",
    description="state 为 pending（待批准）、applied（已生效）或 rejected（已退回，见 "
    "rejected_reason）；counts 为新增、变更、未变的行数（待批准时与现行数据比较）；"
    "totals 为各金额列的合计，两位小数的字符串。只能查询本密钥提交的导入。\n\n"
    "`state` is pending, applied or rejected (see rejected_reason); `counts` are the new, "
    "changed and unchanged lines (compared with the records in use while pending); `totals` "
    "sum each amount column, as strings with two decimals. A key sees only the imports it "
    "sent." + _SCOPE_NOTE,
)
def import_status(request, import_id: int):
    found = StatisticsImport.objects.filter(pk=import_id, api_key=request.auth).first()
    if found is None:
        raise ApiError(404, "unknown_import", ("没有这项导入。", "There is no such import."))
    return _out(found)
