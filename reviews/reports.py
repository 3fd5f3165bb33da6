"""The reports on where the money went: applications, approvals and money by measure, district,
fund source and month."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.i18n import english_active

from .models import Award, DisbursementLine

ZERO = Decimal("0.00")


def _days(duration: timedelta | None) -> Decimal | None:
    if duration is None:
        return None
    return (Decimal(duration.total_seconds()) / 86400).quantize(Decimal("0.1"))


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

    # The totals are the sums of the measure table (every application has one measure); the
    # averages are computed by the database, never by loading the rows.
    approval_days = (
        awards.filter(status=Award.Status.FIXED)
        .exclude(fixed_at=None)
        .aggregate(
            days=Avg(
                ExpressionWrapper(
                    F("fixed_at") - F("application__submitted_at"), output_field=DurationField()
                )
            )
        )["days"]
    )
    payment_days = paid_lines.aggregate(
        days=Avg(
            ExpressionWrapper(
                F("paid_on") - TruncDate("award__application__submitted_at"),
                output_field=DurationField(),
            )
        )
    )["days"]
    totals = {
        "applications": sum(row["applications"] for row in by_measure),
        "approved": sum(row["approved"] for row in by_measure),
        "rejected": sum(row["rejected"] for row in by_measure),
        "committed_cny": sum((row["committed_cny"] for row in by_measure), ZERO),
        "paid_cny": sum((row["paid_cny"] for row in by_measure), ZERO),
        "days_to_approval": _days(approval_days),
        "days_to_payment": _days(payment_days),
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
