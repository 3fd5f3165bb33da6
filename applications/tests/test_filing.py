"""Filing through the real pages: draft, autosave, evidence, check, declare, submit, withdraw."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Application, Evidence, Notification
from applications.workflow import State
from hengyang_cbec.audit.models import AuditEvent

from .factories import draft, pdf_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_member(client, member, password):
    client.login(username=member.username, password=password)
    return client


def start(client, code="M05", year=2026, **extra) -> Application:
    response = client.post(
        reverse("applications:application_start", args=[code]), {"year": year, **extra}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Application.objects.latest("pk")


def autosave(client, application, **values):
    return client.post(
        reverse("applications:autosave", args=[application.pk]),
        {k: str(v) for k, v in values.items()},
        HTTP_ACCEPT="application/json",
    )


def upload_all(client, application):
    for code in application.measure.evidence_types:
        response = client.post(
            reverse("applications:evidence_upload", args=[application.pk]),
            {"document_type": code, "file": pdf_upload(f"{code}.pdf")},
        )
        assert response.status_code == 302


def submit(client, application, signer="王芳", **extra):
    application.refresh_from_db()
    return client.post(
        reverse("applications:application_check", args=[application.pk]),
        {"declared": "on", "signer_name": signer, "version": application.version, **extra},
    )


def test_the_dashboard_lists_admitted_measures_checked_against_the_profile(client_member):
    html = client_member.get(reverse("applications:dashboard")).content.decode()
    assert 'data-measure="M05" data-eligible="true"' in html
    assert 'data-measure="M01"' not in html  # parks only


def test_a_draft_is_started_and_a_second_one_points_to_the_first(client_member):
    first = start(client_member)
    assert first.state == State.DRAFT
    response = client_member.post(
        reverse("applications:application_start", args=["M05"]), {"year": 2026}
    )
    assert response.url == reverse("applications:application_detail", args=[first.pk])
    assert Application.objects.count() == 1


def test_autosave_keeps_what_was_typed_even_when_not_yet_valid(client_member):
    application = start(client_member)
    response = autosave(client_member, application, cbec_export_volume_usd="60万")
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.draft_facts["cbec_export_volume_usd"] == "60万"
    assert application.draft_saved_at is not None
    html = client_member.get(reverse("applications:application_edit", args=[application.pk]))
    assert 'value="60万"' in html.content.decode()


def test_the_live_estimate_follows_the_figures(client_member):
    application = start(client_member)
    response = autosave(
        client_member, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    assert 'data-estimate="100000.00"' in response.json()["estimate_html"]


def test_evidence_is_stored_under_a_generated_name_with_its_hash(
    client_member, django_capture_on_commit_callbacks, eager_tasks
):
    application = start(client_member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_member.post(
            reverse("applications:evidence_upload", args=[application.pk]),
            {"document_type": "business_licence", "file": pdf_upload("../../营业执照.pdf")},
        )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.original_name == "营业执照.pdf"
    assert "营业执照" not in evidence.file.name and ".." not in evidence.file.name
    assert len(evidence.sha256) == 64 and evidence.kind == "pdf"
    assert evidence.scan_state == Evidence.ScanState.CLEAN  # scanned in-process after commit


def test_a_fake_pdf_is_refused_with_a_clear_message(client_member):
    application = start(client_member)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_member.post(
        reverse("applications:evidence_upload", args=[application.pk]),
        {
            "document_type": "business_licence",
            "file": SimpleUploadedFile("x.pdf", b"<html><script>alert(1)</script></html>"),
        },
        follow=True,
    )
    assert Evidence.objects.count() == 0
    assert "alert-danger" in response.content.decode()


def test_submit_freezes_the_figures_assigns_a_reference_and_sends_a_receipt(
    client_member, django_capture_on_commit_callbacks
):
    application = start(client_member)
    autosave(
        client_member, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    upload_all(client_member, application)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client_member, application)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert application.reference == f"HY-CBEC-{timezone.localdate().year}-000001"
    assert application.estimate_cny == Decimal("100000.00")
    assert application.declared_facts["cbec_export_volume_usd"] == "600000"
    assert application.declared_facts["entity_type"] == "enterprise"
    assert all(e.frozen for e in application.evidence.all())
    assert application.estimate["rules_version"]
    receipt = client_member.get(response.url).content.decode()
    assert application.reference in receipt
    assert len(mail.outbox) == 1 and application.reference in mail.outbox[0].subject
    assert Notification.objects.filter(application=application).count() == 1
    assert AuditEvent.objects.filter(
        application_id=application.pk, action="application.submit"
    ).exists()
    # Frozen: no more changes.
    assert autosave(client_member, application, cbec_export_volume_usd="1").status_code == 409


def test_submission_needs_every_required_document_and_the_declaration(client_member):
    application = start(client_member)
    autosave(
        client_member, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    response = submit(client_member, application)
    assert "缺少部分必需的证明材料" in response.content.decode()
    application.refresh_from_db()
    assert application.state == State.DRAFT
    upload_all(client_member, application)
    application.refresh_from_db()
    response = client_member.post(
        reverse("applications:application_check", args=[application.pk]),
        {"signer_name": "王芳", "version": application.version},
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.reference is None


def test_a_stale_page_cannot_submit_over_newer_changes(client_member):
    application = start(client_member)
    autosave(
        client_member, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    upload_all(client_member, application)
    application.refresh_from_db()
    stale = application.version
    autosave(
        client_member, application, cbec_export_volume_usd="1500000", had_cbec_exports_before="no"
    )
    response = client_member.post(
        reverse("applications:application_check", args=[application.pk]),
        {"declared": "on", "signer_name": "王芳", "version": stale},
    )
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.state == State.DRAFT


def test_mass_assignment_of_state_enterprise_or_amounts_changes_nothing(
    client_member, other_enterprise
):
    application = start(client_member)
    hostile = {
        "cbec_export_volume_usd": "600000",
        "had_cbec_exports_before": "no",
        "state": "approved",
        "enterprise": other_enterprise.pk,
        "enterprise_id": other_enterprise.pk,
        "approved_amount_cny": "9999999",
        "estimate_cny": "9999999",
        "reference": "HY-CBEC-2026-999999",
        "year": "2025",
    }
    autosave(client_member, application, **hostile)
    upload_all(client_member, application)
    submit(client_member, application, **hostile)
    application.refresh_from_db()
    assert application.enterprise_id != other_enterprise.pk
    assert application.state == State.SUBMITTED
    assert application.approved_amount_cny is None
    assert application.estimate_cny == Decimal("100000.00")
    assert application.year == 2026
    assert application.reference != "HY-CBEC-2026-999999"
    assert set(application.draft_facts) <= {
        "year",
        "cbec_export_volume_usd",
        "had_cbec_exports_before",
    }


def test_withdraw_before_a_decision(client_member):
    application = start(client_member)
    autosave(
        client_member, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    upload_all(client_member, application)
    submit(client_member, application)
    client_member.post(reverse("applications:withdraw", args=[application.pk]), {"reason": "错报"})
    application.refresh_from_db()
    assert application.state == State.WITHDRAWN
    # A withdrawn application no longer blocks a new one.
    assert start(client_member).pk != application.pk


def test_a_returned_application_opens_only_the_named_fields_and_documents(client_member, member):
    application = start(client_member, code="M06")
    autosave(
        client_member,
        application,
        promotion_expenses_cny="100000",
        new_store="on",
        settlement_fee_cny="20000",
    )
    upload_all(client_member, application)
    submit(client_member, application)
    # What a commerce reviewer's return leaves behind.
    Application.objects.filter(pk=application.pk).update(
        state=State.RETURNED,
        return_fields=["settlement_fee_cny"],
        return_documents=["settlement_fee_invoices"],
        return_message="结算费发票金额与申报不符，请核对。",
        return_deadline=timezone.localdate() + timedelta(days=10),
    )
    autosave(
        client_member, application, promotion_expenses_cny="999999", settlement_fee_cny="10000"
    )
    application.refresh_from_db()
    assert application.draft_facts["promotion_expenses_cny"] == "100000"
    assert application.draft_facts["settlement_fee_cny"] == "10000"
    page = client_member.get(reverse("applications:application_edit", args=[application.pk]))
    html = page.content.decode()
    assert "结算费发票金额与申报不符" in html
    assert html.count('type="file"') == 1  # only the reopened document type takes files
    response = submit(client_member, application)
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED
    assert application.resubmission_count == 1
    assert application.estimate_cny == Decimal("55000.00")  # 50% × 100,000 + 50% × 10,000


def test_a_return_whose_deadline_passed_lapses(member, enterprise):
    application = draft(enterprise, member)
    Application.objects.filter(pk=application.pk).update(
        state=State.RETURNED, reference="HY-CBEC-2026-000042", return_deadline=date(2026, 1, 5)
    )
    assert services.lapse_overdue_returns(today=date(2026, 1, 5)) == 0
    assert services.lapse_overdue_returns(today=date(2026, 1, 6)) == 1
    application.refresh_from_db()
    assert application.state == State.LAPSED


def test_quarantined_evidence_blocks_submission_and_is_never_downloadable(client_member):
    application = start(client_member)
    upload_all(client_member, application)
    evidence = application.evidence.first()
    Evidence.objects.filter(pk=evidence.pk).update(scan_state=Evidence.ScanState.INFECTED)
    url = reverse("applications:evidence_download", args=[application.pk, evidence.pk])
    assert client_member.get(url).status_code == 404
    Evidence.objects.filter(pk=evidence.pk).update(scan_state=Evidence.ScanState.PENDING)
    assert client_member.get(url).status_code == 404
    Evidence.objects.filter(pk=evidence.pk).update(scan_state=Evidence.ScanState.CLEAN)
    response = client_member.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_prior_awards_carry_the_store_or_warehouse_of_scoped_measures(enterprise, member):
    warehouse = draft(enterprise, member, code="M10B")
    store = draft(enterprise, member, code="M09A")
    for application, key in ((warehouse, "WH-Hamburg-1"), (store, "衡阳店")):
        Application.objects.filter(pk=application.pk).update(
            state=State.APPROVED, scope_key=key, approved_amount_cny=Decimal("1000.00")
        )
    awards = {a.measure: a for a in services.prior_awards_for(enterprise.pk)}
    assert (awards["M10B"].warehouse_id, awards["M10B"].store_id) == ("WH-Hamburg-1", None)
    assert (awards["M09A"].store_id, awards["M09A"].warehouse_id) == ("衡阳店", None)
