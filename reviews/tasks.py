"""Background work of the bureau's side. Tasks take ids only, are idempotent and time-limited.

Task names are part of the deployment (beat schedule, queued messages): the approval notice's
tasks keep the names they were first registered under.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings
from django.db import DatabaseError

logger = logging.getLogger(__name__)


# --- Public notice --------------------------------------------------------------------------------


@shared_task(soft_time_limit=240, time_limit=300)
def close_public_notices() -> int:
    """Periodic (beat): close every public notice whose period is over and no objection holds."""
    from .services.publicity import close_due_notices

    return close_due_notices()


# --- Objection files ------------------------------------------------------------------------------


@shared_task(
    bind=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def scan_objection_file(self, objection_id: int) -> str:
    """Scan an objection's file like evidence; an unreachable scanner leaves it pending."""
    from applications.scanning import scan_stored_file

    from .models import Objection

    return scan_stored_file(Objection.objects, objection_id)


@shared_task(soft_time_limit=300, time_limit=360)
def rescan_pending_objection_files() -> int:
    """Periodic: objection files left pending (scanner or broker down) are scanned again."""
    from .models import Objection
    from .models.publicity import ScanState

    ids = list(
        Objection.objects.filter(scan_state=ScanState.PENDING)
        .exclude(file="")
        .values_list("pk", flat=True)
    )
    for objection_id in ids:
        scan_objection_file.delay(objection_id)
    return len(ids)


# --- Approval notices -----------------------------------------------------------------------------


@shared_task(
    bind=True,
    name="reviews.notice_tasks.render_notice",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.NOTICE_SOFT_TIME_LIMIT,
    time_limit=settings.NOTICE_TIME_LIMIT,
    max_retries=None,  # attempts are counted on the outbox row (NOTICE_MAX_ATTEMPTS)
    ignore_result=True,
)
def render_notice(self, outbox_id: int) -> str:
    """Render the PDFs of one notice job; idempotent, retried with backoff, time-limited."""
    from .services import notices

    try:
        return notices.notice_render(outbox_id)
    except DatabaseError as exc:
        # The database is away: nothing can be recorded now, so nothing is looked up either.
        # The job is retried with backoff (the message is acknowledged once its retry is
        # queued); if even that fails, its outbox row is still pending and the sweep resends it.
        if self.request.is_eager:
            raise
        logger.warning("notice job %s: database unavailable, retrying: %s", outbox_id, exc)
        raise self.retry(
            countdown=notices.backoff_seconds(self.request.retries + 1),
            queue=settings.NOTICE_QUEUE,
            max_retries=None,
            exc=exc,
        ) from exc
    except SoftTimeLimitExceeded:
        # Too long a render fails the same way every time: stop, and let staff see it.
        logger.error("notice job %s hit its time limit", outbox_id)
        notices.notice_render_failed(
            outbox_id, f"time limit of {settings.NOTICE_SOFT_TIME_LIMIT} s exceeded", final=True
        )
        return "failed"
    except Exception as exc:
        logger.exception("notice job %s failed", outbox_id)
        error = f"{type(exc).__name__}: {exc}"
        # In-process (embedded) mode runs after the request's commit: do not loop there.
        final = bool(self.request.is_eager) or not notices.attempts_left(outbox_id)
        attempts = notices.notice_render_failed(outbox_id, error, final=final)
        if final:
            return "failed"
    raise self.retry(
        countdown=notices.backoff_seconds(attempts), queue=settings.NOTICE_QUEUE, max_retries=None
    )


@shared_task(name="reviews.notice_tasks.sweep_notice_outbox", soft_time_limit=50, time_limit=60)
def sweep_notice_outbox() -> int:
    """Periodic (beat): send again the render jobs the broker never took, and stale ones."""
    from .services.notices import sweep_outbox

    return sweep_outbox()


@shared_task(soft_time_limit=600, time_limit=660)
def sweep_notice_files() -> int:
    """Periodic (beat): delete notice PDFs no notice refers to (left by a killed render)."""
    from .services.notices import sweep_orphan_files

    return sweep_orphan_files()


@shared_task(soft_time_limit=50, time_limit=60)
def sweep_export_jobs() -> int:
    """Periodic (beat): send again the export jobs the broker never took."""
    from .services.export_jobs import sweep_export_jobs as sweep

    return sweep()


@worker_init.connect
def _check_harfbuzz_subset(**kwargs) -> None:
    """A worker without HarfBuzz's subsetter refuses to start (NOTICE_REQUIRE_HARFBUZZ_SUBSET)."""
    from .pdf import check_harfbuzz_subset

    check_harfbuzz_subset()


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

    from .models import ExportJob
    from .services.export_jobs import export_job_run

    try:
        return export_job_run(job_id)
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, error=str(exc)[:300], finished_at=timezone.now()
        )
        raise


# --- The auditor's dossier ------------------------------------------------------------------------


@shared_task(
    bind=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=settings.DOSSIER_SOFT_TIME_LIMIT,
    time_limit=settings.DOSSIER_SOFT_TIME_LIMIT + 60,
)
def build_dossier(self, job_id: int) -> str:
    """Build a dossier's ZIP with progress; a failure is recorded on the job."""
    from .services.dossier import dossier_build, dossier_failed

    try:
        return dossier_build(job_id)
    except Exception as exc:
        logger.exception("dossier %s failed", job_id)
        dossier_failed(job_id, f"{type(exc).__name__}: {exc}")
        raise


@shared_task(soft_time_limit=300, time_limit=360)
def sweep_dossiers() -> str:
    """Periodic (beat): delete expired dossiers, send again the ones the broker never took."""
    from .services.dossier import expire_dossiers, sweep_pending

    return f"{expire_dossiers()} expired, {sweep_pending()} sent again"


# --- Entitlements from official statistics (免申即享) ---------------------------------------


@shared_task(soft_time_limit=540, time_limit=600)
def match_entitlements(keys: list[list] | None = None) -> dict:
    """Run the engine on the imported statistics: all pairs, or the (credit code, year) pairs an
    approved import touched. Idempotent: a second run changes nothing."""
    from .services.entitlements import match

    pairs = None if keys is None else [(str(uscc), int(year)) for uscc, year in keys]
    return match(pairs).as_dict()
