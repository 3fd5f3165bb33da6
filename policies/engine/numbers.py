"""Decimal parsing, rounding and formatting.

All money is `Decimal`, read from its text and never through a float: a float has already lost
the decimal text the applicant typed. Callers parsing JSON use
`json.loads(..., parse_float=Decimal)`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Plain decimal notation only: no exponent, no thousands separators, no NaN or Infinity.
_DECIMAL_TEXT = re.compile(r"[+-]?\d+(?:\.\d+)?\Z")
_INT_TEXT = re.compile(r"[+-]?\d+\Z")


class BadNumber(ValueError):
    """A value is not an acceptable number; carries bilingual messages for `FactError`."""

    def __init__(self, message_en: str, message_zh: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh


def round_cny(value: Decimal) -> Decimal:
    """Round to 0.01, half up: the policy's amounts are in yuan and fen, rounded commercially."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """`Decimal` -> string with exactly two decimals, e.g. ``"100000.00"`` (no separators)."""
    return f"{round_cny(value):f}"


def grouped(value: Decimal) -> str:
    """Two decimals with thousands separators, for the trace: ``"100,000.00"``."""
    return f"{round_cny(value):,.2f}"


def percent(rate: Decimal, *, min_places: int = 0) -> str:
    """A fraction as a percentage for the trace: 0.50 -> ``"50%"``, 0.0310 -> ``"3.10%"``."""
    scaled = rate * HUNDRED
    if min_places:
        return f"{scaled:.{min_places}f}%"
    if scaled == scaled.to_integral_value():
        return f"{scaled:.0f}%"
    exponent = scaled.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{scaled:.{places}f}%"


def parse_decimal(
    raw: object,
    *,
    places: int,
    minimum: Decimal | None = ZERO,
    maximum: Decimal | None = None,
) -> Decimal:
    """Read a non-negative decimal from an int, a `Decimal` or its text.

    Refuses booleans (``True`` is not 1 yuan), floats, NaN/Infinity, exponents, thousands
    separators, more than `places` decimals, and values outside [minimum, maximum].
    """
    if isinstance(raw, bool):
        raise BadNumber("a boolean is not a number", "布尔值不是数字")
    if isinstance(raw, int):
        value = Decimal(raw)
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise BadNumber("not a finite number", "不是有限数值")
        value = raw
    elif isinstance(raw, str):
        text = raw.strip()
        if not _DECIMAL_TEXT.match(text):
            if "," in text or "，" in text:
                raise BadNumber(
                    f"{raw!r} is not a plain number (no thousands separators)",
                    f"{raw!r} 不是纯数字（不能含千位分隔符）",
                )
            raise BadNumber(f"{raw!r} is not a plain decimal number", f"{raw!r} 不是十进制数字")
        value = Decimal(text)
    elif isinstance(raw, float):
        raise BadNumber(
            "a float has lost its decimal text; pass the number as a string or Decimal",
            "浮点数已丢失原始数字文本，请以字符串或 Decimal 传入",
        )
    else:
        raise BadNumber(f"expected a number, got {type(raw).__name__}", "应为数字")
    return _check_range(value, places=places, minimum=minimum, maximum=maximum)


def parse_int(raw: object, *, minimum: Decimal | None, maximum: Decimal | None) -> int:
    """Read an integer from an int, an integral `Decimal` or its text; refuses booleans."""
    if isinstance(raw, bool):
        raise BadNumber("a boolean is not a number", "布尔值不是数字")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, Decimal):
        if not raw.is_finite() or raw != raw.to_integral_value():
            raise BadNumber("not a whole number", "不是整数")
        value = int(raw)
    elif isinstance(raw, str) and _INT_TEXT.match(raw.strip()):
        value = int(raw.strip())
    else:
        raise BadNumber(f"{raw!r} is not a whole number", f"{raw!r} 不是整数")
    if minimum is not None and value < minimum:
        raise BadNumber(f"{value} is below the minimum {minimum}", f"{value} 小于下限 {minimum}")
    if maximum is not None and value > maximum:
        raise BadNumber(f"{value} is above the maximum {maximum}", f"{value} 超过上限 {maximum}")
    return value


def _check_range(
    value: Decimal, *, places: int, minimum: Decimal | None, maximum: Decimal | None
) -> Decimal:
    if value.is_zero():
        value = abs(value)  # "-0" is zero, not a negative amount
    if value < 0 and (minimum is None or minimum >= 0):
        raise BadNumber(f"{value} is negative", f"{value} 为负数")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise BadNumber(
            f"{value} has more than {places} decimal places", f"{value} 的小数位超过 {places} 位"
        )
    if minimum is not None and value < minimum:
        raise BadNumber(f"{value} is below the minimum {minimum}", f"{value} 小于下限 {minimum}")
    if maximum is not None and value > maximum:
        raise BadNumber(f"{value} is above the maximum {maximum}", f"{value} 超过上限 {maximum}")
    return value
