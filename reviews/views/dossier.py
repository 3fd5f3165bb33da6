"""The auditor's dossier: asking for one, its progress, its download (auditors and finance
supervisors only; each person sees their own dossiers)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import file_download

from ..dossier.forms import DossierForm
from ..models import DossierJob
from ..services import dossier
from ..services.dossier import DOSSIER_ROLES, DossierError

dossier_readers_required = role_required(*DOSSIER_ROLES)


@dossier_readers_required
@require_http_methods(["GET", "POST"])
def dossiers(request: HttpRequest) -> HttpResponse:
    form = DossierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = dossier.dossier_request(
                user=request.user,
                scope=form.cleaned_data["scope"],
                ip=client_ip(request),
                **form.cleaned_data["subject"],
            )
        except DossierError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("reviews:dossier_job", pk=job.pk)
    jobs = dossier.jobs_of(request.user)[:20]
    return render(
        request,
        "reviews/dossier/dossiers.html",
        {"form": form, "jobs": jobs, "hours": settings.DOSSIER_EXPIRY_HOURS},
        status=400 if form.errors else 200,
    )


def _job(request: HttpRequest, pk: int) -> DossierJob:
    """The user's own dossier, else 404 (another auditor's dossier is theirs to share)."""
    return get_object_or_404(
        DossierJob.objects.select_related("application", "batch"),
        pk=pk,
        requested_by=request.user,
    )


def _expired(request: HttpRequest, job: DossierJob) -> HttpResponse:
    return render(request, "reviews/dossier/expired.html", {"job": job}, status=410)


@dossier_readers_required
def dossier_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress of a dossier (polled by htmx), then its download link until it expires."""
    job = _job(request, pk)
    if job.expired:
        return _expired(request, job)
    template = (
        "reviews/dossier/_progress.html"
        if request.headers.get("HX-Request") == "true"
        else "reviews/dossier/job.html"
    )
    return render(request, template, {"job": job})


@dossier_readers_required
def dossier_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job(request, pk)
    if job.expired:
        return _expired(request, job)
    if job.status != DossierJob.Status.READY:
        raise Http404("not ready")
    return file_download(
        job.file.open("rb"),
        filename=_("Dossier %(label)s.zip") % {"label": job.label},
        content_type="application/zip",
        audit=lambda: dossier.audit_download(user=request.user, job=job, ip=client_ip(request)),
        size=job.size or job.file.size,
    )
