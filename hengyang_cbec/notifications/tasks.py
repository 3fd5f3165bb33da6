"""E-mail of notifications, sent by a worker with retries and backoff (in-process when embedded)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError

from .services import EmailNotSent, email_failed, send_email, sweep_emails


def backoff_seconds(retries: int) -> int:
    """30 s, 60 s, 120 s … at most 10 minutes between attempts."""
    return min(30 * 2**retries, 600)


@shared_task(bind=True, max_retries=None, soft_time_limit=60, time_limit=90)
def send_notification_email(self, notification_id: int) -> str:
    """Send one notification's e-mail; retry on a mail server or database error.

    In-process (no broker, the embedded profile) it tries once: a request never waits for
    retries. A database error is retried without touching the database again; the message is
    acknowledged only once the retry is scheduled, and the sweep covers a retry that was lost.
    """
    attempts = settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS
    try:
        return send_email(notification_id)
    except EmailNotSent as exc:
        if self.request.is_eager or self.request.retries + 1 >= attempts:
            email_failed(notification_id, str(exc))
            return "failed"
        raise self.retry(countdown=backoff_seconds(self.request.retries), exc=exc) from exc
    except DatabaseError as exc:
        if self.request.is_eager:
            raise
        raise self.retry(countdown=backoff_seconds(self.request.retries), exc=exc) from exc


@shared_task(soft_time_limit=120, time_limit=180)
def sweep_notification_emails() -> int:
    """Periodic (beat): send the e-mails the broker never took, and lost ones."""
    return sweep_emails()
