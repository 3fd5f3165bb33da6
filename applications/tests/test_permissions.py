"""Every applicant URL × every persona: others' objects answer 404, staff 403, anonymous login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hengyang_cbec.accounts.roles import Role
from tests.factories import make_user

from .factories import EnterpriseFactory, draft, member_of, pdf_upload

pytestmark = pytest.mark.django_db

STAFF_ROLES = [role for role in Role if role != Role.APPLICANT]

# (name, needs an application, needs evidence, method)
URLS = [
    ("applications:dashboard", False, False, "get"),
    ("applications:enterprise", False, False, "get"),
    ("applications:enterprise_create", False, False, "get"),
    ("applications:enterprise_join", False, False, "get"),
    ("applications:verification", False, False, "get"),
    ("applications:members", False, False, "get"),
    ("applications:notifications", False, False, "get"),
    ("applications:application_list", False, False, "get"),
    ("applications:application_start", "code", False, "get"),
    ("applications:application_detail", True, False, "get"),
    ("applications:application_edit", True, False, "get"),
    ("applications:application_check", True, False, "get"),
    ("applications:receipt", True, False, "get"),
    ("applications:autosave", True, False, "post"),
    ("applications:evidence_upload", True, False, "post"),
    ("applications:withdraw", True, False, "post"),
    ("applications:discard", True, False, "post"),
    ("applications:evidence_download", True, True, "get"),
    ("applications:evidence_delete", True, True, "post"),
]
OBJECT_URLS = [u for u in URLS if u[1] is True]


@pytest.fixture
def target(enterprise, member):
    from applications import services

    application = draft(
        enterprise, member, cbec_export_volume_usd="600000", had_cbec_exports_before="no"
    )
    evidence = services.evidence_add(
        user=member, application=application, document_type="business_licence", upload=pdf_upload()
    )
    evidence.scan_state = "clean"
    evidence.save(update_fields=["scan_state"])
    return application, evidence


def url_for(name, needs_application, needs_evidence, target):
    application, evidence = target
    if needs_application == "code":
        return reverse(name, args=["M05"])
    if needs_evidence:
        return reverse(name, args=[application.pk, evidence.pk])
    if needs_application:
        return reverse(name, args=[application.pk])
    return reverse(name)


def call(client, method, url):
    return client.post(url, {}) if method == "post" else client.get(url)


@pytest.mark.parametrize(("name", "needs_application", "needs_evidence", "method"), URLS)
def test_anonymous_users_are_sent_to_the_login_page(
    client, target, name, needs_application, needs_evidence, method
):
    response = call(client, method, url_for(name, needs_application, needs_evidence, target))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("role", STAFF_ROLES, ids=str)
@pytest.mark.parametrize(("name", "needs_application", "needs_evidence", "method"), URLS)
def test_staff_get_403_on_applicant_pages(
    client, target, password, role, name, needs_application, needs_evidence, method
):
    staff = make_user(role, username=f"staff-{role}")
    client.login(username=staff.username, password=password)
    response = call(client, method, url_for(name, needs_application, needs_evidence, target))
    assert response.status_code == 403


@pytest.mark.parametrize(("name", "needs_application", "needs_evidence", "method"), OBJECT_URLS)
def test_a_member_of_another_enterprise_gets_404(
    client, target, other_member, password, name, needs_application, needs_evidence, method
):
    client.login(username=other_member.username, password=password)
    response = call(client, method, url_for(name, needs_application, needs_evidence, target))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "needs_application", "needs_evidence", "method"), OBJECT_URLS)
def test_an_applicant_without_an_enterprise_gets_404(
    client, target, password, name, needs_application, needs_evidence, method
):
    loner = make_user(Role.APPLICANT, username="loner")
    client.login(username=loner.username, password=password)
    response = call(client, method, url_for(name, needs_application, needs_evidence, target))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "needs_application", "needs_evidence", "method"), URLS)
def test_the_owner_reaches_every_page(
    client, target, member, password, name, needs_application, needs_evidence, method
):
    client.login(username=member.username, password=password)
    response = call(client, method, url_for(name, needs_application, needs_evidence, target))
    assert response.status_code in {200, 302}
    # A redirect here is the page's own next step, never the login page.
    assert not response.get("Location", "").startswith(reverse("login"))


def test_another_enterprise_cannot_reach_the_file_through_its_own_application(
    client, target, password
):
    """Guessing evidence ids under an application the intruder does own finds nothing of others."""
    _application, evidence = target
    intruder_enterprise = EnterpriseFactory()
    intruder = member_of(intruder_enterprise, "intruder")
    own = draft(intruder_enterprise, intruder)
    client.login(username=intruder.username, password=password)
    for pk in range(1, evidence.pk + 3):
        url = reverse("applications:evidence_download", args=[own.pk, pk])
        assert client.get(url).status_code == 404
