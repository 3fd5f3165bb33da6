"""Reading ids and numbers from a request: a malformed value is a 400, never a 500 (SECURITY 31)."""

from __future__ import annotations

import re

from django.core.exceptions import BadRequest

# Up to 18 digits fits a PostgreSQL bigint (and a Python int the ORM can bind) with room to spare.
_ID = re.compile(r"[0-9]{1,18}")
MAX_ID = 2**63 - 1


def id_param(value: object) -> int:
    """A database id from a GET/POST value; BadRequest (answered as the translated 400 page)."""
    text = value if isinstance(value, str) else ""
    if not _ID.fullmatch(text):
        raise BadRequest("malformed id")
    return int(text)


def optional_int(value: object, *, minimum: int, maximum: int) -> int | None:
    """An ASCII integer within bounds; None when the value is absent, malformed or out of them."""
    text = value if isinstance(value, str) else ""
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def id_list(values) -> list[int]:
    """The well-formed ids among a list of GET/POST values (checkboxes); the others are dropped."""
    ids = (optional_int(value, minimum=1, maximum=MAX_ID) for value in values)
    return [value for value in ids if value is not None]
