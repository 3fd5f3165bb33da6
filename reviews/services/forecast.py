"""The finance forecast of 免申即享: what the entitlements found would cost if every enterprise
claimed, per year, measure and fund source, beside the budget allocated and committed.

The performance year of an entitlement is read as the fiscal year that would pay it; a measure's
own allocations name its fund source, other entitlements fall on the year's general budget.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum

from ..models import BudgetAllocation, Entitlement

ZERO = Decimal("0.00")
STATUSES = ("offered", "confirmed", "declined")


def forecast(year: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """{"by_measure": [...], "by_year": [...]}: amounts per status beside the budget."""
    entitlements = Entitlement.objects.all()
    allocations = BudgetAllocation.objects.all()
    if year:
        entitlements = entitlements.filter(year=year)
        allocations = allocations.filter(fiscal_year=year)
    sums = {
        f"{status}_cny": Sum("amount_cny", filter=Q(status=status), default=ZERO)
        for status in STATUSES
    } | {status: Count("pk", filter=Q(status=status)) for status in STATUSES}
    measure_rows = (
        entitlements.values("year", "measure__code", "measure__title_zh", "measure__title_en")
        .annotate(**sums)
        .order_by("-year", "measure__code")
    )
    budget_by_measure: dict[tuple[int, str], dict[str, Any]] = defaultdict(
        lambda: {"allocated": ZERO, "committed": ZERO, "funds": []}
    )
    for a in allocations.filter(measure__isnull=False).select_related("fund_source", "measure"):
        item = budget_by_measure[(a.fiscal_year, a.measure.code)]
        item["allocated"] += a.amount_cny
        item["committed"] += a.committed_cny
        item["funds"].append(a.fund_source)
    by_measure = []
    for row in measure_rows:
        budget = budget_by_measure.get((row["year"], row["measure__code"]))
        by_measure.append(
            {
                **row,
                "potential_cny": row["offered_cny"] + row["confirmed_cny"],
                "funds": budget["funds"] if budget else [],
                "allocated": budget["allocated"] if budget else None,
                "committed": budget["committed"] if budget else None,
            }
        )
    potential = defaultdict(lambda: ZERO)
    for row in by_measure:
        potential[row["year"]] += row["potential_cny"]
    budget_rows = (
        allocations.values("fiscal_year")
        .annotate(allocated=Sum("amount_cny"), committed=Sum("committed_cny"))
        .order_by("-fiscal_year")
    )
    budgets = {row["fiscal_year"]: row for row in budget_rows}
    by_year = []
    for fiscal_year in sorted(set(potential) | set(budgets), reverse=True):
        budget = budgets.get(fiscal_year, {"allocated": ZERO, "committed": ZERO})
        remaining = budget["allocated"] - budget["committed"]
        by_year.append(
            {
                "year": fiscal_year,
                "potential_cny": potential[fiscal_year],
                "allocated": budget["allocated"],
                "committed": budget["committed"],
                "remaining": remaining,
                "shortfall": max(ZERO, potential[fiscal_year] - remaining),
            }
        )
    return {"by_measure": by_measure, "by_year": by_year}


def audit_forecast_export(*, user, year: int | None, rows: int, ip=None) -> None:
    """The forecast table exported as XLSX (SECURITY.md 27, 33): who, which year, how many rows."""
    from hengyang_cbec.audit.services import record

    record(
        action="report.export",
        actor=user,
        ip=ip,
        object_type="report",
        object_id="forecast",
        data={"table": "forecast", "year": year, "rows": rows, "format": "xlsx"},
    )
