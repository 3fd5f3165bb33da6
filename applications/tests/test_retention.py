"""SECURITY.md 36: personal data is purged per the documented rule; audit rows are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from applications.models import Application, Evidence
from applications.tasks import purge_expired_personal_data
from applications.workflow import State
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record, verify_chain
from tests.factories import make_user

from .factories import draft, member_of, pdf_bytes

pytestmark = pytest.mark.django_db

DAYS = 3 * 365


@pytest.fixture(autouse=True)
def _periods(settings):
    settings.RETENTION_CLOSED_APPLICATION_DAYS = DAYS
    settings.RETENTION_DORMANT_ACCOUNT_DAYS = DAYS


def _closed(enterprise, member, state: State) -> Application:
    application = draft(enterprise, member, cbec_export_volume_usd="600000")
    application.state = state
    application.reference = f"HY-2026-{application.pk:05d}"
    application.signer_name = "王芳"
    application.save()
    Evidence.objects.create(
        application=application,
        document_type="business_licence",
        file=default_storage.save("evidence/2026/01/x.pdf", _file()),
        original_name="营业执照.pdf",
        kind="pdf",
        content_type="application/pdf",
        size=len(pdf_bytes()),
        sha256="0" * 64,
        uploaded_by=member,
    )
    return application


def _file():
    from django.core.files.base import ContentFile

    return ContentFile(pdf_bytes())


def test_nothing_is_purged_before_the_period_ends(enterprise, member, eager_tasks):
    rejected = _closed(enterprise, member, State.REJECTED)
    with time_machine.travel(timezone.now() + timedelta(days=DAYS - 1)):
        assert purge_expired_personal_data.apply().get() == {
            "applications": 0,
            "evidence_files": 0,
            "accounts": 0,
        }
    rejected.refresh_from_db()
    assert rejected.signer_name == "王芳" and rejected.evidence.count() == 1
    assert not AuditEvent.objects.filter(action="retention.purge").exists()


def test_closed_applications_lose_their_personal_data_after_the_period(
    enterprise, member, eager_tasks, django_capture_on_commit_callbacks
):
    rejected = _closed(enterprise, member, State.REJECTED)
    withdrawn = _closed(enterprise, member, State.WITHDRAWN)
    approved = _closed(enterprise, member, State.APPROVED)
    stored = rejected.evidence.get().file.name
    with (
        time_machine.travel(timezone.now() + timedelta(days=DAYS + 1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        counts = purge_expired_personal_data.apply().get()
    assert counts["applications"] == 2 and counts["evidence_files"] == 2
    for application in (rejected, withdrawn):
        application.refresh_from_db()
        assert application.signer_name == "" and application.draft_facts == {}
        assert application.evidence.count() == 0
        assert application.personal_data_purged_at is not None
        assert application.reference  # the record of the decision stays
    assert not default_storage.exists(stored)
    approved.refresh_from_db()  # kept under the archives rule
    assert approved.signer_name == "王芳" and approved.evidence.count() == 1
    event = AuditEvent.objects.get(action="retention.purge")
    assert event.data["applications"] == 2 and event.data["evidence_files"] == 2
    assert event.data["closed_application_days"] == DAYS


def test_dormant_applicant_accounts_are_anonymised_but_staff_and_busy_ones_are_kept(
    enterprise, member, other_enterprise, eager_tasks
):
    dormant = member_of(other_enterprise, "dormant")
    dormant.email, dormant.phone, dormant.full_name = "d@example.cn", "13800000000", "李四"
    dormant.save()
    staff = make_user(Role.FINANCE_REVIEWER, username="finance-old")
    under_way = draft(enterprise, member)
    Application.objects.filter(pk=under_way.pk).update(state=State.COMMERCE_REVIEW)
    with time_machine.travel(timezone.now() + timedelta(days=DAYS + 1)):
        counts = purge_expired_personal_data.apply().get()
    assert counts["accounts"] == 1
    dormant.refresh_from_db()
    assert dormant.username == f"~purged~{dormant.pk}"
    assert (dormant.email, dormant.phone, dormant.full_name) == ("", "", "")
    assert not dormant.is_active and not dormant.has_usable_password()
    assert User.objects.get(pk=staff.pk).username == "finance-old"
    assert User.objects.get(pk=member.pk).username == member.username


def test_audit_records_are_never_purged_and_the_chain_still_verifies(
    enterprise, member, eager_tasks
):
    record(action="login", actor=member)
    _closed(enterprise, member, State.WITHDRAWN)
    before = AuditEvent.objects.count()
    with time_machine.travel(timezone.now() + timedelta(days=10 * 365)):
        purge_expired_personal_data.apply().get()
    assert AuditEvent.objects.filter(action="login", actor=member).exists()
    assert AuditEvent.objects.count() > before  # the purge adds its own events, removes none
    assert verify_chain().ok


def test_the_dry_run_lists_what_would_go_and_changes_nothing(enterprise, member, capsys):
    rejected = _closed(enterprise, member, State.REJECTED)
    with time_machine.travel(timezone.now() + timedelta(days=DAYS + 1)):
        call_command("purge_personal_data", "--dry-run")
    out = capsys.readouterr().out
    assert "would purge: 1 closed applications (1 evidence files)" in out
    assert f"applications: {rejected.pk}" in out
    rejected.refresh_from_db()
    assert rejected.signer_name == "王芳" and rejected.evidence.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="retention.").exists()


def test_the_purge_runs_daily_from_beat():
    from hengyang_cbec.celery import app

    entry = app.conf.beat_schedule["purge-expired-personal-data"]
    assert entry["task"] == "applications.tasks.purge_expired_personal_data"
    assert entry["schedule"] == 24 * 60 * 60
