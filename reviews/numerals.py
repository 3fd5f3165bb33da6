"""Amounts in Chinese financial capitals (大写金额), for notices and bank exports.

Integer arithmetic on the amount in fen: a bank export converts every line, so the conversion must
cost microseconds (the tests check it against an independent reader and against cn2an).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

_FEN = Decimal("0.01")
# Amounts below one trillion yuan (three groups of four digits); awards are far below that.
MAX_AMOUNT = Decimal("999999999999.99")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_GROUP_UNITS = ("", "万", "亿")


def _yuan_in_capitals(yuan: int) -> str:
    """12 → 壹拾贰; zeros between digits read 零 once; a group's trailing zeros do not."""
    if yuan == 0:
        return "零"
    groups = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    out: list[str] = []
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        # A group that starts with its thousands needs no 零 before it, even after a whole group
        # of zeros (the bank rule allows both 叁亿零陆仟 and 叁亿陆仟; this writes the shorter).
        if group >= 1000:
            pending_zero = False
        for position in (3, 2, 1, 0):
            digit = group // 10**position % 10
            if digit == 0:
                pending_zero = pending_zero or bool(out)
                continue
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(_DIGITS[digit])
            out.append(_SMALL_UNITS[position])
        out.append(_GROUP_UNITS[index])
        pending_zero = False
    return "".join(out)


def amount_in_capitals(amount: Decimal | str | int) -> str:
    """100000 → 壹拾万元整, 0.05 → 伍分, 1000000.05 → 壹佰万元零伍分 (half up to the fen)."""
    try:
        value = Decimal(str(amount)).quantize(_FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not an amount") from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"{amount!r} is outside 0 – {MAX_AMOUNT}")
    fen_total = int(value.scaleb(2))
    yuan, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if cents == 0:
        return _yuan_in_capitals(yuan) + "元整"
    text = _yuan_in_capitals(yuan) + "元" if yuan else ""
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif yuan:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text
