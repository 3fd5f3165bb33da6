"""The bank's result file: reading it (CSV or XLSX, bounded before it is parsed) into rows of
text, and the words and amounts a bank writes in it. Reconciliation is in finance.py."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from decimal import Decimal

from django.utils.translation import gettext as _

from .steps import FinanceError

# `line` is the line reference printed on the export (明细编号); `reference` the bank's own.
RESULT_COLUMNS = ("line", "account", "amount", "reference", "status", "reason")
REQUIRED_RESULT_COLUMNS = RESULT_COLUMNS[:5]
PAID_WORDS = {"paid", "success", "成功", "已支付"}
FAILED_WORDS = {"failed", "failure", "失败", "退回"}
# Amounts as a bank writes them: digits, an optional thousands comma, at most two decimals.
_AMOUNT = re.compile(r"[0-9]{1,3}(?:,?[0-9]{3}){0,4}(?:\.[0-9]{1,2})?")
# An XLSX result file is judged by what it expands to before it is parsed.
RESULT_XLSX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
RESULT_XLSX_MAX_ENTRIES = 200
RESULT_CSV_MAX_BYTES = 5 * 1024 * 1024
RESULT_MAX_EXTRA_ROWS = 100  # blank or repeated rows tolerated beyond one row per line


def read_result_file(upload, *, max_rows: int) -> list[dict[str, str]]:
    """The bank's result file as rows of text (CSV in UTF-8 with or without BOM, or XLSX).

    At most `max_rows` rows after the header; an XLSX is refused by its uncompressed size and
    number of parts before it is parsed.
    """
    head = upload.read(4)
    upload.seek(0)
    if head.startswith(b"PK"):
        rows = _xlsx_rows(upload, max_rows=max_rows)
    else:
        data = upload.read(RESULT_CSV_MAX_BYTES + 1)
        if len(data) > RESULT_CSV_MAX_BYTES:
            raise FinanceError(_("The result file is too large."))
        rows = []
        for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
            rows.append([cell.strip() for cell in row])
            if len(rows) > max_rows + 1:
                raise _too_many_rows(max_rows)
    if not rows:
        return []
    header = [cell.lower() for cell in rows[0]]
    if not set(REQUIRED_RESULT_COLUMNS) <= set(header):
        raise FinanceError(
            _("The first row must name the columns: line, account, amount, reference, status.")
        )
    index = {name: header.index(name) for name in RESULT_COLUMNS if name in header}
    return [
        {name: (row[i] if i < len(row) else "") for name, i in index.items()}
        for row in rows[1:]
        if any(row)
    ]


def _too_many_rows(max_rows: int) -> FinanceError:
    return FinanceError(
        _("The result file has more rows than the batch has lines (%(n)s).") % {"n": max_rows}
    )


def _xlsx_rows(upload, *, max_rows: int) -> list[list[str]]:
    import openpyxl

    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise FinanceError(_("The result file is not a valid XLSX or CSV file.")) from None
    expanded = sum(info.file_size for info in infos)
    if len(infos) > RESULT_XLSX_MAX_ENTRIES or expanded > RESULT_XLSX_MAX_UNCOMPRESSED:
        raise FinanceError(
            _("The XLSX file expands to more than %(mb)s MB: it cannot be a result file.")
            % {"mb": RESULT_XLSX_MAX_UNCOMPRESSED // (1024 * 1024)}
        )
    upload.seek(0)
    try:
        workbook = openpyxl.load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # any parser failure on an untrusted file is a refusal, not a 500
        raise FinanceError(_("The result file is not a valid XLSX or CSV file.")) from None
    rows = []
    try:
        for row in workbook.active.iter_rows(values_only=True):
            rows.append(["" if cell is None else str(cell).strip() for cell in row])
            if len(rows) > max_rows + 1:
                raise _too_many_rows(max_rows)
    except FinanceError:
        raise
    except Exception:
        raise FinanceError(_("The result file is not a valid XLSX or CSV file.")) from None
    finally:
        workbook.close()
    return rows


def has_control_characters(row: dict[str, str]) -> bool:
    return any(unicodedata.category(ch) == "Cc" for value in row.values() for ch in value)


def parse_bank_amount(text: str) -> Decimal | None:
    """A bank's amount, or None: no exponent, no infinity or NaN, no more than two decimals."""
    text = text.strip()
    if not _AMOUNT.fullmatch(text):
        return None
    return Decimal(text.replace(",", "")).quantize(Decimal("0.01"))
