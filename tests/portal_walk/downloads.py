"""Every view that answers a file, fetched as the persona it is for."""

from __future__ import annotations

import io
from collections.abc import Callable

from django.urls import reverse

from applications.models import Application, Evidence, Membership

from .world import World

# --- Every file download, as the persona it is for ------------------------------------------------


def _image_evidence(application: Application) -> Evidence:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    png = buffer.getvalue()
    name = default_storage.save("evidence/test/walk.png", ContentFile(png))
    return Evidence.objects.create(
        application=application,
        document_type="business_licence",
        file=name,
        original_name="照片.png",
        kind="png",
        content_type="image/png",
        size=len(png),
        sha256="ef" * 32,
        scan_state=Evidence.ScanState.CLEAN,
        frozen=True,
        uploaded_by=application.created_by,
    )


def _evidence(w: World) -> Evidence:
    from reviews.tests.factories import add_evidence

    return add_evidence(w.application(own=True))


def _export_job(w: World):
    from reviews.models import ExportJob
    from reviews.services.export_jobs import export_job_run

    batch = w.confirmed_batch()
    job = ExportJob.objects.create(
        batch=batch, file_format="xlsx", requested_by=w.officers[0], rows_total=1
    )
    export_job_run(job.pk)
    return job


# name → (user, url, expected audit action); a GET of each must answer the file and audit it.
DOWNLOADS: dict[str, Callable[[World], tuple]] = {
    "applications:evidence_download": lambda w: (
        w.member,
        reverse(
            "applications:evidence_download",
            args=[(e := _evidence(w)).application_id, e.pk],
        ),
        "evidence.download",
    ),
    "reviews:evidence_download": lambda w: (
        w.crew.commerce,
        reverse("reviews:evidence_download", args=[_evidence(w).pk]),
        "evidence.download",
    ),
    "reviews:evidence_inline": lambda w: (
        w.crew.commerce,
        reverse("reviews:evidence_inline", args=[_image_evidence(w.application()).pk]),
        "evidence.download",
    ),
    "reviews:objection_file": lambda w: (
        w.crew.commerce,
        reverse("reviews:objection_file", args=[w.objection(with_file=True).pk]),
        "review.objection_file_download",
    ),
    "reviews:finance_export": lambda w: (
        w.officers[0],
        reverse("reviews:finance_export", args=[w.confirmed_batch().pk, "csv"]),
        "finance.export",
    ),
    "reviews:finance_export_job_download": lambda w: (
        w.officers[0],
        reverse("reviews:finance_export_job_download", args=[_export_job(w).pk]),
        "finance.export_download",
    ),
    "reviews:finance_report_export": lambda w: (
        w.crew.finance,
        reverse("reviews:finance_report_export", args=["by_measure"]),
        "report.export",
    ),
    "notices:download": lambda w: (
        Membership.objects.get(enterprise=(n := w.notice("ready")).application.enterprise).user,
        reverse("notices:download", args=[n.pk, "zh"]),
        "notice.download",
    ),
    "applications:enterprise_document": lambda w: (
        (c := w.claim()).claimant,
        reverse("applications:enterprise_document", args=[c.documents.first().pk]),
        "enterprise.document_download",
    ),
    "reviews:verification_document": lambda w: (
        w.crew.commerce,
        reverse("reviews:verification_document", args=[w.claim().documents.first().pk]),
        "enterprise.document_download",
    ),
    "reviews:dossier_download": lambda w: (
        w.auditor,
        reverse("reviews:dossier_download", args=[w.dossier().pk]),
        "dossier.download",
    ),
    "reviews:statistics_file": lambda w: (
        w.crew.finance,
        reverse("reviews:statistics_file", args=[w.statistics_import().pk]),
        "statistics.download",
    ),
    "reviews:forecast_export": lambda w: (
        w.crew.finance,
        reverse("reviews:forecast_export") + "?year=2026",
        "report.export",
    ),
}

# Files that carry nothing but what every reader is shown anyway: no audit event is expected (each
# says why). They still leave as named attachments, never sniffed.
NOT_AUDITED_DOWNLOADS = {
    # The blank template of a statistics source: the documented column headers and their notes,
    # the same for everybody, with no enterprise's data in it.
    "reviews:statistics_template": "blank template: column headers and notes only",
}
