"""The dashboard and "my applications" run a constant number of queries, 5 or 500 rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from applications.workflow import State
from policies.models import Measure

pytestmark = pytest.mark.django_db


def bulk_applications(enterprise, user, count: int) -> None:
    measures = list(Measure.objects.all())
    Application.objects.bulk_create(
        Application(
            enterprise=enterprise,
            measure=measures[n % len(measures)],
            year=2025 + n % 3,
            scope_key=f"s{n}",
            state=State.SUBMITTED if n % 2 else State.APPROVED,
            reference=f"HY-CBEC-2026-{n:06d}",
            # Approved rows carry their amount, so the dashboard's prior awards are really read.
            approved_amount_cny=None if n % 2 else 1000,
            created_by=user,
        )
        for n in range(count)
    )


def queries_for(client, url: str) -> int:
    client.get(url)  # warm caches (catalogue, session)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", ["applications:dashboard", "applications:application_list"])
def test_applicant_lists_keep_a_constant_number_of_queries(
    client, enterprise, member, password, name, django_assert_max_num_queries
):
    client.login(username=member.username, password=password)
    bulk_applications(enterprise, member, 5)
    few = queries_for(client, reverse(name))
    Application.objects.all().delete()
    bulk_applications(enterprise, member, 500)
    many = queries_for(client, reverse(name))
    assert many == few, f"{few} queries with 5 applications, {many} with 500"
    with django_assert_max_num_queries(few):
        client.get(reverse(name))
