"""The reviewers' queues: a constant number of queries over ten thousand applications, overdue
work standing out, taking an application from the queue, the year pickers, refused figures named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from policies.models import Measure
from reviews.models import Assignment, Stage
from tests.factories import make_user

from .factories import make_application, make_enterprise, make_member, make_staff

pytestmark = pytest.mark.django_db


# --- Queue queries ------------------------------------------------------------------------------


def _bulk(n: int, enterprise, submitter, commerce):
    measure = Measure.objects.get(code="M05")
    now = timezone.now()
    start = Application.objects.count()
    rows = [
        Application(
            enterprise=enterprise,
            measure=measure,
            year=2026,
            scope_key=f"s{start + i}",
            state=State.SUBMITTED if i % 3 else State.COMMERCE_REVIEW,
            reference=f"HY-CBEC-2026-{start + i:06d}",
            declared_facts={"cbec_export_volume_usd": "600000"},
            estimate_cny=100000,
            submitted_at=now - timedelta(days=i % 40),
            submitted_by=submitter,
            created_by=submitter,
            resubmission_count=1 if i % 5 == 0 else 0,
        )
        for i in range(n)
    ]
    created = Application.objects.bulk_create(rows)
    Assignment.objects.bulk_create(
        Assignment(application=a, stage=Stage.COMMERCE, assignee=commerce, assigned_by=commerce)
        for a in created
        if a.state == State.COMMERCE_REVIEW and a.pk is not None
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("tab", ["submitted", "in_review", "resubmitted"])
def test_the_commerce_queue_keeps_a_constant_number_of_queries(
    client, catalogue, django_assert_max_num_queries, tab
):
    enterprise = make_enterprise()
    submitter = make_member(enterprise)
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    url = reverse("reviews:commerce_queue") + f"?tab={tab}&sort=-age"
    _bulk(10, enterprise, submitter, commerce)
    client.get(url)  # warm the session and catalogue caches
    small = _queries(client, url)
    with django_assert_max_num_queries(small):
        client.get(url)
    _bulk(9990, enterprise, submitter, commerce)
    assert Application.objects.count() >= 10_000
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.content.decode().count("data-application=") <= 50


@pytest.mark.parametrize("name", ["finance_queue", "registrar_queue"])
def test_the_other_queues_keep_a_constant_number_of_queries(
    client, catalogue, django_assert_max_num_queries, name
):
    enterprise = make_enterprise()
    submitter = make_member(enterprise)
    role = Role.FINANCE_REVIEWER if name == "finance_queue" else Role.APPROVAL_REGISTRAR
    user = make_staff(role)
    client.force_login(user)
    url = reverse(f"reviews:{name}")
    _bulk(10, enterprise, submitter, user)
    Application.objects.update(
        state=State.FINANCE_REVIEW if role == Role.FINANCE_REVIEWER else State.PUBLIC_NOTICE
    )
    client.get(url)
    small = _queries(client, url)
    _bulk(990, enterprise, submitter, user)
    Application.objects.update(
        state=State.FINANCE_REVIEW if role == Role.FINANCE_REVIEWER else State.PUBLIC_NOTICE
    )
    with django_assert_max_num_queries(small):
        client.get(url)


def test_overdue_applications_stand_out(client, catalogue):
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    old = make_application(submitted_days_ago=40)
    fresh = make_application(submitted_days_ago=1)
    html = client.get(reverse("reviews:commerce_queue")).content.decode()
    assert f'data-application="{old.pk}" class="table-warning" data-overdue="1"' in html
    assert f'data-application="{fresh.pk}">' in html
    overdue_only = client.get(reverse("reviews:commerce_queue") + "?age=overdue").content.decode()
    assert f'data-application="{fresh.pk}"' not in overdue_only


def test_take_from_the_queue(client, catalogue):
    commerce = make_staff(Role.COMMERCE_REVIEWER)
    client.force_login(commerce)
    application = make_application()
    response = client.post(
        reverse("reviews:take", args=[application.pk]), {"version": application.version}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.COMMERCE_REVIEW
    assert Assignment.objects.get(application=application).assignee == commerce


@pytest.mark.parametrize("page", ["reviews:commerce_queue", "reviews:finance_reports"])
def test_year_pickers_follow_the_policy_validity(client, catalogue, password, page):
    from policies.models import Policy

    Policy.objects.update(valid_to=timezone.localdate().replace(year=2031, month=3, day=24))
    user = make_staff(Role.COMMERCE_REVIEWER, "year-picker")
    client.login(username=user.username, password=password)
    body = client.get(reverse(page)).content.decode()
    first = Policy.objects.order_by("valid_from").first().valid_from.year
    for year in range(first, 2032):
        assert f'<option value="{year}"' in body
    assert f'<option value="{first - 1}"' not in body
    assert '<option value="2032"' not in body


def test_figures_the_engine_refuses_are_named_on_the_review_page(client, catalogue):
    """The reviewer sees which figure stops the assessment, in Chinese, not a bare 'cannot'."""
    enterprise = make_enterprise()
    application = make_application(
        enterprise=enterprise,
        submitter=make_member(enterprise, "owner"),
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "maybe"},
    )
    client.force_login(make_user(Role.COMMERCE_REVIEWER, username="reader"))
    html = client.get(reverse("reviews:review_detail", args=[application.pk])).content.decode()
    label = catalogue.facts["had_cbec_exports_before"].label_zh
    assert f"数据暂不能测算。{label}：" in html
    assert "data-result-amount" not in html
