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


def test_the_demo_enterprise_sees_entitlements_from_the_sample_files(catalogue):
    from applications.demo import seed as seed_applications
    from reviews.models import Entitlement, StatisticsImport

    seed_accounts()
    seed_applications()
    demo.seed()
    demo.seed_statistics()
    demo.seed_statistics()
    assert StatisticsImport.objects.filter(state="applied").count() == 2
    offered = Entitlement.objects.filter(
        enterprise__uscc="91430400MA4L1A2B3Y", status=Entitlement.Status.OFFERED
    )
    # M05 of 2026 is already claimed (committed award); M16 of 2026 takes over its draft.
    assert [(e.measure.code, str(e.amount_cny)) for e in offered] == [("M16", "52000.00")]
    waiting = Entitlement.objects.filter(enterprise__isnull=True)
    assert {e.uscc for e in waiting} == {"91430400MA4QH7R2CL", "91430406MA7K2N5P3H"}
