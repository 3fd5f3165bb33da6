"""Background work of the bureau's side. Tasks take ids only, are idempotent and time-limited."""

from __future__ import annotations

from celery import shared_task


@shared_task(soft_time_limit=240, time_limit=300)
def close_public_notices() -> int:
    """Periodic (beat): close every public notice whose period is over and no objection holds."""
    from .services import close_due_notices

    return close_due_notices()


# --- Approval notices (issue 6): defined in notice_tasks.py, registered by importing it here. ---

from .notice_tasks import render_notice, sweep_notice_outbox  # noqa: E402, F401

# --- Finance exports ------------------------------------------------------------------------------


@shared_task(
    bind=True,
    autoretry_for=(ConnectionError, TimeoutError, OSError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=600,
    time_limit=660,
)
def write_export(self, job_id: int) -> str:
    """Write a large export file for the bank, recording progress; a failure is recorded."""
    from django.utils import timezone

    from .finance import export_job_run
    from .models import ExportJob

    try:
        return export_job_run(job_id)
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise
