"""Demo disbursements (`seed_demo`): a paid batch and an open one."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.models import User

from . import finance
from .demo import _advance, _enterprise, _submitted
from .models import BudgetAllocation, DisbursementBatch

# (enterprise user, measure, year, declared facts): approved awards for the demo batches.
_AWARDS = (
    (
        "enterprise2",
        "M10A",
        2026,
        {"provincial_public_warehouse": True, "registered_with_hengyang_customs": True},
    ),
    (
        "enterprise",
        "M02",
        2026,
        {"integrates_required_functions": True, "incubated_enterprises": 12},
    ),
)


@transaction.atomic
def seed() -> None:
    if DisbursementBatch.objects.exists():
        return
    staff = {name: User.objects.get(username=name) for name in ("commerce", "finance", "registrar")}
    allocation = (
        BudgetAllocation.objects.filter(fiscal_year=2026, measure__isnull=True)
        .order_by("fund_source__code")
        .first()
    )
    for index, (username, code, year, facts) in enumerate(_AWARDS, start=20):
        enterprise, user = _enterprise(username)
        if not Application.objects.filter(enterprise=enterprise, measure__code=code).exists():
            application = _submitted(enterprise, user, code, year, facts, index)
            _advance(application, State.APPROVED, staff, allocation)
    maker, checker = User.objects.get(username="finance"), User.objects.get(username="finance2")
    payable = list(finance.payable_awards().order_by("pk"))
    if len(payable) < 2:
        return
    paid_batch = finance.batch_create(user=maker, award_ids=[a.pk for a in payable[:-1]])
    finance.batch_confirm(user=checker, batch=paid_batch)
    for line in paid_batch.lines.all():
        finance.line_mark_paid(
            user=maker,
            line=line,
            paid_on=timezone.localdate(),
            reference=f"ICBC-DEMO-{line.sequence:03d}",
        )
    finance.batch_create(user=maker, award_ids=[payable[-1].pk], note="演示：待复核")
