"""The Bureau of Commerce verifies enterprises and resolves disputes over their administrator:
four eyes, reasons, audit events, the enterprise told, the queue in constant queries."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Enterprise, EnterpriseClaim, Membership
from applications.tests.factories import member_of, register
from applications.workflow import TransitionRefused
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.notifications.models import Notification
from reviews.services.enterprises import (
    claim_reject,
    claim_return,
    claim_verify,
    dispute_decide,
)
from reviews.services.steps import FourEyesViolation, ReviewError
from tests.factories import make_user

from .factories import make_enterprise, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def commerce(catalogue):
    return make_staff(Role.COMMERCE_REVIEWER, "verifier", full_name="张伟")


@pytest.fixture
def claimant(catalogue):
    return make_user(Role.APPLICANT, username="claimant", full_name="赵新", email="zx@example.test")


@pytest.fixture
def claim(claimant):
    return register(claimant)


def test_verifying_makes_the_enterprise_verified_audited_and_tells_it(
    commerce, claim, claimant, django_capture_on_commit_callbacks, eager_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim_verify(user=commerce, claim=claim, ip="10.0.0.7")
    claim.refresh_from_db()
    enterprise = claim.enterprise
    enterprise.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.VERIFIED and claim.decided_by == commerce
    assert enterprise.verification == Enterprise.Verification.VERIFIED
    assert enterprise.verified_by == commerce and enterprise.verified_at is not None
    event = AuditEvent.objects.get(action="enterprise.verify")
    assert event.actor == commerce and event.ip == "10.0.0.7"
    assert event.data["enterprise"] == enterprise.pk
    note = Notification.objects.get(user=claimant)
    assert "商务局已核验通过" in note.message_zh and "verified" in note.message_en
    assert [m.to for m in mail.outbox] == [["zx@example.test"]]


def test_only_commerce_reviewers_decide(claim):
    for role in (Role.FINANCE_REVIEWER, Role.AUDITOR, Role.SECURITY_ADMINISTRATOR):
        with pytest.raises(TransitionRefused):
            claim_verify(user=make_staff(role), claim=claim)
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.PENDING


def test_a_verifier_who_belongs_to_the_enterprise_may_not_verify_it(commerce, claim):
    Membership.objects.create(user=commerce, enterprise=claim.enterprise)  # a join request
    with pytest.raises(FourEyesViolation):
        claim_verify(user=commerce, claim=claim)
    assert claim.enterprise.verification == Enterprise.Verification.PENDING
    assert not AuditEvent.objects.filter(action="enterprise.verify").exists()


def test_documents_must_be_clean_before_verifying(commerce, claimant):
    claim = register(claimant, clean=False)
    with pytest.raises(ReviewError):
        claim_verify(user=commerce, claim=claim)
    claim.documents.filter(kind="licence").update(scan_state="clean")
    claim.documents.filter(kind="authorisation").update(scan_state="infected")
    with pytest.raises(ReviewError):
        claim_verify(user=commerce, claim=claim)


def test_return_and_reject_need_a_reason_the_enterprise_reads(commerce, claim, claimant):
    for decide in (claim_return, claim_reject):
        with pytest.raises(ReviewError):
            decide(user=commerce, claim=claim, reason="  ")
    claim_return(user=commerce, claim=claim, reason="营业执照已过期。")
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.RETURNED
    assert claim.enterprise.verification == Enterprise.Verification.RETURNED
    event = AuditEvent.objects.get(action="enterprise.return")
    assert event.data["reason"] == "营业执照已过期。"
    assert "营业执照已过期。" in Notification.objects.get(user=claimant).message_zh
    # Decided once: a second decision on a returned claim is refused.
    with pytest.raises(ReviewError):
        claim_verify(user=commerce, claim=claim)


def test_a_rejected_registration_frees_the_code_for_the_real_enterprise(commerce, claim, claimant):
    claim_reject(user=commerce, claim=claim, reason="授权委托书非法定代表人签字。")
    enterprise = Enterprise.objects.get(pk=claim.enterprise_id)
    assert enterprise.verification == Enterprise.Verification.REJECTED
    assert Membership.objects.get(user=claimant).status == Membership.Status.DECLINED
    assert AuditEvent.objects.get(action="enterprise.reject").data["memberships_ended"] == 1
    real = make_user(Role.APPLICANT, username="real")
    again = register(real, uscc=enterprise.uscc)
    assert again.kind == EnterpriseClaim.Kind.REGISTRATION
    assert again.enterprise_id == enterprise.pk
    enterprise.refresh_from_db()
    assert enterprise.verification == Enterprise.Verification.PENDING


def test_a_dispute_kept_changes_nothing_but_tells_both_sides(commerce, catalogue):
    enterprise = make_enterprise()
    admin = member_of(enterprise, "boss")
    disputer = make_user(Role.APPLICANT, username="disputer")
    claim = register(disputer, uscc=enterprise.uscc)
    assert claim.kind == EnterpriseClaim.Kind.DISPUTE
    with pytest.raises(ReviewError):  # a dispute is not "verified", it is kept or transferred
        claim_verify(user=commerce, claim=claim)
    dispute_decide(user=commerce, claim=claim, transfer=False, reason="授权委托书签字不符。")
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.KEPT
    assert Membership.objects.get(user=admin).status == Membership.Status.ACTIVE
    assert not Membership.objects.filter(user=disputer).exists()
    assert Notification.objects.filter(user=admin).count() == 1
    assert "维持现企业管理员" in Notification.objects.get(user=disputer).message_zh
    assert AuditEvent.objects.get(action="enterprise.dispute_keep").actor == commerce


def test_a_dispute_transferred_makes_the_claimant_administrator(commerce, catalogue):
    enterprise = make_enterprise()
    squatter = member_of(enterprise, "squatter")
    disputer = make_user(Role.APPLICANT, username="disputer", full_name="赵新")
    claim = register(disputer, uscc=enterprise.uscc)
    member_of_disputed = make_staff(Role.COMMERCE_REVIEWER, "insider")
    Membership.objects.create(user=member_of_disputed, enterprise=enterprise)
    with pytest.raises(FourEyesViolation):
        dispute_decide(user=member_of_disputed, claim=claim, transfer=True, reason="x")
    dispute_decide(user=commerce, claim=claim, transfer=True, reason="法定代表人当面确认。")
    assert Membership.objects.get(user=squatter).status == Membership.Status.DECLINED
    new = Membership.objects.get(user=disputer)
    assert new.role == Membership.Role.ADMINISTRATOR and new.status == Membership.Status.ACTIVE
    enterprise.refresh_from_db()
    assert enterprise.verification == Enterprise.Verification.VERIFIED
    assert enterprise.verified_by == commerce
    event = AuditEvent.objects.get(action="enterprise.dispute_transfer")
    assert event.data["previous_administrators"] == [squatter.pk]
    assert "企业管理员变更为赵新" in Notification.objects.get(user=squatter).message_zh
    assert Notification.objects.filter(user=disputer).exists()


def test_the_verification_queue_page_keeps_a_constant_number_of_queries(client, commerce):
    def claims(n):
        for _ in range(n):
            register(make_user(Role.APPLICANT))

    client.force_login(commerce)
    url = reverse("reviews:verification_queue")
    claims(2)
    client.get(url)  # warm the session and the caches
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert response.status_code == 200
    claims(6)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    page = response.content.decode()
    assert page.count("data-claim=") == 8
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_the_queue_and_the_claim_page_show_what_the_verifier_needs(client, commerce, claim):
    client.force_login(commerce)
    queue = client.get(reverse("reviews:verification_queue")).content.decode()
    assert claim.enterprise.name in queue and claim.enterprise.uscc in queue
    assert "已检查 2 / 2 份" in queue  # the page speaks Chinese
    page = client.get(reverse("reviews:verification_detail", args=[claim.pk])).content.decode()
    assert "营业执照.pdf" in page and "授权委托书.pdf" in page
    assert "赵国强" in page  # the legal representative who must have signed
    assert "授权委托书须写明被授权人赵新，并由法定代表人赵国强签字。" in page
    document = claim.documents.get(kind="licence")
    response = client.get(reverse("reviews:verification_document", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert AuditEvent.objects.get(action="enterprise.document_download").actor == commerce


def test_deciding_through_the_page(client, commerce, claim):
    client.force_login(commerce)
    url = reverse("reviews:verification_detail", args=[claim.pk])
    refused = client.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 200 and "请填写理由，企业将看到。" in refused.content.decode()
    response = client.post(url, {"decision": "verify", "reason": ""})
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.VERIFIED


@pytest.mark.parametrize(
    "role",
    [
        Role.FINANCE_REVIEWER,
        Role.AUDITOR,
        Role.SYSTEM_ADMINISTRATOR,
        Role.SECURITY_ADMINISTRATOR,
        Role.AUDIT_ADMINISTRATOR,
        Role.APPLICANT,
    ],
)
def test_nobody_but_commerce_may_decide_through_the_page(client, claim, role):
    client.force_login(make_staff(role))
    url = reverse("reviews:verification_detail", args=[claim.pk])
    assert client.post(url, {"decision": "verify"}).status_code == 403
    claim.refresh_from_db()
    assert claim.status == EnterpriseClaim.Status.PENDING


def test_the_bureau_keeps_its_own_evidence_with_a_dispute_decision(client, commerce, catalogue):
    from applications.tests.factories import pdf_upload

    enterprise = make_enterprise()
    member_of(enterprise, "boss")
    disputer = make_user(Role.APPLICANT, username="disputer")
    claim = register(disputer, uscc=enterprise.uscc)
    client.force_login(commerce)
    url = reverse("reviews:verification_detail", args=[claim.pk])
    page = client.get(url).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="evidence"' in page
    response = client.post(
        url,
        {
            "decision": "keep",
            "reason": "经电话向法定代表人核实。",
            "evidence": pdf_upload("通话记录.pdf"),
        },
    )
    assert response.status_code == 302
    document = claim.documents.get(kind="other")
    assert document.uploaded_by == commerce and document.original_name == "通话记录.pdf"
    event = AuditEvent.objects.get(action="enterprise.dispute_keep")
    assert event.data["evidence"]["sha256"] == document.sha256
    # The bureau's evidence is the bureau's: the claimant cannot download it.
    document.scan_state = "clean"
    document.save()
    client.force_login(disputer)
    url = reverse("applications:enterprise_document", args=[document.pk])
    assert client.get(url).status_code == 404


def test_a_dispute_page_shows_both_sides_documents(client, commerce, claim, claimant):
    claim_verify(user=commerce, claim=claim)
    disputer = make_user(Role.APPLICANT, username="disputer")
    dispute = register(disputer, uscc=claim.enterprise.uscc)
    checker = make_staff(Role.COMMERCE_REVIEWER, "checker")
    client.force_login(checker)
    page = client.get(reverse("reviews:verification_detail", args=[dispute.pk])).content.decode()
    earlier = page[page.index(f'data-earlier-claim="{claim.pk}"') :]
    for document in claim.documents.all():
        assert reverse("reviews:verification_document", args=[document.pk]) in earlier
    assert "已核验通过" in earlier  # the earlier registration, by its status
