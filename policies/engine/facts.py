"""Fact definitions and the parsing of declared facts.

A fact is one named input of an assessment (a boolean condition, an amount, an area, a date...).
Its definition is data (catalogue `facts`); parsing checks type and bounds and returns the value
the rules compute with: `bool`, `int`, `Decimal`, `date` or `str`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from .numbers import BadNumber, parse_decimal, parse_int

FACT_KINDS = frozenset(
    {"bool", "int", "money_cny", "money_usd", "area_sqm", "rate", "date", "choice", "text"}
)
NUMERIC_KINDS = frozenset({"int", "money_cny", "money_usd", "area_sqm", "rate"})

# Decimal places accepted per kind: money to the fen/cent, areas to 0.01 sqm, rates to 1e-6.
_PLACES = {"money_cny": 2, "money_usd": 2, "area_sqm": 2, "rate": 6}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


@dataclass(frozen=True, slots=True)
class FactDef:
    """One fact as the catalogue defines it (see catalogue.py for the data shape)."""

    name: str
    kind: str
    required: bool
    label_zh: str
    label_en: str
    scope: str = "measure"
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    choices: tuple[str, ...] = ()
    choice_labels: tuple[tuple[str, str, str], ...] = ()  # (value, label_zh, label_en)
    max_length: int = 200
    unit_zh: str = ""
    unit_en: str = ""
    unit_en_one: str = ""  # the English unit for exactly one ("store"); unit_en is the plural
    reviewer_only: bool = False  # set by a reviewer as a verified fact, never asked of applicants
    answer_required: bool = False  # the application form asks for an explicit yes or no

    def parse(self, raw: object) -> object:
        """Return the typed value or raise `BadNumber` with a bilingual message."""
        return _PARSERS[self.kind](self, raw)

    def choice_label(self, value: str) -> tuple[str, str]:
        for choice, label_zh, label_en in self.choice_labels:
            if choice == value:
                return label_zh, label_en
        return value, value

    def show(self, value: object) -> tuple[str, str]:
        """The value as the trace shows it, in Chinese and English."""
        kind = self.kind
        if kind == "bool":
            return ("是", "yes") if value else ("否", "no")
        if kind in ("money_cny", "money_usd", "area_sqm"):
            return show_quantity(value, kind)  # type: ignore[arg-type]
        if kind == "int":
            zh = f"{value:,} {self.unit_zh}".rstrip()
            unit_en = self.unit_en_one if value == 1 and self.unit_en_one else self.unit_en
            return zh, f"{value:,} {unit_en}".rstrip()
        if kind == "choice":
            return self.choice_label(str(value))
        return str(value), str(value)


def show_quantity(value: Decimal, kind: str) -> tuple[str, str]:
    """Money with its currency, areas in sqm, two decimals and thousands separators."""
    text = f"{value:,.2f}"
    if kind == "money_cny":
        return f"{text} 元", f"CNY {text}"
    if kind == "money_usd":
        return f"{text} 美元", f"USD {text}"
    return f"{text} 平方米", f"{text} sqm"


def _parse_bool(fact: FactDef, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    raise BadNumber(f"expected true or false, got {raw!r}", f"应为 true 或 false，实为 {raw!r}")


def _parse_int(fact: FactDef, raw: object) -> int:
    return parse_int(raw, minimum=fact.minimum, maximum=fact.maximum)


def _parse_number(fact: FactDef, raw: object) -> Decimal:
    return parse_decimal(raw, places=_PLACES[fact.kind], minimum=fact.minimum, maximum=fact.maximum)


def _parse_date(fact: FactDef, raw: object) -> date:
    if isinstance(raw, datetime):
        raise BadNumber("expected a date, not a date-time", "应为日期，而非日期时间")
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str) and _ISO_DATE.match(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise BadNumber(
        f"{raw!r} is not an ISO date (YYYY-MM-DD)", f"{raw!r} 不是 YYYY-MM-DD 格式的日期"
    )


def _parse_choice(fact: FactDef, raw: object) -> str:
    if isinstance(raw, str) and raw in fact.choices:
        return raw
    allowed = ", ".join(fact.choices)
    raise BadNumber(f"{raw!r} is not one of: {allowed}", f"{raw!r} 不在可选值中：{allowed}")


def _parse_text(fact: FactDef, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadNumber("expected a non-empty text", "应为非空文本")
    text = raw.strip()
    if len(text) > fact.max_length:
        raise BadNumber(
            f"longer than {fact.max_length} characters", f"超过 {fact.max_length} 个字符"
        )
    return text


_PARSERS: dict[str, Callable[[FactDef, object], object]] = {
    "bool": _parse_bool,
    "int": _parse_int,
    "money_cny": _parse_number,
    "money_usd": _parse_number,
    "area_sqm": _parse_number,
    "rate": _parse_number,
    "date": _parse_date,
    "choice": _parse_choice,
    "text": _parse_text,
}
