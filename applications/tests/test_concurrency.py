"""Two requests at the same instant never make two applications or two submissions."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from applications import services
from applications.models import Application, Evidence
from applications.workflow import State

from .factories import EnterpriseFactory, member_of, pdf_upload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def setup(catalogue):
    enterprise = EnterpriseFactory()
    return enterprise, member_of(enterprise, "member")


def test_concurrent_starts_of_the_same_measure_and_year_make_one_application(setup):
    enterprise, user = setup
    results = run_together(
        8,
        lambda i: services.application_start(
            user=user, enterprise=enterprise, measure_code="M05", year=2026
        ),
    )
    assert Application.objects.count() == 1
    created = [r for r in results if isinstance(r, Application)]
    duplicates = [r for r in results if isinstance(r, services.DuplicateApplication)]
    assert len(created) == 1 and len(duplicates) == 7
    assert all(d.existing.pk == created[0].pk for d in duplicates)


def test_concurrent_submits_of_one_draft_make_one_submission(setup):
    enterprise, user = setup
    application = services.application_start(
        user=user, enterprise=enterprise, measure_code="M05", year=2026
    )
    services.application_autosave(
        user=user,
        application=application,
        values={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
    )
    for code in application.measure.evidence_types:
        services.evidence_add(
            user=user, application=application, document_type=code, upload=pdf_upload()
        )
    Evidence.objects.update(scan_state="clean")
    application.refresh_from_db()
    version = application.version
    results = run_together(
        6,
        lambda i: services.application_submit(
            user=user, application=application, signer_name="王芳", declared=True, version=version
        ),
    )
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert sum(isinstance(r, Application) for r in results) == 1
    assert application.reference.endswith("-000001")
    from hengyang_cbec.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="application.submit").count() == 1
