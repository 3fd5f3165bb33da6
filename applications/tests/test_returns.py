"""Answering a return: in a reopened slot a submitted file can be replaced or removed; it stays in
the record (row, file and audit), and the reviewer sees what changed since the return."""

from __future__ import annotations

import pytest

from applications import services
from applications.models import Evidence
from applications.services import ApplicationError
from applications.tests.factories import pdf_upload
from applications.workflow import State
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record
from reviews.tests.factories import add_evidence, make_application, make_enterprise, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def returned(catalogue):
    enterprise = make_enterprise()
    user = make_member(enterprise, "filer")
    application = make_application(
        enterprise=enterprise,
        submitter=user,
        facts={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
    )
    files = {}
    for index, code in enumerate(application.measure.evidence_types):
        evidence = add_evidence(application, sha256=f"{index:02d}" * 32)
        Evidence.objects.filter(pk=evidence.pk).update(document_type=code)
        files[code] = Evidence.objects.get(pk=evidence.pk)
    reopened = application.measure.evidence_types[-1]
    # As a submission freezes it (the form's "no" becomes False).
    application.declared_facts["had_cbec_exports_before"] = False
    application.state = State.RETURNED
    application.return_fields = ["cbec_export_volume_usd"]
    application.return_documents = [reopened]
    application.save()
    record(action="review.return", application_id=application.pk, public_message="请更换。")
    return application, user, files, reopened


def test_a_submitted_file_in_a_reopened_slot_is_replaced_and_the_old_one_kept(returned):
    application, user, files, reopened = returned
    old = files[reopened]
    new = services.evidence_replace(user=user, evidence=old, upload=pdf_upload("海关证明.pdf"))
    old.refresh_from_db()
    assert old.withdrawn_at is not None  # kept: the row is there, the file too
    assert old.file.storage.exists(old.file.name)
    assert new.document_type == reopened and new.withdrawn_at is None
    event = AuditEvent.objects.get(action="application.evidence_replace")
    assert event.data["sha256"] == old.sha256
    assert event.data["replaced_by"]["name"] == "海关证明.pdf"
    check = services.application_check(application)
    assert check.missing_documents == []


def test_removing_a_submitted_file_withdraws_it_and_the_slot_is_missing_again(returned):
    application, user, files, reopened = returned
    services.evidence_remove(user=user, evidence=files[reopened])
    assert Evidence.objects.filter(pk=files[reopened].pk, withdrawn_at__isnull=False).exists()
    assert services.application_check(application).missing_documents == [reopened]
    assert AuditEvent.objects.filter(action="application.evidence_withdraw").count() == 1


def test_a_file_outside_the_reopened_slots_can_be_neither_replaced_nor_removed(returned):
    _application, user, files, reopened = returned
    other = next(code for code in files if code != reopened)
    with pytest.raises(ApplicationError):
        services.evidence_remove(user=user, evidence=files[other])
    with pytest.raises(ApplicationError):
        services.evidence_replace(user=user, evidence=files[other], upload=pdf_upload())
    assert Evidence.objects.get(pk=files[other].pk).withdrawn_at is None


def test_the_resubmission_records_the_changed_figures_for_the_reviewer(returned):
    application, user, files, reopened = returned
    services.evidence_replace(user=user, evidence=files[reopened], upload=pdf_upload("新证明.pdf"))
    services.application_autosave(
        user=user, application=application, values={"cbec_export_volume_usd": "700000"}
    )
    application.refresh_from_db()
    services.application_submit(
        user=user,
        application=application,
        signer_name="王芳",
        declared=True,
        version=application.version,
    )
    changes = services.changes_since_return(application)
    assert changes["message"] == "请更换。"
    assert changes["facts"] == [
        {"name": "cbec_export_volume_usd", "before": "600000", "after": "700000"}
    ]
    assert [e.original_name for e in changes["documents"]] == ["新证明.pdf"]
