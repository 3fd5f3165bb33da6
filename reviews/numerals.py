"""Amounts in Chinese financial capitals (大写金额), for notices and bank exports."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

_FEN = Decimal("0.01")
# cn2an's "rmb" mode handles amounts below one trillion yuan; awards are far below that.
MAX_AMOUNT = Decimal("999999999999.99")


def amount_in_capitals(amount: Decimal | str | int) -> str:
    """100000 → 壹拾万元整, 0.05 → 伍分, 1000000.05 → 壹佰万元零伍分 (half up to the fen)."""
    try:
        value = Decimal(str(amount)).quantize(_FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(f"{amount!r} is not an amount") from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"{amount!r} is outside 0 – {MAX_AMOUNT}")
    # The text of the Decimal goes in, never a float.
    return cn2an.an2cn(f"{value:f}", "rmb")
