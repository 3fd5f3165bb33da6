"""Malformed input on the bureau's pages is a 400 or a message, never a 500 (SECURITY.md 31)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import Award, BudgetAllocation
from reviews.services import finance

from .factories import advance, make_application, make_enterprise, make_member, make_staff

pytestmark = pytest.mark.django_db

MALFORMED_IDS = ["abc", "²", "1e3", "-1", "99999999999999999999999", "\x00", ""]


@pytest.fixture
def officers():
    return make_staff(Role.DISBURSEMENT_OFFICER, "maker"), make_staff(
        Role.DISBURSEMENT_OFFICER, "checker"
    )


@pytest.fixture
def batch(officers, crew):
    enterprise = make_enterprise("衡阳坏输入跨境电商有限公司")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    advance(application, State.APPROVED, crew=crew, amount="100000")
    award = Award.objects.get(application=application, status=Award.Status.FIXED)
    return finance.batch_create(user=officers[0], award_ids=[award.pk])


@pytest.mark.parametrize("value", MALFORMED_IDS)
@pytest.mark.parametrize("action", ["remove", "paid", "failed"])
def test_a_malformed_line_on_a_batch_post_is_a_translated_400(
    client, officers, batch, password, action, value
):
    client.login(username=officers[0].username, password=password)
    response = client.post(
        reverse("reviews:finance_batch", args=[batch.pk]), {"action": action, "line": value}
    )
    assert response.status_code == 400
    assert "无法识别该请求" in response.content.decode()
    assert batch.lines.count() == 1


@pytest.mark.parametrize(
    "params",
    [
        {"age": "99999999999999"},
        {"age": "²"},
        {"age": "-5"},
        {"year": "²"},
        {"year": "99999999999999999999"},
        {"assignee": "٣"},
        {"assignee": "99999999999999999999"},
        {"page": "99999999999999999999"},
    ],
    ids=lambda p: "-".join(f"{k}={v[:6]}" for k, v in p.items()),
)
def test_a_malformed_queue_filter_is_ignored_not_a_500(client, password, params):
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "queue-reader")
    client.login(username=reviewer.username, password=password)
    response = client.get(reverse("reviews:commerce_queue"), params)
    assert response.status_code == 200


def test_a_malformed_approval_batch_filter_or_award_id_is_not_a_500(client, officers, password):
    client.login(username=officers[0].username, password=password)
    url = reverse("reviews:finance_disbursements")
    assert client.get(url, {"approval_batch": "²"}).status_code == 200
    assert client.post(url, {"award": ["abc"]}).status_code == 400


def test_a_superuser_without_the_policy_role_reads_budgets_in_the_admin_but_cannot_save(
    client, password, catalogue
):
    from policies.models import FundSource
    from tests.factories import make_user

    make_user(username="root", is_superuser=True, is_staff=True)
    client.login(username="root", password=password)
    allocation = BudgetAllocation.objects.create(
        fiscal_year=2026, fund_source=FundSource.objects.first(), amount_cny="1000000.00"
    )
    change = reverse("admin:reviews_budgetallocation_change", args=[allocation.pk])
    assert client.get(change).status_code == 200  # read-only view
    response = client.post(change, {"amount_cny": "2000000.00", "note": "x"})
    assert response.status_code == 403
    add = reverse("admin:reviews_budgetallocation_add")
    response = client.post(
        add,
        {"fiscal_year": 2027, "fund_source": FundSource.objects.first().pk, "amount_cny": "1"},
    )
    assert response.status_code == 403
    allocation.refresh_from_db()
    assert allocation.amount_cny == 1000000
    assert BudgetAllocation.objects.count() == 1
