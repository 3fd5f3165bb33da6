"""Finance pages: disbursement batches, exports for the bank, payments, reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from applications.uploads import content_disposition
from hengyang_cbec import formatting
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.params import id_param, optional_int
from policies.models import FundSource, Measure
from policies.services import policy_years

from ..charts import bar_chart, line_chart
from ..exports import Column, csv_stream, xlsx_file
from ..forms import FailureForm, PaymentForm, ResultFileForm
from ..models import ApprovalBatch, DisbursementBatch, DisbursementLine, ExportJob
from ..reports import audit_report_export, report_tables
from ..services import export_jobs, finance
from ..services.finance import FinanceError

officer_required = role_required(Role.DISBURSEMENT_OFFICER)
finance_staff_required = role_required(Role.DISBURSEMENT_OFFICER, Role.FINANCE_REVIEWER)
report_readers_required = role_required(
    Role.DISBURSEMENT_OFFICER, Role.FINANCE_REVIEWER, Role.COMMERCE_REVIEWER, Role.AUDITOR
)


@officer_required
@require_http_methods(["GET", "POST"])
def disbursements(request: HttpRequest) -> HttpResponse:
    """Payable awards (filterable) to put into a batch, and the batches."""
    awards = finance.payable_awards()
    fund = request.GET.get("fund_source", "")
    measure = request.GET.get("measure", "")
    approval = request.GET.get("approval_batch", "")
    if fund:
        awards = awards.filter(fund_source__code=fund)
    if measure:
        awards = awards.filter(application__measure__code=measure)
    approval_id = optional_int(approval, minimum=1, maximum=2**63 - 1)
    if approval_id is not None:
        awards = awards.filter(approval_batch_id=approval_id)
    if request.method == "POST":
        ids = [id_param(value) for value in request.POST.getlist("award")]
        try:
            batch = finance.batch_create(
                user=request.user,
                award_ids=ids,
                note=request.POST.get("note", ""),
                ip=client_ip(request),
            )
        except FinanceError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Batch %(n)s prepared.") % {"n": batch.number})
            return redirect("reviews:finance_batch", pk=batch.pk)
    batches = DisbursementBatch.objects.select_related("prepared_by", "confirmed_by").annotate(
        line_count=Count("lines"),
        total=Sum("lines__amount_cny"),
        paid=Count("lines", filter=Q(lines__state=DisbursementLine.State.PAID)),
    )[:50]
    return render(
        request,
        "reviews/finance/disbursements.html",
        {
            "awards": awards[:500],
            "batches": batches,
            "fund_sources": FundSource.objects.all(),
            "measures": Measure.objects.all(),
            "approval_batches": ApprovalBatch.objects.all()[:100],
            "filters": {"fund_source": fund, "measure": measure, "approval_batch": approval},
        },
    )


def _batch(pk: int) -> DisbursementBatch:
    return get_object_or_404(
        DisbursementBatch.objects.select_related("prepared_by", "confirmed_by"), pk=pk
    )


@finance_staff_required
@require_http_methods(["GET", "POST"])
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(pk)
    if request.method == "POST":
        if not has_role(request.user, Role.DISBURSEMENT_OFFICER):
            raise PermissionDenied
        action = request.POST.get("action")
        try:
            if action == "confirm":
                finance.batch_confirm(user=request.user, batch=batch, ip=client_ip(request))
                messages.success(request, _("The batch is confirmed and frozen."))
            elif action == "remove":
                line = get_object_or_404(
                    DisbursementLine, pk=id_param(request.POST.get("line")), batch=batch
                )
                finance.batch_remove_line(user=request.user, line=line, ip=client_ip(request))
            elif action in {"paid", "failed"}:
                line = get_object_or_404(
                    DisbursementLine, pk=id_param(request.POST.get("line")), batch=batch
                )
                form = PaymentForm(request.POST) if action == "paid" else FailureForm(request.POST)
                if not form.is_valid():
                    for errors in form.errors.values():
                        messages.error(request, " ".join(errors))
                elif action == "paid":
                    finance.line_mark_paid(
                        user=request.user,
                        line=line,
                        paid_on=form.cleaned_data["paid_on"],
                        reference=form.cleaned_data["reference"],
                        ip=client_ip(request),
                    )
                    messages.success(
                        request,
                        _(
                            "Line %(n)s marked paid: %(amount)s to %(payee)s, "
                            "bank reference %(ref)s."
                        )
                        % {
                            "n": line.sequence,
                            "amount": formatting.cny(line.amount_cny),
                            "payee": line.payee_name,
                            "ref": form.cleaned_data["reference"],
                        },
                    )
                else:
                    finance.line_mark_failed(
                        user=request.user,
                        line=line,
                        reason=form.cleaned_data["reason"],
                        ip=client_ip(request),
                    )
            elif action == "reconcile":
                form = ResultFileForm(request.POST, request.FILES)
                if not form.is_valid():
                    for errors in form.errors.values():
                        messages.error(request, " ".join(errors))
                else:
                    report = finance.reconcile(
                        user=request.user,
                        batch=batch,
                        upload=form.cleaned_data["file"],
                        ip=client_ip(request),
                    )
                    if report.ok:
                        messages.success(
                            request,
                            _("%(paid)s lines paid, %(failed)s returned as failed.")
                            % {"paid": report.paid, "failed": report.failed},
                        )
                    else:
                        messages.error(request, _("Nothing was applied. Correct these lines:"))
                        for error in report.errors[:50]:
                            messages.error(request, error)
        except FinanceError as exc:
            messages.error(request, str(exc))
        return redirect("reviews:finance_batch", pk=batch.pk)
    lines = batch.lines.all().order_by("sequence")
    totals = batch.lines.aggregate(
        total=Sum("amount_cny"),
        paid=Sum("amount_cny", filter=Q(state=DisbursementLine.State.PAID)),
    )
    return render(
        request,
        "reviews/finance/batch.html",
        {
            "batch": batch,
            "lines": lines,
            "totals": totals,
            "payment_form": PaymentForm(initial={"paid_on": timezone.localdate()}),
            "failure_form": FailureForm(),
            "result_form": ResultFileForm(),
            "is_preparer": batch.prepared_by_id == request.user.pk,
        },
    )


@finance_staff_required
def batch_export(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    if file_format not in {"csv", "xlsx"}:
        raise Http404("no such format")
    batch = _batch(pk)
    try:
        finance.check_exportable(request.user, batch)
    except FinanceError as exc:
        messages.error(request, str(exc))
        return redirect("reviews:finance_batch", pk=batch.pk)
    if file_format == "xlsx" and export_jobs.export_in_background(batch):
        job = export_jobs.export_job_start(
            user=request.user, batch=batch, file_format=file_format, ip=client_ip(request)
        )
        return redirect("reviews:finance_export_job", pk=job.pk)
    finance.audit_export(
        user=request.user, batch=batch, file_format=file_format, ip=client_ip(request)
    )
    name = f"{batch.number}.{file_format}"
    rows = finance.export_rows(batch)
    preamble = finance.export_preamble(batch)
    if file_format == "csv":
        response = StreamingHttpResponse(
            csv_stream(finance.EXPORT_COLUMNS, rows, preamble=preamble, totals_label="合计 Total"),
            content_type="text/csv; charset=utf-8",
        )
    else:
        handle = xlsx_file(
            finance.EXPORT_COLUMNS,
            rows,
            preamble=preamble,
            totals_label="合计 Total",
            sheet_name=batch.number,
        )
        response = FileResponse(
            handle,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _job(request: HttpRequest, pk: int) -> ExportJob:
    return get_object_or_404(ExportJob.objects.select_related("batch"), pk=pk)


@finance_staff_required
def export_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress of a background export (polled by htmx), then its download link."""
    job = _job(request, pk)
    template = (
        "reviews/finance/_export_progress.html"
        if request.headers.get("HX-Request") == "true"
        else "reviews/finance/export_job.html"
    )
    return render(request, template, {"job": job, "export_file_hours": settings.EXPORT_FILE_HOURS})


