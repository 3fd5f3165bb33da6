"""What a page costs does not grow with the data: the same number of queries, and model objects
bounded by what the page shows, at 10 and at 1,000 rows (seeded with `manage.py seed_volume`:
applications in the queues, lines in the batch)."""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from hengyang_cbec.accounts.models import User
from policies.models import Place
from reviews.models import DisbursementBatch
from reviews.views.queues import QUEUES, _tab_filter, queue_counts

pytestmark = pytest.mark.django_db

QUEUE_TABS = [
    (f"reviews:{key}_queue", tab.key, user)
    for key, user in [
        ("commerce", "volume-commerce"),
        ("finance", "volume-finance"),
        ("registrar", "volume-registrar"),
    ]
    for tab in QUEUES[key].tabs
]
# (page, user): every list page, the batch page and the reports.
PAGES = [
    *[(f"{name}?tab={tab}", user) for name, tab, user in QUEUE_TABS],
    ("reviews:commerce_queue?measure=M03&district=FIRST", "volume-commerce"),
    ("reviews:commerce_queue?sort=amount&page=2", "volume-commerce"),
    ("reviews:finance_disbursements", "volume-officer"),
    ("BATCH", "volume-officer"),
    ("BATCH?page=2", "volume-officer"),
    ("reviews:finance_reports", "volume-officer"),
    ("reviews:finance_reports?year=", "volume-officer"),
    ("notices:staff_list", "volume-registrar"),
    ("reviews:public_notices", None),
    ("applications:dashboard", "volume-applicant"),
    ("applications:application_list", "volume-applicant"),
]


@contextmanager
def counting_objects():
    """Model instances made while the block runs, by model."""
    made: Counter[str] = Counter()

    def count(sender, **kwargs):
        made[sender.__name__] += 1

    post_init.connect(count, weak=False)
    try:
        yield made
    finally:
        post_init.disconnect(count)


def url_of(page: str, size: int) -> str:
    name, _, query = page.partition("?")
    if name == "BATCH":
        path = reverse(
            "reviews:finance_batch", args=[DisbursementBatch.objects.get(number=f"PB-V-{size}").pk]
        )
    else:
        path = reverse(name)
    first = Place.objects.order_by("position").values_list("code", flat=True).first()
    query = query.replace("FIRST", first)
    return f"{path}?{query}" if query else path


def measure(client, size: int) -> dict[str, tuple[int, int]]:
    costs = {}
    for page, username in PAGES:
        client.logout()
        if username:
            client.force_login(User.objects.get(username=username))
        url = url_of(page, size)
        client.get(url)  # warm the caches a first visit fills (catalogue, roles)
        with CaptureQueriesContext(connection) as queries, counting_objects() as made:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        costs[page] = (len(queries), sum(made.values()))
    return costs


@pytest.fixture
def seeded(catalogue):
    def seed(size: int) -> None:
        call_command("seed_volume", applications=size, batch_lines=size, dashboard=50, stdout=None)

    return seed


def test_pages_cost_the_same_queries_at_10_and_1000_rows_and_objects_stay_bounded(client, seeded):
    seeded(10)
    small = measure(client, 10)
    seeded(1000)
    assert Application.objects.filter(scope_key__startswith="vA").count() == 1000
    large = measure(client, 1000)
    for page, _user in PAGES:
        assert large[page][0] == small[page][0], (page, small[page], large[page])
    # The reports make no object per application or line; the dashboard (its enterprise has 50
    # applications at both sizes) none per application of the others.
    for page in (
        "reviews:finance_reports",
        "reviews:finance_reports?year=",
        "applications:dashboard",
    ):
        assert large[page][1] == small[page][1], (page, small[page], large[page])
    # The others show a page: 50 queue rows or applications, 100 batch lines or notice items
    # (a few objects each); the disbursement page lists at most 500 payable awards, each with its
    # application, enterprise, measure, fund source and approval.
    for page, (_queries, objects) in large.items():
        budget = 3_600 if page == "reviews:finance_disbursements" else 600
        assert objects <= budget, (page, objects)


def test_the_queue_tab_counts_are_the_numbers_of_rows_each_tab_lists(seeded):
    seeded(200)
    for queue in QUEUES.values():
        counts = queue_counts(queue)
        for tab in queue.tabs:
            assert counts[tab.key] == Application.objects.filter(_tab_filter(tab)).count(), (
                queue.key,
                tab.key,
            )
            assert counts[tab.key] > 0, (queue.key, tab.key)


def test_the_reports_cover_the_current_year_unless_all_years_are_asked(client, seeded):
    from django.utils import timezone

    seeded(40)
    client.force_login(User.objects.get(username="volume-officer"))
    submitted = Application.objects.exclude(state="draft").exclude(submitted_at=None)
    this_year = submitted.filter(year=timezone.localdate().year).count()
    assert 0 < this_year < submitted.count()
    for query, expected in (("", this_year), ("?year=", submitted.count())):
        html = client.get(reverse("reviews:finance_reports") + query).content.decode()
        assert f'data-total="applications">{expected}<' in html, query


def test_a_page_reads_the_catalogue_version_once_and_sees_a_change_on_the_next_request(
    client, seeded, monkeypatch
):
    """The review page formats dozens of facts by the catalogue: one cache read per request."""
    from policies import services

    seeded(10)
    client.force_login(User.objects.get(username="volume-commerce"))
    application = Application.objects.filter(state="submitted").order_by("pk").first()
    url = reverse("reviews:review_detail", args=[application.pk])
    client.get(url)
    reads = []
    real_get = services.cache.get

    def counting_get(key, *args, **kwargs):
        if key == services._VERSION_KEY:
            reads.append(key)
        return real_get(key, *args, **kwargs)

    monkeypatch.setattr(services.cache, "get", counting_get)
    assert client.get(url).status_code == 200
    assert len(reads) == 1
    services.bump_catalogue_version()
    assert client.get(url).status_code == 200
    assert len(reads) == 2
