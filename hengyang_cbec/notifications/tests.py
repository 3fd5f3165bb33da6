"""Notifications: texts from translated templates, e-mail by a task with retries, nothing lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.db import OperationalError
from django.utils import timezone

from applications.tests.factories import EnterpriseFactory, draft, member_of
from hengyang_cbec.notifications import services, tasks
from hengyang_cbec.notifications.models import Notification

# E-mail runs in-process here, also when REDIS_URL names a real broker: these tests read what
# the task did. The worker's retries are driven through the task's request below.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_tasks")]

State = Notification.EmailState


def as_worker(retries: int) -> dict:
    """The request a worker gives the task on its (retries + 1)th delivery."""
    return {"id": f"job-{retries}", "retries": retries, "is_eager": False, "called_directly": False}


@pytest.fixture
def application(catalogue):
    enterprise = EnterpriseFactory()
    owner = member_of(enterprise, "owner")
    owner.preferred_language = "en"
    owner.save()
    colleague = member_of(enterprise, "colleague", admin=False)
    colleague.email = ""
    colleague.save()
    application = draft(enterprise, owner)
    application.reference = "HY-CBEC-2026-000042"
    application.save()
    return application


def test_the_message_is_rendered_from_its_template_in_both_languages(application):
    rows = services.notify(application, "application_submitted")
    assert {row.message_zh for row in rows} == {"申报 HY-CBEC-2026-000042 已提交，等待商务局审核。"}
    assert {row.message_en for row in rows} == {
        "Application HY-CBEC-2026-000042 was submitted and waits for the Bureau of Commerce's "
        "review."
    }
    by_user = {row.user.username: row.email_state for row in rows}
    assert by_user == {"owner": State.PENDING, "colleague": State.NONE}


def test_the_email_goes_out_after_commit_in_the_members_language(
    application, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.notify(application, "application_withdrawn")
    assert mail.outbox == []  # nothing inside the transaction
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Your subsidy application HY-CBEC-2026-000042"
    assert "Application HY-CBEC-2026-000042 was withdrawn." in mail.outbox[0].body
    sent = Notification.objects.get(user__username="owner")
    assert sent.email_state == State.SENT
    assert sent.email_attempts == 1
    assert sent.emailed_at is not None


def test_a_mail_server_outage_never_undoes_the_notification_in_process(
    application, django_capture_on_commit_callbacks, monkeypatch
):
    def refused(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr(services, "send_mail", refused)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(application, "application_lapsed")
    row = Notification.objects.get(user__username="owner")
    assert row.email_state == State.FAILED  # in-process: one attempt, the request never waits
    assert "SMTP server down" in row.email_error
    assert "lapsed" in row.message_en


def test_the_worker_retries_a_refused_email_with_growing_backoff(
    application, monkeypatch, settings
):
    row = services.notify(application, "application_submitted")[0]
    scheduled = []
    monkeypatch.setattr(
        tasks.send_notification_email,
        "apply_async",
        lambda *args, **kwargs: scheduled.append(kwargs.get("countdown")),
    )

    def refused(*args, **kwargs):
        raise TimeoutError("SMTP timed out")

    monkeypatch.setattr(services, "send_mail", refused)
    for retries in range(settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS - 1):
        tasks.send_notification_email.push_request(**as_worker(retries))
        try:
            with pytest.raises(Retry):
                tasks.send_notification_email.run(row.pk)
        finally:
            tasks.send_notification_email.pop_request()
    assert scheduled == [30, 60, 120, 240]
    tasks.send_notification_email.push_request(
        **as_worker(settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS - 1)
    )
    try:
        assert tasks.send_notification_email.run(row.pk) == "failed"
    finally:
        tasks.send_notification_email.pop_request()
    row.refresh_from_db()
    assert row.email_state == State.FAILED
    assert row.email_attempts == settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS


def test_a_database_error_is_retried_without_touching_the_database(
    application, monkeypatch, django_assert_num_queries
):
    row = services.notify(application, "application_submitted")[0]
    scheduled = []
    monkeypatch.setattr(
        tasks.send_notification_email,
        "apply_async",
        lambda *args, **kwargs: scheduled.append(kwargs.get("countdown")),
    )

    def database_down(notification_id):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tasks, "send_email", database_down)
    tasks.send_notification_email.push_request(**as_worker(2))
    try:
        with django_assert_num_queries(0), pytest.raises(Retry):
            tasks.send_notification_email.run(row.pk)
    finally:
        tasks.send_notification_email.pop_request()
    assert scheduled == [120]
    row.refresh_from_db()
    assert row.email_state == State.PENDING  # still owed: nothing was acknowledged as done


def test_emails_the_broker_did_not_take_are_sent_by_the_sweep(
    application, django_capture_on_commit_callbacks, monkeypatch
):
    from hengyang_cbec import queueing

    def broker_down(task, *args, **options):
        return False

    monkeypatch.setattr(services, "publish", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(application, "application_submitted")
    assert mail.outbox == []
    row = Notification.objects.get(user__username="owner")
    assert row.email_state == State.PENDING
    assert services.sweep_emails() == 0  # within the grace period: its own publish may be late
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert services.sweep_emails() == 0  # the broker is still down: nothing sent, nothing lost
    monkeypatch.setattr(services, "publish", queueing.publish)
    assert services.sweep_emails() == 1
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.email_state == State.SENT
    assert services.sweep_emails() == 0


def test_the_sweep_gives_up_after_the_last_attempt(application, settings):
    row = services.notify(application, "application_submitted")[0]
    Notification.objects.filter(pk=row.pk).update(
        email_attempts=settings.NOTIFICATION_EMAIL_MAX_ATTEMPTS,
        created_at=timezone.now() - timedelta(days=1),
    )
    assert services.sweep_emails() == 0
    row.refresh_from_db()
    assert row.email_state == State.FAILED
    assert mail.outbox == []
