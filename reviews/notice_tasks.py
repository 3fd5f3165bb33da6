"""Celery tasks of the approval notices (issue 6); thin: ids in, the work in reviews.notices.

Registered through reviews/tasks.py (Celery's autodiscovery imports that module).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings

logger = logging.getLogger(__name__)


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
    from . import notices

    try:
        return notices.notice_render(outbox_id)
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
    from .notices import sweep_outbox

    return sweep_outbox()


@worker_init.connect
def _check_harfbuzz_subset(**kwargs) -> None:
    """A worker without HarfBuzz's subsetter refuses to start (NOTICE_REQUIRE_HARFBUZZ_SUBSET)."""
    from .notices import check_harfbuzz_subset

    check_harfbuzz_subset()
