"""What the reviews action matrix (test_views.py) posts (Target), and its 免申即享 actions, each
with a valid body: a statistics file imported, an import approved or rejected by a second commerce
reviewer, the matching run on demand, a source disputed on a submitted proactive application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from reviews.models import Entitlement, StatisticsImport
from tests.portal_walk import World


@dataclass
class Target:
    """What one persona's POST acts on: the URL, a valid body (or a function making a fresh one
    for each POST, for a file), what it changes and to what."""

    url: str
    body: dict | Callable[[], dict]
    observe: Callable[[], object]
    wanted: object


def _states(world) -> World:
    """The walk's builder of 免申即享 states, one per test's world."""
    return world.setdefault("states", World())


def _import(world, crew, persona) -> Target:
    states = _states(world)
    name = f"海关统计-{persona}.csv"
    return Target(
        reverse("reviews:statistics"),
        lambda: {"source": "customs", "file": states.statistics_upload(name=name)},
        lambda: list(
            StatisticsImport.objects.filter(original_name=name).values_list(
                "imported_by__username", flat=True
            )
        ),
        [world["users"][persona].username] if persona else [],
    )


def _decide(route: str, wanted: str, **body) -> Callable[..., Target]:
    """A pending import (imported by another commerce reviewer) approved or rejected."""

    def prepare(world, crew, persona) -> Target:
        pending = _states(world).statistics_import()
        return Target(
            reverse(route, args=[pending.pk]),
            body,
            lambda: StatisticsImport.objects.values_list("state", flat=True).get(pk=pending.pk),
            wanted,
        )

    return prepare


def _match(world, crew, persona) -> Target:
    """An applied import not matched yet: the matching on demand offers its entitlement."""
    applied = _states(world).statistics_import(applied=True)
    uscc = applied.records.get().uscc
    return Target(
        reverse("reviews:entitlement_match"),
        {},
        lambda: Entitlement.objects.filter(uscc=uscc).exists(),
        True,
    )


def _dispute(world, crew, persona) -> Target:
    application = _states(world).proactive_application()
    return Target(
        reverse("reviews:dispute_source", args=[application.pk]),
        {"reason": "海关统计出口额与报关单汇总不符。"},
        lambda: Entitlement.objects.values_list("disputed_by__username", flat=True).get(
            application=application
        ),
        world["users"][persona].username if persona else None,
    )


STATISTICS_POSTS = {
    "statistics": _import,
    "statistics_approve": _decide("reviews:statistics_approve", StatisticsImport.State.APPLIED),
    "statistics_reject": _decide(
        "reviews:statistics_reject", StatisticsImport.State.REJECTED, reason="出口额单位有误。"
    ),
    "entitlement_match": _match,
    "dispute_source": _dispute,
}
