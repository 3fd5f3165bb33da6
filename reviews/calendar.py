"""Working days: Monday to Friday, minus the holidays, plus the working weekends (调休)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.conf import settings


def _dates(values: Iterable[str]) -> set[date]:
    return {date.fromisoformat(str(v)) for v in values}


def is_working_day(day: date) -> bool:
    """Monday to Friday, minus REVIEW_HOLIDAYS, plus REVIEW_EXTRA_WORKING_DAYS (调休 weekends)."""
    if day in _dates(settings.REVIEW_EXTRA_WORKING_DAYS):
        return True
    if day in _dates(settings.REVIEW_HOLIDAYS):
        return False
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day
