"""Export 100,000 lines × 12 columns as CSV and XLSX, against bare csv and bare openpyxl.

Run: .venv/bin/python benchmarks/export_benchmark.py [--rows N]
Prints seconds, the ratio to the bare library and the peak Python memory (tracemalloc) of each.
Goals: CSV ≤ 1.5× bare csv; XLSX ≤ 0.75× bare openpyxl write-only; < 100 MB growth.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import openpyxl

from reviews.exports import Column, csv_stream, xlsx_file

COLUMNS = [
    Column("序号", "int"),
    Column("收款人"),
    Column("统一社会信用代码"),
    Column("开户银行"),
    Column("银行账号"),
    Column("金额", "money"),
    Column("大写金额"),
    Column("措施代码"),
    Column("措施名称"),
    Column("通知书编号"),
    Column("资金来源"),
    Column("批准文号"),
]


def rows(count: int):
    for n in range(count):
        yield [
            n + 1,
            f"衡阳测试跨境电商有限公司{n}",
            "91430400MA4L1A2B3Y",
            "中国工商银行衡阳分行",
            f"0{n:018d}",
            Decimal(100000 + n) + Decimal("0.05"),
            "壹拾万元零伍分",
            "M05",
            "支持跨境电商业务试点",
            f"衡商跨补〔2026〕{n:04d}号",
            "省级跨境电商专项资金",
            "衡政函〔2026〕12号",
        ]


def measure(label: str, work) -> tuple[float, float]:
    """Time a run on its own, then the peak Python memory of a second, traced run."""
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    tracemalloc.stop()
    print(f"{label:<28} {seconds:7.2f} s   peak {peak:6.1f} MB")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    count = parser.parse_args().rows
    out = Path(tempfile.mkdtemp())
    print(f"{count:,} rows × {len(COLUMNS)} columns")

    def portal_csv():
        with (out / "portal.csv").open("wb") as handle:
            for piece in csv_stream(COLUMNS, rows(count), totals_label="合计"):
                handle.write(piece)

    def bare_csv():
        with (out / "bare.csv").open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow([c.header for c in COLUMNS])
            for row in rows(count):
                writer.writerow(row)

    def portal_xlsx():
        handle = xlsx_file(COLUMNS, rows(count), totals_label="合计")
        handle.close()

    def bare_xlsx():
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        sheet.append([c.header for c in COLUMNS])
        for row in rows(count):
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        workbook.save(out / "bare.xlsx")

    csv_time, csv_peak = measure("portal CSV (streamed)", portal_csv)
    bare_csv_time, _ = measure("bare csv module", bare_csv)
    xlsx_time, xlsx_peak = measure("portal XLSX (XlsxWriter)", portal_xlsx)
    bare_xlsx_time, _ = measure("bare openpyxl write-only", bare_xlsx)
    print(f"CSV ratio  {csv_time / bare_csv_time:.2f}× (goal ≤ 1.5×), peak {csv_peak:.1f} MB")
    print(f"XLSX ratio {xlsx_time / bare_xlsx_time:.2f}× (goal ≤ 0.75×), peak {xlsx_peak:.1f} MB")


if __name__ == "__main__":
    main()
