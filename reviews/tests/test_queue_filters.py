"""The work queues' filters (reviews.filters.QueueFilter): each URL parameter narrows the rows as
the page promises, malformed values narrow nothing, and filtering costs no extra query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from policies.models import Place
from reviews.filters import QueueFilter
from reviews.models import Assignment, Stage

from .factories import make_application, make_enterprise, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(catalogue):
    """Six commerce-queue applications, each differing from `plain` in one filtered respect."""
    commerce = make_staff(Role.COMMERCE_REVIEWER, "filter_me")
    other = make_staff(Role.COMMERCE_REVIEWER, "filter_other")
    second_district = Place.objects.order_by("position")[1]
    found = {
        "plain": make_application(submitted_days_ago=1),
        "m16": make_application(code="M16", submitted_days_ago=2),
        "district": make_application(
            enterprise=make_enterprise(district=second_district), submitted_days_ago=3
        ),
        "y2025": make_application(year=2025, submitted_days_ago=4),
        "old": make_application(submitted_days_ago=40),
        "mine": make_application(state=State.COMMERCE_REVIEW, submitted_days_ago=5),
        "theirs": make_application(state=State.COMMERCE_REVIEW, submitted_days_ago=6),
    }
    for key, holder in (("mine", commerce), ("theirs", other)):
        Assignment.objects.create(
            application=found[key], stage=Stage.COMMERCE, assignee=holder, assigned_by=holder
        )
    return {"apps": found, "me": commerce, "other": other, "district": second_district}


def _shown(client, rows, **params) -> set[str]:
    """The keys of the rows the commerce queue lists on all its tabs' states, given params."""
    shown = set()
    for tab in ("submitted", "in_review"):
        html = client.get(reverse("reviews:commerce_queue"), {"tab": tab, **params}).content
        html = html.decode()
        shown |= {k for k, a in rows["apps"].items() if f'data-application="{a.pk}"' in html}
    return shown


def test_each_parameter_narrows_the_queue_as_the_page_says(client, rows):
    client.force_login(rows["me"])
    everything = set(rows["apps"])
    assert _shown(client, rows) == everything
    assert _shown(client, rows, measure="M16") == {"m16"}
    assert _shown(client, rows, district=rows["district"].code) == {"district"}
    assert _shown(client, rows, year="2025") == {"y2025"}
    assert _shown(client, rows, state=State.COMMERCE_REVIEW) == {"mine", "theirs"}
    assert _shown(client, rows, assignee="me") == {"mine"}
    assert _shown(client, rows, assignee=str(rows["other"].pk)) == {"theirs"}
    assert _shown(client, rows, assignee="none") == everything - {"mine", "theirs"}
    assert _shown(client, rows, age="30") == {"old"}
    assert _shown(client, rows, age="overdue") == {"old"}


@pytest.mark.parametrize(
    "params",
    [{"year": "２０２５"}, {"year": " 2025"}, {"state": "nonsense"}, {"age": "-1"}, {"sort": "x"}],
    ids=["fullwidth-year", "spaced-year", "unknown-state", "negative-age", "unknown-sort"],
)
def test_a_malformed_parameter_narrows_nothing_and_is_not_shown_selected(client, rows, params):
    client.force_login(rows["me"])
    assert _shown(client, rows, **params) == set(rows["apps"])
    form = QueueFilter(params, Application.objects.all(), stage=Stage.COMMERCE)
    assert set(form.active) <= {"age"}  # an unreadable age is kept in the form, as before
    assert form.sort_key == "age"


def test_the_filter_set_works_without_the_page_for_an_api(rows):
    """Given plain data and no request, the same rows come back, sorted as asked."""
    apps = rows["apps"]
    queryset = Application.objects.filter(state=State.SUBMITTED)
    newest_first = QueueFilter({"sort": "-age"}, queryset, stage=Stage.COMMERCE).qs
    assert list(newest_first.values_list("pk", flat=True))[:2] == [apps["plain"].pk, apps["m16"].pk]
    by_year = QueueFilter({"year": "2025", "measure": "M05"}, queryset, stage=Stage.COMMERCE)
    assert list(by_year.qs) == [apps["y2025"]]
    assert by_year.active == {"year": "2025", "measure": "M05"}


def _add_mine(rows, n: int) -> None:
    """n applications that pass every filter of the URL below, held by `me`."""
    for days in range(1, n + 1):
        make_application(
            enterprise=make_enterprise(district=rows["district"]),
            state=State.COMMERCE_REVIEW,
            submitted_days_ago=days,
        )
    me = rows["me"]
    Assignment.objects.bulk_create(
        Assignment(application=a, stage=Stage.COMMERCE, assignee=me, assigned_by=me)
        for a in Application.objects.filter(state=State.COMMERCE_REVIEW, assignments__isnull=True)
    )


def test_every_filter_at_once_keeps_a_constant_number_of_queries(client, rows, settings):
    settings.REVIEW_QUEUE_PAGE_SIZE = 5
    client.force_login(rows["me"])
    url = reverse("reviews:commerce_queue") + (
        f"?tab=in_review&measure=M05&district={rows['district'].code}&year=2026"
        "&state=commerce_review&assignee=me&age=0&sort=amount&page=2"
    )
    _add_mine(rows, 10)
    client.get(url)  # warm the session and catalogue caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).content.decode().count("data-application=") == 5
    _add_mine(rows, 40)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).content.decode().count("data-application=") == 5
    assert len(many.captured_queries) == len(few.captured_queries)
