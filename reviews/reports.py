"""The reports on where the money went: applications, approvals and money by measure, district,
fund source and month."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.i18n import english_active

from .models import Award, DisbursementLine

ZERO = Decimal("0.00")


def report_tables(year: int | None = None) -> dict[str, Any]:
    """Applications, approvals, rejection rate, committed and paid amounts by measure,
    district, fund source and month; average days from submission to approval and payment."""
    applications = Application.objects.exclude(state=State.DRAFT).exclude(submitted_at=None)
    awards = Award.objects.filter(status__in=[Award.Status.COMMITTED, Award.Status.FIXED])
    paid_lines = DisbursementLine.objects.filter(state=DisbursementLine.State.PAID)
    if year:
        applications = applications.filter(year=year)
        awards = awards.filter(application__year=year)
        paid_lines = paid_lines.filter(award__application__year=year)
    approved_states = [State.APPROVED, State.DISBURSED]

    def by(key: str, label_key: str, award_key: str, line_key: str) -> list[dict[str, Any]]:
        counts = {
            row[key]: row
            for row in applications.values(key)
            .annotate(
                label=F(label_key),
                applications=Count("pk"),
                approved=Count("pk", filter=Q(state__in=approved_states)),
                rejected=Count("pk", filter=Q(state=State.REJECTED)),
            )
            .order_by(key)
        }
        committed = dict(awards.values_list(award_key).annotate(Sum("amount_cny")))
        paid = dict(paid_lines.values_list(line_key).annotate(Sum("amount_cny")))
        rows = []
        for group in sorted(set(counts) | set(committed) | set(paid), key=str):
            base = counts.get(group, {})
            decided = base.get("approved", 0) + base.get("rejected", 0)
            rows.append(
                {
                    "key": group,
                    "label": base.get("label") or group,
                    "applications": base.get("applications", 0),
                    "approved": base.get("approved", 0),
                    "rejected": base.get("rejected", 0),
                    "rejection_rate": (
                        (Decimal(base.get("rejected", 0)) * 100 / decided).quantize(Decimal("0.1"))
                        if decided
                        else None
                    ),
                    "committed_cny": committed.get(group) or ZERO,
                    "paid_cny": paid.get(group) or ZERO,
                }
            )
        return rows

    english = english_active()
    by_measure = by(
        "measure__code",
        "measure__title_en" if english else "measure__title_zh",
        "application__measure__code",
        "award__application__measure__code",
    )
    by_district = by(
        "enterprise__district__code",
        "enterprise__district__name_en" if english else "enterprise__district__name_zh",
        "application__enterprise__district__code",
        "award__application__enterprise__district__code",
    )
    fund_name = "fund_source__name_en" if english else "fund_source__name_zh"
    fund_committed = awards.values("fund_source__code", fund_name).annotate(
        committed=Sum("amount_cny")
    )
    fund_paid = dict(paid_lines.values_list("award__fund_source__code").annotate(Sum("amount_cny")))
    by_fund = [
        {
            "key": row["fund_source__code"],
            "label": row[fund_name],
            "committed_cny": row["committed"] or ZERO,
            "paid_cny": fund_paid.get(row["fund_source__code"]) or ZERO,
        }
        for row in fund_committed.order_by("fund_source__code")
    ]
    months: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"applications": 0, "committed_cny": ZERO, "paid_cny": ZERO}
    )
    for row in (
        applications.annotate(month=TruncMonth("submitted_at"))
        .values("month")
        .annotate(n=Count("pk"))
    ):
        months[row["month"].strftime("%Y-%m")]["applications"] = row["n"]
    for row in (
        awards.exclude(committed_at=None)
        .annotate(month=TruncMonth("committed_at"))
        .values("month")
        .annotate(total=Sum("amount_cny"))
    ):
        months[row["month"].strftime("%Y-%m")]["committed_cny"] = row["total"]
    for row in (
        paid_lines.annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(total=Sum("amount_cny"))
    ):
        months[row["month"].strftime("%Y-%m")]["paid_cny"] = row["total"]
    by_month = [
        {"key": month, "label": month, **values} for month, values in sorted(months.items())
    ]

    to_approval = [
        (fixed - submitted).total_seconds() / 86400
        for fixed, submitted in awards.filter(status=Award.Status.FIXED)
        .exclude(fixed_at=None)
        .values_list("fixed_at", "application__submitted_at")
    ]
    to_payment = [
        (line.paid_on - timezone.localtime(line.award.application.submitted_at).date()).days
        for line in paid_lines.select_related("award__application").only(
            "paid_on", "award__application__submitted_at"
        )
    ]
    totals = {
        "applications": applications.count(),
        "approved": applications.filter(state__in=approved_states).count(),
        "rejected": applications.filter(state=State.REJECTED).count(),
        "committed_cny": awards.aggregate(total=Sum("amount_cny"))["total"] or ZERO,
        "paid_cny": paid_lines.aggregate(total=Sum("amount_cny"))["total"] or ZERO,
        "days_to_approval": (
            Decimal(sum(to_approval) / len(to_approval)).quantize(Decimal("0.1"))
            if to_approval
            else None
        ),
        "days_to_payment": (
            (Decimal(sum(to_payment)) / len(to_payment)).quantize(Decimal("0.1"))
            if to_payment
            else None
        ),
    }
    return {
        "by_measure": by_measure,
        "by_district": by_district,
        "by_fund": by_fund,
        "by_month": by_month,
        "totals": totals,
    }


def audit_report_export(*, user, table: str, year: int | None, rows: int, ip=None) -> None:
    """A report table exported as XLSX (SECURITY.md 27, 33): who, which table and year, rows."""
    from hengyang_cbec.audit.services import record

    record(
        action="report.export",
        actor=user,
        ip=ip,
        object_type="report",
        object_id=table,
        data={"table": table, "year": year, "rows": rows, "format": "xlsx"},
    )
