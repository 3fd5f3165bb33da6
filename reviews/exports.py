"""Spreadsheet exports that are safe to open and exact to the fen.

CSV is streamed row by row (UTF-8 with a BOM so Excel reads Chinese); XLSX is written by
XlsxWriter in constant-memory mode to a temporary file, so a 100,000-line batch never sits whole
in memory. Text cells that a spreadsheet would execute (starting with = + - @, tab or carriage
return) are neutralised; amounts stay numbers; the totals row is the sum of the rows written.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import xlsxwriter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
# Characters a spreadsheet may drop or not show before the formula sign: a BOM, no-break and other
# spaces, zero-width characters. `\ufeff=1+1` or `\u00a0=HYPERLINK(...)` is still a formula.
INVISIBLE_LEAD = "\ufeff\u00a0\u2007\u202f\u200b\u200c\u200d\u2060\u180e\u3000 "


def needs_quote(text: str) -> bool:
    if not text:
        return False
    if text[0] in _TRIGGER_CHARS:
        return True
    return text[0] in _INVISIBLE and text.lstrip(INVISIBLE_LEAD)[:1] in _TRIGGER_CHARS


def neutralise(value: Any) -> str:
    """Text as a spreadsheet shows it and never runs it (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if needs_quote(text) else text


def account_text(value: Any) -> str:
    """A bank account in a CSV so that Excel keeps it as text (leading zeros, all 19 digits).

    A leading tab makes Excel read the cell as text; banks' importers strip it as whitespace.
    Only digits are written so: anything else is neutralised like other text.
    """
    text = "" if value is None else str(value)
    return "\t" + text if text.isascii() and text.isdigit() else neutralise(text)


@dataclass(frozen=True)
class Column:
    header: str
    # "text", "account" (a bank account: text Excel keeps whole), "money" (a Decimal, two
    # places) or "int"
    kind: str = "text"


_TRIGGER_CHARS = frozenset(FORMULA_TRIGGERS)
_INVISIBLE = frozenset(INVISIBLE_LEAD)
_CHUNK_ROWS = 1000


def csv_stream(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    preamble: Sequence[Sequence[str]] = (),
    totals_label: str = "",
) -> Iterator[bytes]:
    """Yield the CSV file in pieces: preamble lines, header, rows, then a totals row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    text = [i for i, c in enumerate(columns) if c.kind == "text"]
    accounts = [i for i, c in enumerate(columns) if c.kind == "account"]
    money = [i for i, c in enumerate(columns) if c.kind == "money"]
    sums = dict.fromkeys(money, Decimal(0))
    buffer.write(BOM)
    writer.writerows([neutralise(v) for v in line] for line in preamble)
    writer.writerow([neutralise(c.header) for c in columns])
    pending = 0
    for row in rows:
        cells = list(row)
        for index in text:
            value = cells[index]
            value = "" if value is None else str(value)
            if value and (value[0] in _TRIGGER_CHARS or value[0] in _INVISIBLE):
                value = neutralise(value)
            cells[index] = value
        for index in accounts:
            cells[index] = account_text(cells[index])
        for index in money:
            amount = cells[index]
            if not isinstance(amount, Decimal):
                amount = Decimal(amount)
            sums[index] += amount
            cells[index] = f"{amount:.2f}"
        writer.writerow(cells)
        pending += 1
        if pending == _CHUNK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if totals_label:
        total_row = [""] * len(columns)
        total_row[0] = neutralise(totals_label)
        for index, value in sums.items():
            total_row[index] = f"{value:.2f}"
        writer.writerow(total_row)
    yield buffer.getvalue().encode()


def xlsx_file(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    preamble: Sequence[Sequence[str]] = (),
    totals_label: str = "",
    sheet_name: str = "Sheet1",
) -> IO[bytes]:
    """Write the workbook to a temporary file (rewound) in XlsxWriter's constant-memory mode."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - returned to the caller
    workbook = xlsxwriter.Workbook(
        handle,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = workbook.add_worksheet(sheet_name[:31])
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    bold = workbook.add_format({"bold": True})
    row_index = 0
    for line in preamble:
        for col, value in enumerate(line):
            sheet.write_string(row_index, col, neutralise(value))
        row_index += 1
    for col, column in enumerate(columns):
        sheet.write_string(row_index, col, neutralise(column.header), bold)
        sheet.set_column(col, col, 22 if column.kind in ("text", "account") else 16)
    row_index += 1
    kinds = [column.kind for column in columns]
    money = [i for i, kind in enumerate(kinds) if kind == "money"]
    sums = dict.fromkeys(money, Decimal(0))
    write_string, write_number = sheet.write_string, sheet.write_number
    for row in rows:
        for col, value in enumerate(row):
            kind = kinds[col]
            if kind in ("text", "account"):  # a string cell: Excel keeps an account whole
                text = "" if value is None else str(value)
                if text and (text[0] in _TRIGGER_CHARS or text[0] in _INVISIBLE):
                    text = neutralise(text)
                write_string(row_index, col, text)
            elif kind == "money":
                amount = value if isinstance(value, Decimal) else Decimal(value)
                sums[col] += amount
                write_number(row_index, col, float(amount), money_format)
            else:
                write_number(row_index, col, int(value))
        row_index += 1
    if totals_label:
        sheet.write_string(row_index, 0, neutralise(totals_label), bold)
        for col, value in sums.items():
            sheet.write_number(row_index, col, float(value), money_format)
    workbook.close()
    handle.seek(0)
    return handle
