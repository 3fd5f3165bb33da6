"""The one gap-free counter every numbered document uses.

`next_number(series, year)` must run inside the transaction that stores the number: the row stays
locked until it commits, so concurrent callers queue, and a rollback gives the number back.
"""

from __future__ import annotations

from django.db import transaction

from .models import Counter

# The series in use. Notice numbers count per issuer: notice_series(issuer).
APPLICATION_REFERENCE = "application"
DISBURSEMENT_BATCH = "disbursement_batch"


def notice_series(issuer: str) -> str:
    return f"notice:{issuer}"


def next_number(series: str, year: int) -> int:
    """The next number of the series in the year, under a row lock held until the caller commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_number must run inside the transaction that stores the number")
    counter, _created = Counter.objects.select_for_update().get_or_create(series=series, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