@finance_staff_required
def export_job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.status != ExportJob.Status.READY:
        raise Http404("not ready")
    finance.audit_export_job_download(user=request.user, job=job, ip=client_ip(request))
    response = FileResponse(
        job.file.open("rb"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition(f"{job.batch.number}.xlsx")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _year(request: HttpRequest) -> int | None:
    value = request.GET.get("year", "")
    return optional_int(value, minimum=2000, maximum=2100)


@report_readers_required
def reports(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    tables = report_tables(year)
    measure_rows = tables["by_measure"]
    month_rows = tables["by_month"]
    charts = {
        "measure": bar_chart(
            [row["key"] for row in measure_rows],
            [
                (_("Committed"), [row["committed_cny"] for row in measure_rows]),
                (_("Paid"), [row["paid_cny"] for row in measure_rows]),
            ],
            title=_("Committed and paid by measure (yuan)"),
        ),
        "month": line_chart(
            [row["key"] for row in month_rows],
            [
                (_("Committed"), [row["committed_cny"] for row in month_rows]),
                (_("Paid"), [row["paid_cny"] for row in month_rows]),
            ],
            title=_("Committed and paid by month (yuan)"),
        ),
    }
    return render(
        request,
        "reviews/finance/reports.html",
        {"tables": tables, "charts": charts, "year": year, "years": policy_years()},
    )


REPORT_TABLES = {
    "by_measure": gettext_lazy("By measure"),
    "by_district": gettext_lazy("By district"),
    "by_fund": gettext_lazy("By fund source"),
    "by_month": gettext_lazy("By month"),
}


@report_readers_required
def report_export(request: HttpRequest, table: str) -> HttpResponse:
    if table not in REPORT_TABLES:
        raise Http404("no such table")
    rows = report_tables(_year(request))[table]
    counted = table in {"by_measure", "by_district"}
    columns = [Column(_("Group")), Column(_("Name"))]
    if counted:
        columns += [
            Column(_("Applications"), "int"),
            Column(_("Approved"), "int"),
            Column(_("Rejected"), "int"),
            Column(_("Rejection rate (%)")),
        ]
    elif table == "by_month":
        columns.append(Column(_("Applications"), "int"))
    columns += [Column(_("Committed (yuan)"), "money"), Column(_("Paid (yuan)"), "money")]

    def values():
        for row in rows:
            line = [row["key"], row["label"]]
            if counted:
                line += [
                    row["applications"],
                    row["approved"],
                    row["rejected"],
                    "" if row["rejection_rate"] is None else str(row["rejection_rate"]),
                ]
            elif table == "by_month":
                line.append(row["applications"])
            yield [*line, row["committed_cny"], row["paid_cny"]]

    handle = xlsx_file(columns, values(), totals_label=_("Total"), sheet_name=table)
    audit_report_export(
        user=request.user, table=table, year=_year(request), rows=len(rows), ip=client_ip(request)
    )
    response = FileResponse(
        handle, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = content_disposition(
        f"report-{table}-{timezone.localdate()}.xlsx"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
