"""The columns of the official statistics files, per source: the template documents them, the
reader recognises their headers in Chinese and English, the validator checks them by kind."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import StatisticsSource


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translated header, as the template shows it
    kind: str  # "uscc", "text", "year", "usd", "cny"
    required: bool = True
    help: Any = ""
    example: str = ""
    # The Chinese header of the template, recognised whatever language the importer reads.
    header_zh: str = ""


COLUMNS: dict[str, tuple[Column, ...]] = {
    StatisticsSource.CUSTOMS: (
        Column(
            "uscc",
            gettext_lazy("Unified social credit code"),
            "uscc",
            help=gettext_lazy("18 characters, capital letters, with its check character."),
            example="91430400MA4L1A2B3Y",
            header_zh="统一社会信用代码",
        ),
        Column(
            "name",
            gettext_lazy("Enterprise name"),
            "text",
            help=gettext_lazy("As registered."),
            example="衡阳湘南跨境贸易有限公司",
            header_zh="企业名称",
        ),
        Column(
            "year",
            gettext_lazy("Year"),
            "year",
            help=gettext_lazy("The statistical year, four digits."),
            example="2026",
            header_zh="年度",
        ),
        Column(
            "export_usd",
            gettext_lazy("CBEC exports (USD)"),
            "usd",
            help=gettext_lazy("US dollars, at most two decimals, no currency sign."),
            example="1250000.00",
            header_zh="跨境电商出口额（美元）",
        ),
        Column(
            "import_usd",
            gettext_lazy("CBEC imports (USD)"),
            "usd",
            help=gettext_lazy("US dollars, at most two decimals, no currency sign."),
            example="300000.00",
            header_zh="跨境电商进口额（美元）",
        ),
        Column(
            "customs_office",
            gettext_lazy("Customs office"),
            "text",
            required=False,
            help=gettext_lazy("The customs office that keeps the statistics."),
            example="衡阳海关",
            header_zh="海关",
        ),
    ),
    StatisticsSource.SOCIAL_SECURITY: (
        Column(
            "uscc",
            gettext_lazy("Unified social credit code"),
            "uscc",
            help=gettext_lazy("18 characters, capital letters, with its check character."),
            example="91430400MA4L1A2B3Y",
            header_zh="统一社会信用代码",
        ),
        Column(
            "name",
            gettext_lazy("Enterprise name"),
            "text",
            required=False,
            help=gettext_lazy("As registered (optional: identifies the enterprise in lists)."),
            example="衡阳湘南跨境贸易有限公司",
            header_zh="企业名称",
        ),
        Column(
            "year",
            gettext_lazy("Year"),
            "year",
            help=gettext_lazy("The year the contributions were paid for, four digits."),
            example="2026",
            header_zh="年度",
        ),
        Column(
            "contributions_cny",
            gettext_lazy("Contributions paid (CNY)"),
            "cny",
            help=gettext_lazy("Yuan, at most two decimals, no currency sign."),
            example="520000.00",
            header_zh="缴纳社会保险费（元）",
        ),
    ),
}
VALUE_FIELDS = {
    StatisticsSource.CUSTOMS: ("name", "export_usd", "import_usd", "customs_office"),
    StatisticsSource.SOCIAL_SECURITY: ("name", "contributions_cny"),
}


def template_workbook(source: str) -> bytes:
    """The documented template: the header on the first sheet, the column notes on the second."""
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Data")
    sheet.append([str(c.label) for c in COLUMNS[source]])
    notes = workbook.create_sheet(_("Notes"))
    notes.append([_("Column"), _("Required"), _("Meaning and format"), _("Example")])
    for c in COLUMNS[source]:
        notes.append([str(c.label), _("yes") if c.required else _("no"), str(c.help), c.example])
    notes.append([])
    notes.append(
        [
            _(
                "One line per credit code and year. The whole file is checked before anything is "
                "stored: one bad line and nothing is imported. A second commerce reviewer approves "
                "the import."
            )
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
