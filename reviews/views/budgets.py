"""The budget page: allocated, committed, paid and remaining per fiscal year and fund source."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.i18n import english_active
from hengyang_cbec.params import optional_int

from ..models import BudgetAllocation
from ..permissions import BUDGET_READERS
from ..services.budgets import budget_summary


@role_required(*BUDGET_READERS)
def budgets(request: HttpRequest) -> HttpResponse:
    year = request.GET.get("year", "")
    fiscal_year = optional_int(year, minimum=2000, maximum=2100)
    allocations = BudgetAllocation.objects.select_related("fund_source", "measure")
    if fiscal_year:
        allocations = allocations.filter(fiscal_year=fiscal_year)
    return render(
        request,
        "reviews/budgets.html",
        {
            "summary": budget_summary(fiscal_year),
            "allocations": allocations,
            "year": fiscal_year,
            "english": english_active(),
            "can_edit": has_role(request.user, Role.POLICY_ADMINISTRATOR),
        },
    )
