"""The bureau's background work survives faults: database errors in the render job, export jobs
the broker did not take, PDFs left by a killed render."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from hengyang_cbec.accounts.roles import Role
from reviews.models import ExportJob, Notice, NoticeOutbox
from reviews.services import export_jobs, finance, notices
from reviews.tasks import render_notice

from .factories import make_staff
from .test_finance import approved_award
from .test_notices import approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def as_worker(retries: int) -> dict:
    return {"id": f"job-{retries}", "retries": retries, "is_eager": False, "called_directly": False}


def test_a_database_error_in_the_render_job_is_retried_without_touching_the_database(
    submitted, crew, capture, monkeypatch, django_assert_num_queries
):
    notice = approve(submitted, crew, capture, execute=False)
    outbox_id = notice.outbox.pk
    scheduled = []
    monkeypatch.setattr(
        render_notice, "apply_async", lambda *a, **kw: scheduled.append(kw.get("countdown"))
    )

    def database_down(outbox_id):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(notices, "notice_render", database_down)
    render_notice.push_request(**as_worker(1))
    try:
        with django_assert_num_queries(0), pytest.raises(Retry):
            render_notice.run(outbox_id)
    finally:
        render_notice.pop_request()
    assert scheduled == [notices.backoff_seconds(2)]
    outbox = NoticeOutbox.objects.get(pk=outbox_id)
    assert outbox.status == NoticeOutbox.Status.PENDING  # still owed, not failed or dropped
    assert outbox.notice.status != Notice.Status.FAILED


def test_notice_files_no_notice_refers_to_are_deleted_after_the_grace_period(
    submitted, crew, capture, settings
):
    notice = approve(submitted, crew, capture)
    kept = [notice.file_zh.name, notice.file_en.name]
    orphan = default_storage.save("notices/2026/orphan.pdf", ContentFile(b"%PDF-1.7 left"))
    young = default_storage.save("notices/2026/young.pdf", ContentFile(b"%PDF-1.7 rendering"))
    old = time.time() - settings.NOTICE_ORPHAN_GRACE_SECONDS - 60
    for name in (orphan, *kept):
        os.utime(default_storage.path(name), (old, old))
    assert notices.sweep_orphan_files() == 1
    assert not default_storage.exists(orphan)
    assert default_storage.exists(young)  # may belong to a render about to commit
    assert all(default_storage.exists(name) for name in kept)
    default_storage.delete(young)


def test_an_export_job_the_broker_did_not_take_is_sent_again_by_the_sweep(
    crew, capture, monkeypatch, settings, eager_tasks
):
    from hengyang_cbec import queueing

    maker = make_staff(Role.DISBURSEMENT_OFFICER)
    checker = make_staff(Role.DISBURSEMENT_OFFICER)
    award = approved_award(crew)
    batch = finance.batch_confirm(
        user=checker, batch=finance.batch_create(user=maker, award_ids=[award.pk])
    )
    monkeypatch.setattr(export_jobs, "publish", lambda task, *args, **kw: False)  # broker down
    with capture(execute=True):
        job = export_jobs.export_job_start(user=maker, batch=batch, file_format="xlsx")
    job.refresh_from_db()
    assert job.status == ExportJob.Status.PENDING  # the request did not fail
    assert export_jobs.sweep_export_jobs() == 0  # too young: its own publish may be late
    ExportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    )
    assert export_jobs.sweep_export_jobs() == 0  # still down: nothing sent, nothing lost
    monkeypatch.setattr(export_jobs, "publish", queueing.publish)
    assert export_jobs.sweep_export_jobs() == 1  # in-process here: the job runs
    job.refresh_from_db()
    assert job.status == ExportJob.Status.READY
    assert export_jobs.sweep_export_jobs() == 0
