import pytest

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.demo import seed_accounts
from reviews import demo
from reviews.models import BudgetAllocation

pytestmark = pytest.mark.django_db


def test_the_demo_gives_every_queue_work_and_is_idempotent(catalogue):
    seed_accounts()
    demo.seed()
    demo.seed()
    states = set(Application.objects.values_list("state", flat=True))
    assert {
        State.SUBMITTED,
        State.COMMERCE_REVIEW,
        State.RETURNED,
        State.FINANCE_REVIEW,
        State.PUBLIC_NOTICE,
        State.GOVERNMENT_APPROVAL,
        State.APPROVED,
    } <= states
    assert BudgetAllocation.objects.filter(fiscal_year=2026).count() == 2
    # Seven states to walk, plus a notice whose period is already over (close_due_notices).
    assert Application.objects.count() == 8
