"""Large disbursement exports written in the background (Celery), with progress; their files are
deleted EXPORT_FILE_HOURS after they were written (they hold full bank accounts)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hengyang_cbec.queueing import publish

from ..models import DisbursementBatch, ExportJob
from .finance import EXPORT_COLUMNS, audit_export, check_exportable, export_preamble, export_rows

PROGRESS_EVERY = 1000


def export_in_background(batch: DisbursementBatch) -> bool:
    """XLSX of a large batch takes seconds: it is written by a worker, with progress."""
    return batch.lines.count() > settings.EXPORT_ASYNC_ROWS


@transaction.atomic
def export_job_start(*, user, batch: DisbursementBatch, file_format: str, ip=None):
    from ..tasks import write_export

    check_exportable(user, batch)
    job = ExportJob.objects.create(
        batch=batch,
        file_format=file_format,
        requested_by=user,
        rows_total=batch.lines.count(),
    )
    audit_export(user=user, batch=batch, file_format=file_format, ip=ip)
    # A job the broker does not take stays pending: sweep_export_jobs sends it again.
    transaction.on_commit(lambda: publish(write_export, job.pk))
    return job


def sweep_export_jobs() -> int:
    """Send again the export jobs still pending EXPORT_STALE_SECONDS after they were asked for,
    and delete the files written more than EXPORT_FILE_HOURS ago."""
    from ..tasks import write_export

    delete_expired_export_files()

    due = ExportJob.objects.filter(
        status=ExportJob.Status.PENDING,
        created_at__lte=timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS),
    )
    sent = 0
    for job_id in due.order_by("pk").values_list("pk", flat=True)[:200]:
        if not publish(write_export, job_id):
            break  # the broker is still down: the next sweep tries again
        sent += 1
    return sent


def export_job_run(job_id: int) -> str:
    """Write the export file of a job (the Celery task's body); idempotent."""
    from django.core.files import File
    from django.core.files.storage import default_storage

    from applications.uploads import storage_name

    from ..exports import xlsx_file

    job = ExportJob.objects.select_related("batch").get(pk=job_id)
    if job.status == ExportJob.Status.READY:
        return "done already"
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, rows_done=0)

    def counted(rows):
        for done, row in enumerate(rows, start=1):
            if done % PROGRESS_EVERY == 0:
                ExportJob.objects.filter(pk=job.pk).update(rows_done=done)
            yield row

    handle = xlsx_file(
        EXPORT_COLUMNS,
        counted(export_rows(job.batch)),
        preamble=export_preamble(job.batch),
        totals_label="合计 Total",
        sheet_name=job.batch.number,
    )
    with handle:
        name = default_storage.save(storage_name(prefix="exports", kind="xlsx"), File(handle))
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.READY,
        rows_done=job.rows_total,
        file=name,
        finished_at=timezone.now(),
    )
    return "ready"


def delete_expired_export_files() -> int:
    """Delete the files of background exports written more than EXPORT_FILE_HOURS ago.

    An export holds every payee's full account: once the bank has it, it is not kept in storage.
    The job stays (who asked, when, how many rows) with the status "deleted".
    """
    cutoff = timezone.now() - timedelta(hours=settings.EXPORT_FILE_HOURS)
    expired = ExportJob.objects.filter(status=ExportJob.Status.READY, finished_at__lte=cutoff)
    deleted = 0
    for job in expired.order_by("pk")[:500]:
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file="")
        deleted += 1
    return deleted
