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
