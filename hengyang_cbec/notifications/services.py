"""Telling the applicant: one inbox row per member, rendered in both languages, e-mailed after.

`notify(application, "event", **context)` renders templates/notifications/<event>.txt once in
Chinese and once in English (the texts are translated like every other string) and writes one
row per active member of the application's enterprise, inside the caller's transaction. After
commit each row with an e-mail address is handed to the e-mail task; a row the broker did not
take stays `pending` and the sweep sends it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hengyang_cbec.queueing import publish

from .models import Notification

logger = logging.getLogger(__name__)

LANGUAGES = ("zh-hans", "en")


def render_message(event: str, context: dict) -> dict[str, str]:
    """The message of `event` in each language, as stored: {"zh-hans": ..., "en": ...}."""
    texts = {}
    for language in LANGUAGES:
        with translation.override(language):
            text = render_to_string(f"notifications/{event}.txt", context)
        texts[language] = " ".join(text.split())
    return texts


def notify(application, event: str, /, **context) -> list[Notification]:
    """Tell every active member of the application's enterprise, in the portal and by e-mail.

    Call inside the transaction that made the change: rows are written with it, e-mail after it.
    `event` names a template under templates/notifications/ that receives `application`,
    `reference` and `context`; each reader sees the text in their own language.
    """
    from applications.models import Membership

    texts = render_message(
        event, {"application": application, "reference": application.reference or "", **context}
    )
    message_zh, message_en = texts["zh-hans"], texts["en"]
    members = (
        Membership.objects.filter(
            enterprise_id=application.enterprise_id, status=Membership.Status.ACTIVE
        )
        .select_related("user")
        .order_by("pk")
    )
    return _write([member.user for member in members], application, message_zh, message_en)


def notify_enterprise(enterprise, event: str, /, *, also=(), **context) -> list[Notification]:
    """Tell the active members of `enterprise` (and the people in `also`, once each) about a
    decision on the enterprise itself, e.g. its verification; the same inbox and e-mail."""
    from applications.models import Membership

    texts = render_message(event, {"enterprise": enterprise, **context})
    users = [
        m.user
        for m in Membership.objects.filter(
            enterprise_id=enterprise.pk, status=Membership.Status.ACTIVE
        )
        .select_related("user")
        .order_by("pk")
    ]
    seen = {user.pk for user in users}
    users += [user for user in also if user.pk not in seen]
    return _write(users, None, texts["zh-hans"], texts["en"])


def _write(users, application, message_zh: str, message_en: str) -> list[Notification]:
    rows = Notification.objects.bulk_create(
        Notification(
            user=user,
            application=application,
            message_zh=message_zh,
            message_en=message_en,
            email_state=(
                Notification.EmailState.PENDING if user.email else Notification.EmailState.NONE
            ),
        )
        for user in users
    )
    ids = [row.pk for row in rows if row.email_state == Notification.EmailState.PENDING]
    if ids:
        transaction.on_commit(lambda: enqueue_emails(ids))
    return rows


def notify_enterprises(messages) -> list[Notification]:
    """Tell the active members of many enterprises at once (a matching run).

    `messages` are (enterprise id, event, context, key); messages with the same key are rendered
    once. Inside the caller's transaction; e-mail after commit."""
    from applications.models import Membership

    messages = list(messages)
    members: dict[int, list] = {}
    ids = sorted({enterprise_id for enterprise_id, *_rest in messages})
    for start in range(0, len(ids), 500):
        for member in (
            Membership.objects.filter(
                enterprise_id__in=ids[start : start + 500], status=Membership.Status.ACTIVE
            )
            .select_related("user")
            .order_by("pk")
        ):
            members.setdefault(member.enterprise_id, []).append(member)
    rendered: dict = {}
    pending = []
    for enterprise_id, event, context, key in messages:
        if key is None or key not in rendered:
            texts = render_message(event, context)
            if key is not None:
                rendered[key] = texts
        else:
            texts = rendered[key]
        pending.extend(
            Notification(
                user=member.user,
                message_zh=texts["zh-hans"],
                message_en=texts["en"],
                email_state=(
                    Notification.EmailState.PENDING
                    if member.user.email
                    else Notification.EmailState.NONE
                ),
            )
            for member in members.get(enterprise_id, [])
        )
    rows = Notification.objects.bulk_create(pending, batch_size=1000)
    ids = [row.pk for row in rows if row.email_state == Notification.EmailState.PENDING]
    if ids:
        transaction.on_commit(lambda: enqueue_emails(ids))
    return rows


