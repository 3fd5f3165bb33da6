"""Official statistics (免申即享), the bureau's side: imports with their preview and four-eyes
approval, the documented templates, the entitlement list found by matching and the invitations
of enterprises not yet registered."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications.uploads import content_disposition
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import CSV, XLSX, file_download
from hengyang_cbec.i18n import english_active

from ..forms import ReasonForm, StatisticsImportForm
from ..models import Entitlement, StatisticsImport, StatisticsSource
from ..permissions import application_for_staff
from ..services.entitlements import matching_request, source_dispute
from ..services.statistics import (
    COLUMNS,
    StatisticsError,
    StatisticsInvalid,
    audit_download,
    import_approve,
    import_create,
    import_reject,
    preview,
    template_workbook,
)
from ..services.steps import ReviewError

READERS = (Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, Role.AUDITOR)


def _import(pk: int) -> StatisticsImport:
    found = (
        StatisticsImport.objects.select_related("imported_by", "api_key", "approved_by", "corrects")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404
    return found


@role_required(*READERS)
def statistics_list(request: HttpRequest) -> HttpResponse:
    """The imports, newest first, and (for commerce) the form to import a file."""
    can_import = has_role(request.user, Role.COMMERCE_REVIEWER)
    form = StatisticsImportForm()
    errors = []
    status = 200
    if request.method == "POST":
        if not can_import:
            raise Http404
        form = StatisticsImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                created = import_create(
                    user=request.user,
                    source=form.cleaned_data["source"],
                    upload=form.cleaned_data["file"],
                    corrects=form.cleaned_data["corrects"],
                    note=form.cleaned_data["note"],
                    ip=client_ip(request),
                )
            except StatisticsInvalid as exc:
                errors = exc.errors[:200]
                messages.error(request, str(exc))
                status = 400
            except StatisticsError as exc:
                messages.error(request, str(exc))
                status = 400
            else:
                messages.success(
                    request,
                    _("The file was checked and stored. A second commerce reviewer approves it."),
                )
                return redirect("reviews:statistics_detail", pk=created.pk)
        else:
            status = 400
    imports = StatisticsImport.objects.select_related("imported_by", "api_key", "approved_by")
    page = Paginator(imports, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/statistics/list.html",
        {
            "form": form,
            "errors": errors,
            "page": page,
            "can_import": can_import,
            "sources": [
                (value, label, COLUMNS[value]) for value, label in StatisticsSource.choices
            ],
        },
        status=status,
    )


@role_required(*READERS)
def statistics_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statistics_import = _import(pk)
    result = preview(statistics_import)
    shown = request.GET.get("show", "")
    lines = [line for line in result.lines if not shown or line.change == shown]
    return render(
        request,
        "reviews/statistics/detail.html",
        {
            "import": statistics_import,
            "preview": result,
            "lines": lines[:1000],
            "more": max(0, len(lines) - 1000),
            "show": shown,
            "may_decide": statistics_import.state == StatisticsImport.State.PENDING
            and has_role(request.user, Role.COMMERCE_REVIEWER)
            and statistics_import.imported_by_id != request.user.pk
            and getattr(statistics_import.api_key, "created_by_id", None) != request.user.pk,
            "is_importer": statistics_import.imported_by_id == request.user.pk,
            "reject_form": ReasonForm(),
        },
    )


@role_required(Role.COMMERCE_REVIEWER)
@require_POST
def statistics_approve(request: HttpRequest, pk: int) -> HttpResponse:
    statistics_import = _import(pk)
    try:
        import_approve(
            user=request.user, statistics_import=statistics_import, ip=client_ip(request)
        )
    except StatisticsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The import was applied. Matching runs on the records it changed.")
        )
    return redirect("reviews:statistics_detail", pk=pk)


@role_required(Role.COMMERCE_REVIEWER)
@require_POST
def statistics_reject(request: HttpRequest, pk: int) -> HttpResponse:
    statistics_import = _import(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for rejecting the import."))
        return redirect("reviews:statistics_detail", pk=pk)
    try:
        import_reject(
            user=request.user,
            statistics_import=statistics_import,
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except StatisticsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The import was rejected; nothing was changed."))
    return redirect("reviews:statistics_detail", pk=pk)


@role_required(*READERS)
def statistics_file(request: HttpRequest, pk: int) -> HttpResponse:
    statistics_import = _import(pk)
    if not statistics_import.file:
        raise Http404
    return file_download(
        statistics_import.file.open("rb"),
        filename=statistics_import.original_name or statistics_import.file.name,
        content_type=XLSX if statistics_import.file.name.endswith(".xlsx") else CSV,
        audit=lambda: audit_download(
            user=request.user, statistics_import=statistics_import, ip=client_ip(request)
        ),
        size=statistics_import.file.size,
    )


@role_required(*READERS)
def statistics_template(request: HttpRequest, source: str) -> HttpResponse:
    if source not in COLUMNS:
        raise Http404
    response = HttpResponse(template_workbook(source), content_type=XLSX)
    name = _("statistics-template-%(source)s.xlsx") % {"source": source}
    response["Content-Disposition"] = content_disposition(name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@role_required(*READERS)
def entitlement_list(request: HttpRequest) -> HttpResponse:
    """The entitlement list (可享清单); `?registered=no` lists enterprises still to invite."""
    rows = Entitlement.objects.select_related("measure", "enterprise", "application").order_by(
        "-year", "uscc", "measure__code"
    )
    status = request.GET.get("status", "")
    if status in Entitlement.Status.values:
        rows = rows.filter(status=status)
    registered = request.GET.get("registered", "")
    if registered == "no":
        rows = rows.filter(enterprise__isnull=True)
    elif registered == "yes":
        rows = rows.filter(enterprise__isnull=False)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/statistics/entitlements.html",
        {
            "page": page,
            "status": status,
            "registered": registered,
            "statuses": Entitlement.Status.choices,
            "can_match": has_role(request.user, Role.COMMERCE_REVIEWER),
            "english": english_active(),
            "invite_base": request.build_absolute_uri(reverse("applications:register")),
        },
    )


@role_required(Role.COMMERCE_REVIEWER)
@require_POST
def entitlement_match(request: HttpRequest) -> HttpResponse:
    """Run the matching on demand, over every record in use."""
    if matching_request(user=request.user, ip=client_ip(request)):
        messages.success(request, _("Matching started; the list shows its result when it ends."))
    else:
        messages.error(request, _("The task queue is not reachable; try again later."))
    return redirect("reviews:entitlements")


@role_required(Role.COMMERCE_REVIEWER)
@require_POST
def dispute_source(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    try:
        source_dispute(
            user=request.user,
            application=application,
            reason=request.POST.get("reason", ""),
            ip=client_ip(request),
        )
    except ReviewError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The source is flagged as disputed."))
    return redirect("reviews:review_detail", pk=pk)
