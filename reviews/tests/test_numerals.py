"""Chinese financial capitals: the documented examples and a round trip through a reader."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviews.numerals import MAX_AMOUNT, amount_in_capitals

DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def read_capitals(text: str) -> Decimal:
    """An independent reader of 大写金额, to check the writer by a round trip."""
    integer_part, _, fraction = text.partition("元")
    if not _:  # no 元: fen or jiao only
        integer_part, fraction = "", text
    total = section = digit = 0
    for char in integer_part:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char in SMALL_UNITS:
            section += (digit or 1) * SMALL_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    total += section + digit
    cents = 0
    digit = 0
    for char in fraction:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char == "角":
            cents += digit * 10
            digit = 0
        elif char == "分":
            cents += digit
            digit = 0
    return Decimal(total) + Decimal(cents) / 100


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("0.05", "伍分"),
        ("100000", "壹拾万元整"),
        ("1000000.05", "壹佰万元零伍分"),
        ("10010", "壹万零壹拾元整"),
        ("0", "零元整"),
        ("500000.00", "伍拾万元整"),
        ("12345678.91", "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角壹分"),
    ],
)
def test_documented_examples(amount, capitals):
    assert amount_in_capitals(Decimal(amount)) == capitals


def test_half_a_fen_rounds_up():
    assert amount_in_capitals(Decimal("0.005")) == "壹分"


@pytest.mark.parametrize("bad", ["-1", "NaN", "Infinity", "abc", str(MAX_AMOUNT + 1)])
def test_nonsense_is_refused(bad):
    with pytest.raises(ValueError):
        amount_in_capitals(bad)


amounts = st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False)


@given(amounts)
def test_capitals_read_back_to_the_same_amount(amount):
    assert read_capitals(amount_in_capitals(amount)) == amount


@given(amounts)
def test_whole_amounts_and_only_those_end_with_zheng(amount):
    text = amount_in_capitals(amount)
    assert text.endswith("整") == (amount == amount.to_integral_value())
    assert set(text) <= set(DIGITS) | set(SMALL_UNITS) | set("万亿元角分整")


# Amounts with long runs of zeros, where the reading of 零 is decided (inside a group, across a
# whole group of zeros, at a group's end).
zero_heavy = st.builds(
    lambda digits, cents: Decimal(f"{int(''.join(digits) or '0')}.{cents:02d}"),
    st.lists(st.sampled_from("0000000123456789"), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=99),
)


@given(st.one_of(amounts, zero_heavy))
def test_capitals_agree_with_cn2an(amount):
    """cn2an (a test dependency only) is the oracle: the same text for every amount."""
    cn2an = pytest.importorskip("cn2an")
    assert amount_in_capitals(amount) == cn2an.an2cn(f"{amount:f}", "rmb")


def test_the_conversion_takes_microseconds():
    """A bank export converts every line: 10,000 amounts well under a second, no library."""
    import time

    from reviews import numerals

    start = time.perf_counter()
    for fen in range(0, 1_000_000_000, 100_003):
        amount_in_capitals(Decimal(fen) / 100)
    assert time.perf_counter() - start < 1.0
    assert not hasattr(numerals, "cn2an")