def enqueue_emails(notification_ids) -> int:
    """Hand e-mails to the task; stop at the first the broker refuses (the sweep resends)."""
    from .tasks import send_notification_email

    sent = 0
    for notification_id in notification_ids:
        if not publish(send_notification_email, notification_id):
            break
        sent += 1
    return sent


class EmailNotSent(Exception):
    """The mail server did not take the message; the task tries again later."""


def send_email(notification_id: int) -> str:
    """Send the e-mail of one notification once; raise EmailNotSent for the task to retry."""
    notification = (
        Notification.objects.select_related("user", "application")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.email_state != Notification.EmailState.PENDING:
        return "nothing to do"
    user = notification.user
    if not user.email:
        Notification.objects.filter(pk=notification_id).update(
            email_state=Notification.EmailState.NONE
        )
        return "no address"
    reference = notification.application.reference if notification.application else ""
    language = user.preferred_language or "zh-hans"
    english = language.startswith("en")
    with translation.override(language):
        body = render_to_string(
            "emails/notification.txt",
            {
                "message": notification.message_en if english else notification.message_zh,
                "reference": reference,
            },
        )
        if reference or notification.application_id:
            subject = _("Your subsidy application %(reference)s") % {"reference": reference}
        else:
            subject = _("Your enterprise on the subsidy portal")
    Notification.objects.filter(pk=notification_id).update(email_attempts=F("email_attempts") + 1)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except OSError as exc:  # SMTP errors are OSErrors: refused, timed out, unreachable
        Notification.objects.filter(pk=notification_id).update(
            email_error=f"{type(exc).__name__}: {exc}"[:300]
        )
        raise EmailNotSent(str(exc)) from exc
    Notification.objects.filter(
        pk=notification_id, email_state=Notification.EmailState.PENDING
    ).update(email_state=Notification.EmailState.SENT, emailed_at=timezone.now(), email_error="")
    return "sent"


def email_failed(notification_id: int, error: str) -> None:
    """The last attempt failed: the message stays in the portal, the e-mail is marked failed."""
    Notification.objects.filter(
        pk=notification_id, email_state=Notification.EmailState.PENDING
    ).update(email_state=Notification.EmailState.FAILED, email_error=error[:300])
    logger.warning("gave up e-mailing notification %s: %s", notification_id, error[:200])


def sweep_emails() -> int:
    """Send again the e-mails the broker never took, and lost ones; returns how many were sent.

    A row never attempted NOTIFICATION_EMAIL_GRACE_SECONDS after it was written was not taken by
    the broker; one attempted but still pending after NOTIFICATION_EMAIL_STALE_SECONDS (longer
    than the task's whole backoff) lost its message. Rows whose attempts are used up fail.
    """
    now = timezone.now()
    due = Notification.objects.filter(email_state=Notification.EmailState.PENDING).filter(
        Q(
            email_attempts=0,
            created_at__lte=now - timedelta(seconds=settings.NOTIFICATION_EMAIL_GRACE_SECONDS),
        )
        | Q(created_at__lte=now - timedelta(seconds=settings.NOTIFICATION_EMAIL_STALE_SECONDS))
    )
    ids = []
    for notification_id, attempts in due.order_by("pk").values_list("pk", "email_attempts")[:500]:
        if attempts >= settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS:
            email_failed(notification_id, _("Gave up after %(n)d attempts.") % {"n": attempts})
        else:
            ids.append(notification_id)
    return enqueue_emails(ids)
