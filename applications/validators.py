"""The unified social credit code (统一社会信用代码) of GB 32100-2015."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The code's alphabet: digits and capitals without I, O, Z, S and V (GB 32100-2015, table 1).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {char: index for index, char in enumerate(USCC_ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_DIVISION = re.compile(r"\d{6}\Z")


def uscc_check_character(first17: str) -> str:
    """The 18th character for the first 17 (mod-31 weighted sum)."""
    total = sum(_VALUE[char] * weight for char, weight in zip(first17, _WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    if not isinstance(value, str) or len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has exactly 18 characters."), code="uscc_length"
        )
    if value != value.upper():
        raise ValidationError(
            _("Write the unified social credit code in capital letters."), code="uscc_case"
        )
    bad = sorted({char for char in value if char not in _VALUE})
    if bad:
        raise ValidationError(
            _("The code may not contain %(chars)s (the letters I, O, Z, S and V are never used).")
            % {"chars": "、".join(bad)},
            code="uscc_characters",
        )
    if not _DIVISION.match(value[2:8]):
        raise ValidationError(
            _("Characters 3 to 8 must be the six digits of an administrative division code."),
            code="uscc_division",
        )
    if uscc_check_character(value[:17]) != value[17]:
        raise ValidationError(
            _("The check character (the last one) does not match: please check the code."),
            code="uscc_check_digit",
        )
