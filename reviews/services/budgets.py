"""Budget allocations: their changes under a lock and what is allocated, committed and paid."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import record

from ..models import Award, BudgetAllocation
from .steps import CENT, ReviewError, _money, _require_role


@transaction.atomic
def allocation_save(
    *, user, allocation: BudgetAllocation | None, data: Mapping[str, Any], ip=None
) -> BudgetAllocation:
    """Create an allocation or change its amount (never below what is committed), under a lock."""
    _require_role(user, Role.POLICY_ADMINISTRATOR)
    amount = Decimal(str(data["amount_cny"])).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ReviewError(_("The amount must not be negative."))
    if allocation is None or allocation.pk is None:
        allocation = BudgetAllocation.objects.create(
            fiscal_year=data["fiscal_year"],
            fund_source=data["fund_source"],
            measure=data.get("measure"),
            amount_cny=amount,
            note=data.get("note", ""),
        )
        record(
            action="budget.create",
            actor=user,
            actor_role=Role.POLICY_ADMINISTRATOR.value,
            ip=ip,
            obj=allocation,
            data={"amount_cny": _money(amount)},
        )
        return allocation
    allocation = BudgetAllocation.objects.select_for_update().get(pk=allocation.pk)
    if amount < allocation.committed_cny:
        raise ReviewError(
            _("An allocation cannot be lower than what is already committed (CNY %(c)s).")
            % {"c": f"{allocation.committed_cny:,.2f}"}
        )
    before = allocation.amount_cny
    allocation.amount_cny = amount
    allocation.note = data.get("note", allocation.note)
    allocation.save(update_fields=["amount_cny", "note", "updated_at"])
    record(
        action="budget.change",
        actor=user,
        actor_role=Role.POLICY_ADMINISTRATOR.value,
        ip=ip,
        obj=allocation,
        data={"before": _money(before), "after": _money(amount)},
    )
    return allocation


def budget_summary(fiscal_year: int | None = None) -> list[dict[str, Any]]:
    """Per fiscal year × fund source: allocated, committed, paid, remaining."""
    from ..models import DisbursementLine

    paid_lines = DisbursementLine.objects.filter(state=DisbursementLine.State.PAID)
    if fiscal_year:
        paid_lines = paid_lines.filter(award__allocation__fiscal_year=fiscal_year)
    paid = {
        (year, code): total
        for year, code, total in paid_lines.values_list(
            "award__allocation__fiscal_year", "award__allocation__fund_source__code"
        ).annotate(total=Sum("amount_cny"))
    }
    rows = BudgetAllocation.objects.all()
    if fiscal_year:
        rows = rows.filter(fiscal_year=fiscal_year)
    totals = (
        rows.values(
            "fiscal_year", "fund_source__code", "fund_source__name_zh", "fund_source__name_en"
        )
        .annotate(allocated=Sum("amount_cny"), committed=Sum("committed_cny"))
        .order_by("-fiscal_year", "fund_source__code")
    )
    return [
        {
            **row,
            "paid": paid.get((row["fiscal_year"], row["fund_source__code"])) or Decimal("0.00"),
            "remaining": row["allocated"] - row["committed"],
        }
        for row in totals
    ]


def committed_total(allocation: BudgetAllocation) -> Decimal:
    """The sum of committed and fixed awards on an allocation (what committed_cny must equal)."""
    return Award.objects.filter(
        Q(status=Award.Status.COMMITTED) | Q(status=Award.Status.FIXED), allocation=allocation
    ).aggregate(total=Sum("amount_cny"))["total"] or Decimal("0.00")
