"""Finance's forecast of 免申即享: the entitlements against the budget, as a chart and XLSX."""

from __future__ import annotations

from decimal import Decimal

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import XLSX, file_download
from hengyang_cbec.i18n import english_active
from hengyang_cbec.params import optional_int
from policies.services import policy_years

from ..charts import bar_chart
from ..exports import Column, xlsx_file
from ..services.forecast import audit_forecast_export, forecast

forecast_readers = role_required(
    Role.FINANCE_REVIEWER, Role.COMMERCE_REVIEWER, Role.DISBURSEMENT_OFFICER, Role.AUDITOR
)


def _year(request: HttpRequest) -> int | None:
    return optional_int(request.GET.get("year", ""), minimum=2000, maximum=2100)


@forecast_readers
def forecast_page(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    tables = forecast(year)
    rows = tables["by_measure"]
    chart = bar_chart(
        [f"{row['measure__code']} {row['year']}" for row in rows],
        [
            (_("Offered"), [row["offered_cny"] for row in rows]),
            (_("Confirmed"), [row["confirmed_cny"] for row in rows]),
            (_("Declined"), [row["declined_cny"] for row in rows]),
        ],
        title=_("Entitlements by measure and year (yuan)"),
    )
    return render(
        request,
        "reviews/finance/forecast.html",
        {
            "tables": tables,
            "chart": chart,
            "year": year,
            "years": policy_years(),
            "english": english_active(),
        },
    )


@forecast_readers
def forecast_export(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    rows = forecast(year)["by_measure"]
    english = english_active()
    columns = [
        Column(_("Year"), "int"),
        Column(_("Measure")),
        Column(_("Fund source")),
        Column(_("Offered"), "int"),
        Column(_("Offered (yuan)"), "money"),
        Column(_("Confirmed"), "int"),
        Column(_("Confirmed (yuan)"), "money"),
        Column(_("Declined"), "int"),
        Column(_("Declined (yuan)"), "money"),
        Column(_("Measure's allocations (yuan)"), "money"),
        Column(_("Committed on them (yuan)"), "money"),
    ]

    def values():
        for row in rows:
            funds = "、".join((f.name_en if english else f.name_zh) for f in row["funds"]) or _(
                "general budget of the year"
            )
            yield [
                row["year"],
                row["measure__code"],
                funds,
                row["offered"],
                row["offered_cny"],
                row["confirmed"],
                row["confirmed_cny"],
                row["declined"],
                row["declined_cny"],
                # No allocation of its own: 0 (the fund source column says "general budget").
                row["allocated"] or Decimal("0.00"),
                row["committed"] or Decimal("0.00"),
            ]

    return file_download(
        xlsx_file(columns, values(), totals_label=_("Total"), sheet_name="forecast"),
        filename=f"forecast-{timezone.localdate()}.xlsx",
        content_type=XLSX,
        audit=lambda: audit_forecast_export(
            user=request.user, year=year, rows=len(rows), ip=client_ip(request)
        ),
    )
