"""The unified social credit code and its GB 32100-2015 check character."""

import pytest
from django.core.exceptions import ValidationError

from applications.validators import validate_uscc

VALID = ["91430400MA4L1A2B3Y", "91430400MA4PXQ8K55", "91350100M000100Y43", "91430407MA4T2R6W1R"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_are_accepted(code):
    validate_uscc(code)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("91430400MA4L1A2B3X", "uscc_check_digit"),  # last character changed
        ("91430400MA4L1A2B3", "uscc_length"),
        ("91430400MA4L1A2B3YY", "uscc_length"),
        ("", "uscc_length"),
        ("91430400ma4l1a2b3y", "uscc_case"),
        ("91430400MA4I1A2B3Y", "uscc_characters"),  # I
        ("91430400MA4O1A2B3Y", "uscc_characters"),  # O
        ("91430400MA4Z1A2B3Y", "uscc_characters"),  # Z
        ("91430400MA4S1A2B3Y", "uscc_characters"),  # S
        ("91430400MA4V1A2B3Y", "uscc_characters"),  # V
        ("9143040XMA4L1A2B3Y", "uscc_division"),
        ("91430400MA4L1A2B3 ", "uscc_characters"),
    ],
)
def test_bad_codes_get_a_clear_error(code, error):
    with pytest.raises(ValidationError) as caught:
        validate_uscc(code)
    assert caught.value.code == error
    assert str(caught.value.message)
