"""Lists answer with a constant number of queries, whatever their length."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.workflow import State
from hengyang_cbec.api.models import Scope
from reviews.models import Award
from reviews.services import finance
from reviews.tests.factories import Crew, advance, make_application, make_enterprise, make_member

pytestmark = pytest.mark.django_db


def _queries(client, path: str, secret: str) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(path, HTTP_X_API_KEY=secret)
    assert response.status_code == 200, response.content
    return len(context.captured_queries)


def test_statuses_and_batches_cost_the_same_for_one_or_three(client, catalogue, make_key, officers):
    statuses = make_key(Scope.READ_STATUSES)
    payments = make_key(Scope.EXCHANGE_PAYMENTS)
    enterprise = make_enterprise("衡阳蒸湘跨境电商有限公司")
    member = make_member(enterprise)
    crew = Crew()
    counts = {}
    for round_, items in enumerate(([("M05", 2026)], [("M16", 2026), ("M16", 2025)])):
        for code, year in items:
            facts = {"social_security_paid_cny": "1000000"} if code == "M16" else None
            application = make_application(
                enterprise=enterprise, submitter=member, code=code, facts=facts, year=year
            )
            advance(application, State.APPROVED, crew=crew, amount="100000")
            award = Award.objects.get(application=application, status=Award.Status.FIXED)
            batch = finance.batch_create(user=officers[0], award_ids=[award.pk])
            finance.batch_confirm(user=officers[1], batch=batch)
        counts[round_] = (
            _queries(client, f"/api/v1/applications?uscc={enterprise.uscc}", statuses),
            _queries(client, "/api/v1/disbursement-batches", payments),
        )
    assert counts[0] == counts[1]
    listed = client.get("/api/v1/disbursement-batches", HTTP_X_API_KEY=payments).json()
    assert len(listed) == 3
