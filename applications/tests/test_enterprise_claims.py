"""An enterprise administrator proves the right to represent the enterprise: registration with
the business licence and the authorisation letter, nothing submitted until the Bureau of
Commerce verifies, a second claim on a registered code is a dispute (never a join request)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from applications.enterprises import claim_resubmit, enterprise_register
from applications.models import Enterprise, EnterpriseClaim, EnterpriseDocument, Membership
from applications.services import ApplicationError, application_submit
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.services.enterprises import claim_return, claim_verify
from tests.factories import make_user

from .factories import (
    EnterpriseFactory,
    claim_documents,
    enterprise_data,
    make_uscc,
    member_of,
    pdf_upload,
    register,
)
from .test_filing import autosave, start, submit, upload_all

pytestmark = pytest.mark.django_db

WAITING = "企业正在等待商务局核验营业执照和授权委托书"


@pytest.fixture
def newcomer(catalogue):
    return make_user(Role.APPLICANT, username="newcomer", full_name="赵新")


@pytest.fixture
def commerce(db):
    return make_user(Role.COMMERCE_REVIEWER, username="verifier", full_name="张伟")


def ready_to_submit(client, user, password):
    """`user` (administrator of a pending enterprise) prepares a complete M05 application."""
    client.login(username=user.username, password=password)
    application = start(client)
    autosave(client, application, cbec_export_volume_usd="600000", had_cbec_exports_before="no")
    upload_all(client, application)
    application.evidence.update(scan_state="clean")
    return application


def test_registration_creates_a_pending_enterprise_its_claim_and_both_documents(
    newcomer, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = register(newcomer, clean=False)
    enterprise = claim.enterprise
    assert enterprise.verification == Enterprise.Verification.PENDING
    assert claim.kind == EnterpriseClaim.Kind.REGISTRATION
    assert claim.status == EnterpriseClaim.Status.PENDING
    kinds = sorted(claim.documents.values_list("kind", flat=True))
    assert kinds == ["authorisation", "licence"]
    # Through the upload pipeline: generated names, hashes, the virus scan.
    for document in claim.documents.all():
        assert document.file.name.startswith("enterprise-documents/")
        assert document.original_name in {"营业执照.pdf", "授权委托书.pdf"}
        assert len(document.sha256) == 64
        assert document.scan_state == "clean"  # scanned after commit (in-process)
    membership = Membership.objects.get(user=newcomer)
    assert membership.role == Membership.Role.ADMINISTRATOR
    event = AuditEvent.objects.get(action="enterprise.claim")
    assert event.actor == newcomer and len(event.data["documents"]) == 2


def test_a_registration_without_the_authorisation_letter_is_refused(newcomer):
    with pytest.raises(ApplicationError, match=r"授权委托书|Authorisation"):
        enterprise_register(
            user=newcomer,
            uscc=make_uscc(),
            data=enterprise_data(),
            documents={"licence": pdf_upload("营业执照.pdf")},
        )
    assert not Enterprise.objects.exists()


def test_a_fake_document_is_refused_by_the_upload_checks(newcomer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("营业执照.pdf", b"<html><script>alert(1)</script></html>")
    with pytest.raises(ApplicationError, match="营业执照"):
        enterprise_register(
            user=newcomer,
            uscc=make_uscc(),
            data=enterprise_data(),
            documents=claim_documents(licence=fake),
        )
    assert not EnterpriseDocument.objects.exists()


def test_nothing_is_submitted_until_the_bureau_verifies_the_enterprise(
    client, newcomer, commerce, password
):
    claim = register(newcomer)
    application = ready_to_submit(client, newcomer, password)
    # The page says why, in Chinese, and the submit button is off.
    check = client.get(reverse("applications:application_check", args=[application.pk]))
    assert WAITING in check.content.decode()
    # The service refuses as well, whatever the page did.
    application.refresh_from_db()
    with pytest.raises(ApplicationError, match=WAITING):
        application_submit(
            user=newcomer,
            application=application,
            signer_name="赵新",
            declared=True,
            version=application.version,
        )
    response = submit(client, application, signer="赵新")
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.state == State.DRAFT and application.reference is None

    claim_verify(user=commerce, claim=claim)
    response = submit(client, application, signer="赵新")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == State.SUBMITTED


def test_the_dashboard_says_in_chinese_why_and_what_to_do(client, newcomer, password):
    register(newcomer)
    client.login(username="newcomer", password=password)
    page = client.get(reverse("applications:dashboard")).content.decode()
    assert WAITING in page
    assert "等待商务局核验" in page
    assert reverse("applications:verification") in page
    verification = client.get(reverse("applications:verification")).content.decode()
    assert "营业执照.pdf" in verification and "授权委托书.pdf" in verification


def test_a_returned_claim_is_answered_with_new_documents(client, newcomer, commerce, password):
    claim = register(newcomer)
    claim_return(user=commerce, claim=claim, reason="授权委托书未加盖公章。")
    client.login(username="newcomer", password=password)
    page = client.get(reverse("applications:verification")).content.decode()
    assert "授权委托书未加盖公章。" in page
    dashboard = client.get(reverse("applications:dashboard")).content.decode()
    assert "商务局退回了企业核验材料" in dashboard
    response = client.post(reverse("applications:verification"), claim_documents())
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.PENDING
    assert claim.enterprise.verification == Enterprise.Verification.PENDING
    assert claim.documents.filter(superseded_at__isnull=False).count() == 2  # kept
    assert claim.documents.filter(superseded_at__isnull=True).count() == 2
    assert AuditEvent.objects.filter(action="enterprise.resubmit", actor=newcomer).exists()
    with pytest.raises(ApplicationError):
        claim_resubmit(user=newcomer, claim=claim, documents=claim_documents())


def test_a_second_claim_on_a_verified_code_is_a_dispute_not_a_join_request(
    client, newcomer, password
):
    existing = EnterpriseFactory(name="衡阳湘南跨境贸易有限公司")
    admin = member_of(existing, "boss")
    client.login(username="newcomer", password=password)
    form = {
        "name": "冒用名称",
        "uscc": existing.uscc,
        "entity_type": "enterprise",
        "district": existing.district_id,
        "registered_address": "衡阳市",
        "legal_representative": "赵国强",
        "contact_name": "赵新",
        "contact_phone": "13912345678",
        "bank_name": "中国银行",
        "bank_account": "0012345678901234567",
        "statement": "本人系法定代表人授权的管理员，现管理员已离职。",
        **claim_documents(),
    }
    response = client.post(reverse("applications:enterprise_create"), form, follow=True)
    page = response.content.decode()
    assert "该统一社会信用代码已由他人注册" in page
    claim = EnterpriseClaim.objects.get(claimant=newcomer)
    assert claim.kind == EnterpriseClaim.Kind.DISPUTE
    assert claim.enterprise == existing and claim.status == EnterpriseClaim.Status.PENDING
    # No join request, nothing for the current administrator to wave through, no profile change.
    assert not Membership.objects.filter(user=newcomer).exists()
    existing.refresh_from_db()
    assert existing.name == "衡阳湘南跨境贸易有限公司"
    assert existing.verification == Enterprise.Verification.VERIFIED
    assert Membership.objects.get(user=admin).role == Membership.Role.ADMINISTRATOR
    assert AuditEvent.objects.filter(action="enterprise.dispute", actor=newcomer).exists()
    # The disputer's own page shows the dispute and where it stands.
    dashboard = client.get(reverse("applications:dashboard")).content.decode()
    assert "等待商务局处理" in dashboard


def test_one_open_claim_at_a_time(newcomer):
    register(newcomer)
    other = make_user(Role.APPLICANT, username="second")
    register(other, uscc=make_uscc(5))
    with pytest.raises(ApplicationError):
        register(other, uscc=make_uscc(6))


def test_the_claimant_downloads_their_own_clean_documents_audited_nobody_else(
    client, newcomer, password
):
    claim = register(newcomer)
    document = claim.documents.get(kind="licence")
    url = reverse("applications:enterprise_document", args=[document.pk])
    client.login(username="newcomer", password=password)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="enterprise.document_download").count() == 1
    client.logout()
    make_user(Role.APPLICANT, username="nosy")
    client.login(username="nosy", password=password)
    assert client.get(url).status_code == 404


def test_existing_enterprises_are_verified_by_the_migration(catalogue):
    """The data migration marks every enterprise that existed before as verified."""
    from importlib import import_module

    from django.apps import apps

    enterprise = EnterpriseFactory(pending=True)
    migration = import_module("applications.migrations.0006_enterprise_verification")
    migration.verify_existing(apps, None)
    enterprise.refresh_from_db()
    assert enterprise.verification == Enterprise.Verification.VERIFIED
