"""Exports are safe to open in a spreadsheet and exact to the fen."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import openpyxl
import pytest

from reviews.exports import Column, csv_stream, neutralise, xlsx_file

COLUMNS = [
    Column("序号", "int"),
    Column("收款人"),
    Column("银行账号", "account"),
    Column("金额", "money"),
]
HOSTILE = [
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
    # A BOM, a no-break space or a zero-width character before the sign hides the formula.
    "\ufeff=1+1",
    '\u00a0=HYPERLINK("http://evil")',
    "\u200b@SUM(A1)",
    "\u2060\u00a0+1",
    "\u3000-1+1",
]
ROWS = [
    [1, "衡阳湘南跨境贸易有限公司", "0123456789012345678", Decimal("100000.00")],
    [2, '=HYPERLINK("http://evil")', "0000000000000000001", Decimal("0.05")],
    [3, "普通公司", "6222020903001234567", Decimal("1234567.89")],
]


@pytest.mark.parametrize("value", HOSTILE)
def test_cells_a_spreadsheet_would_run_are_neutralised(value):
    assert neutralise(value).startswith("'")


def test_plain_text_is_left_alone():
    assert neutralise("衡阳 公司") == "衡阳 公司"
    assert neutralise("\u00a0衡阳公司") == "\u00a0衡阳公司"


def test_an_account_that_is_not_only_digits_is_neutralised_not_tabbed():
    lines = read_csv(COLUMNS, [[1, "x", "=1+1", Decimal(1)], [2, "y", "6222 0209", Decimal(1)]])
    assert lines[1][2] == "'=1+1" and lines[2][2] == "6222 0209"


def read_csv(columns, rows, **kwargs) -> list[list[str]]:
    data = b"".join(csv_stream(columns, rows, **kwargs))
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_csv_keeps_accounts_exact_neutralises_formulas_and_totals_the_rows():
    lines = read_csv(COLUMNS, ROWS, preamble=[["批次", "PB-2026-0001"]], totals_label="合计")
    assert lines[0] == ["批次", "PB-2026-0001"]
    assert lines[1] == ["序号", "收款人", "银行账号", "金额"]
    # Excel keeps a cell with a leading tab as text: the 19 digits and the leading zero survive.
    assert lines[2][2] == "\t0123456789012345678"
    assert lines[2][2].strip() == ROWS[0][2]
    assert lines[3][1].startswith("'=")
    assert lines[-1] == ["合计", "", "", f"{sum(r[3] for r in ROWS):.2f}"]


def test_every_hostile_string_is_neutralised_in_csv():
    rows = [[n, value, "1", Decimal(1)] for n, value in enumerate(HOSTILE)]
    lines = read_csv(COLUMNS, rows)
    assert all(line[1].startswith("'") for line in lines[1:])


def test_xlsx_opens_with_openpyxl_amounts_are_numbers_and_text_is_text():
    handle = xlsx_file(COLUMNS, ROWS, preamble=[["批次", "PB-2026-0001"]], totals_label="合计")
    sheet = openpyxl.load_workbook(handle).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("序号", "收款人", "银行账号", "金额")
    assert rows[2][2] == "0123456789012345678"
    assert isinstance(rows[2][3], int | float) and Decimal(str(rows[2][3])) == Decimal("100000.00")
    assert sheet.cell(row=3, column=4).data_type == "n"
    assert rows[3][1].startswith("'=")
    assert sheet.cell(row=4, column=2).data_type == "s"
    assert Decimal(str(rows[-1][3])) == sum(r[3] for r in ROWS)
    assert rows[-1][0] == "合计"


def test_every_hostile_string_is_text_in_xlsx():
    rows = [[n, value, "1", Decimal(1)] for n, value in enumerate(HOSTILE)]
    sheet = openpyxl.load_workbook(xlsx_file(COLUMNS, rows)).active
    for cell in [row[1] for row in sheet.iter_rows(min_row=2)]:
        assert cell.data_type == "s" and cell.value.startswith("'")


def test_charts_escape_labels_and_carry_no_script_or_inline_style():
    from reviews.charts import bar_chart, line_chart

    hostile = "<script>alert(1)</script>"
    for chart in (
        bar_chart([hostile, "M05"], [("承诺", [Decimal(5), Decimal(0)])], title=hostile),
        line_chart(["2026-01", "2026-02"], [(hostile, [Decimal(1), Decimal(2)])], title="t"),
    ):
        assert "<script>" not in chart and "style=" not in chart
        assert "&lt;script&gt;" in chart
        assert chart.startswith("<svg")
