"""Sign-up with e-mail verification, the enterprise profile and joining an enterprise."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from applications.models import Enterprise, Membership
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.models import AuditEvent
from policies.models import Place

from .factories import EnterpriseFactory, claim_documents, make_uscc, member_of

pytestmark = pytest.mark.django_db

SIGN_UP = {
    "username": "newcomer",
    "full_name": "赵新",
    "email": "newcomer@example.test",
    "phone": "13912345678",
    "password1": "a-Long-passphrase-2026",
    "password2": "a-Long-passphrase-2026",
}


def profile(**overrides):
    data = {
        "name": "衡阳新星跨境电商有限公司",
        "uscc": make_uscc(7),
        "entity_type": "enterprise",
        "district": Place.objects.get(code="yanfeng").pk,
        "registered_address": "衡阳市雁峰区",
        "legal_representative": "赵大",
        "contact_name": "赵新",
        "contact_phone": "13912345678",
        "bank_name": "中国银行衡阳分行",
        "bank_account": "0012345678901234567",
        "customs_code": "4304960009",
        "registered_in_hengyang": "on",
        "pays_taxes": "on",
        "independent_legal_person": "on",
        "has_cbec_performance": "on",
        "in_customs_cbec_statistics": "on",
    }
    data.update(overrides)
    return data


def sign_up(client, data=None):
    """Post the sign-up form; its e-mail leaves when the transaction commits."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("applications:register"), data or SIGN_UP)


def verification_link() -> str:
    return re.search(r"https?://[^/]+(/register/verify/\S+)", mail.outbox[-1].body).group(1)


def test_sign_up_needs_a_confirmed_email_before_anything(client, catalogue):
    response = sign_up(client)
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert not user.is_active
    assert not client.login(username="newcomer", password=SIGN_UP["password1"])
    link = verification_link()
    response = client.get(link)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and has_role(user, Role.APPLICANT)
    # The link works once.
    client.logout()
    assert client.get(link).status_code == 400


def test_a_tampered_verification_link_is_refused(client, catalogue):
    sign_up(client)
    link = verification_link()
    assert client.get(link[:-3] + "xyz/").status_code == 400
    assert not User.objects.get(username="newcomer").is_active


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("phone", "call me"), ("password2", "different-Passphrase-1")],
)
def test_sign_up_nonsense_gets_a_clear_error_and_keeps_the_input(client, catalogue, field, value):
    response = client.post(reverse("applications:register"), {**SIGN_UP, field: value})
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert 'value="赵新"' in response.content.decode()
    assert not User.objects.filter(username="newcomer").exists()


def _verified(client) -> User:
    sign_up(client)
    client.get(verification_link())
    return User.objects.get(username="newcomer")


def test_the_first_user_registers_the_enterprise_and_administers_it(client, catalogue):
    user = _verified(client)
    response = client.post(
        reverse("applications:enterprise_create"), {**profile(), **claim_documents()}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    enterprise = Enterprise.objects.get()
    assert enterprise.bank_account == "0012345678901234567"  # leading zeros kept
    assert enterprise.verification == Enterprise.Verification.PENDING
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.ADMINISTRATOR
    assert membership.status == Membership.Status.ACTIVE


def test_registering_without_the_two_documents_is_refused_in_chinese(client, catalogue):
    _verified(client)
    response = client.post(reverse("applications:enterprise_create"), profile())
    page = response.content.decode()
    assert response.status_code == 200
    assert "营业执照" in page and "授权委托书" in page
    assert page.count("invalid-feedback") >= 2
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("uscc", "91430400MA4L1A2B3X"),
        ("uscc", "91430400ma4l1a2b3y"),
        ("bank_account", "12-34"),
        ("contact_phone", "abc"),
        ("district", "999999"),
        ("entity_type", "pirate"),
        ("name", ""),
    ],
)
def test_profile_nonsense_gets_a_clear_error(client, catalogue, field, value):
    _verified(client)
    response = client.post(
        reverse("applications:enterprise_create"),
        {**profile(**{field: value}), **claim_documents()},
    )
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()
    assert not Enterprise.objects.exists()


def test_a_colleague_joins_a_registered_enterprise_through_its_administrator(
    client, catalogue, password
):
    existing = EnterpriseFactory(uscc=profile()["uscc"])
    admin = member_of(existing, "boss")
    _verified(client)
    client.post(reverse("applications:enterprise_join"), {"uscc": existing.uscc})
    request = Membership.objects.get(user__username="newcomer")
    assert request.status == Membership.Status.PENDING
    client.logout()
    client.login(username=admin.username, password=password)
    client.post(reverse("applications:members"), {"membership": request.pk, "decision": "accept"})
    request.refresh_from_db()
    assert request.status == Membership.Status.ACTIVE


def test_changing_the_bank_account_asks_for_the_password_and_is_audited(
    client, member, enterprise, password
):
    client.login(username=member.username, password=password)
    form = profile(uscc=enterprise.uscc, name=enterprise.name, bank_account="6222000011112222333")
    response = client.post(reverse("applications:enterprise"), form)
    assert response.status_code == 200
    enterprise.refresh_from_db()
    assert enterprise.bank_account == "0123456789012345678"
    response = client.post(reverse("applications:enterprise"), {**form, "password": password})
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.bank_account == "6222000011112222333"
    event = AuditEvent.objects.get(action="enterprise.update")
    assert "bank_account" in event.data["changed"]
    assert "6222000011112222333" not in event.canonical()  # masked in the log


def test_a_filer_cannot_change_the_profile(client, enterprise, password):
    filer = member_of(enterprise, "filer", admin=False)
    client.login(username=filer.username, password=password)
    response = client.post(reverse("applications:enterprise"), profile(uscc=enterprise.uscc))
    assert response.status_code == 403


def _page_text(response) -> str:
    import re as _re

    return _re.sub(r"\s+", " ", response.content.decode())


def test_sign_up_gives_the_same_answer_whether_the_name_or_address_exists(client, catalogue):
    from hengyang_cbec.accounts.models import User as Account

    Account.objects.create_user("taken", email="owner@example.test", password="x")
    fresh = sign_up(client, {**SIGN_UP, "username": "fresh1", "email": "fresh1@example.test"})
    same_name = sign_up(client, {**SIGN_UP, "username": "TAKEN", "email": "other@example.test"})
    same_mail = sign_up(client, {**SIGN_UP, "username": "fresh2", "email": "Owner@example.test"})
    assert fresh.status_code == same_name.status_code == same_mail.status_code == 302
    assert fresh.url == same_name.url == same_mail.url == reverse("applications:register_done")
    pages = {
        _page_text(client.get(fresh.url)).replace(address, "ADDRESS")
        for address in ("fresh1@example.test",)
    }
    assert len(pages) == 1
    # Only the fresh sign-up created an account; the owners of the addresses were told by mail.
    assert not Account.objects.filter(username__in=["fresh2"]).exists()
    assert Account.objects.filter(username__iexact="taken").count() == 1
    to = [message.to[0] for message in mail.outbox]
    assert to == ["fresh1@example.test", "other@example.test", "Owner@example.test"]
    assert "/register/verify/" in mail.outbox[0].body
    assert "/register/verify/" not in mail.outbox[2].body
    assert "已有使用该地址的账号" in mail.outbox[2].body
    assert AuditEvent.objects.filter(action="account.register_refused").count() == 2


def test_the_check_your_email_page_shows_the_address_resends_and_says_where_mail_is(
    client, catalogue, settings
):
    sign_up(client)
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    page = client.get(reverse("applications:register_done"))
    text = _page_text(page)
    assert 'id="signup-email">newcomer@example.test<' in text
    assert "make mail TO=newcomer@example.test" in text
    from django.test import TestCase

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(reverse("applications:register_resend"))
    assert response.status_code == 302
    assert [m.to[0] for m in mail.outbox].count("newcomer@example.test") == 2
    assert "make mail" not in _page_text(client.get(reverse("applications:register_done")))
    # Resending is rate-limited: three per address per hour for one account.
    statuses = [client.post(reverse("applications:register_resend")).status_code for _ in range(3)]
    assert statuses == [302, 302, 429]


def test_the_newest_mail_is_one_command_away_in_the_embedded_setup(tmp_path, settings):
    from io import StringIO

    from django.core.mail import send_mail
    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path
    send_mail("first", "body one", None, ["a@example.test"])
    send_mail("确认您的电子邮箱", "链接 http://x/register/verify/abc/", None, ["b@example.test"])
    send_mail("third", "body three", None, ["c@example.test"])
    out = StringIO()
    call_command("latest_mail", "--to", "b@example.test", stdout=out)
    assert "确认您的电子邮箱" in out.getvalue() and "/register/verify/abc/" in out.getvalue()
    out = StringIO()
    call_command("latest_mail", stdout=out)
    assert "third" in out.getvalue()


def test_the_profile_page_never_shows_the_stored_account_and_empty_keeps_it(
    client, member, enterprise, password
):
    client.login(username=member.username, password=password)
    html = client.get(reverse("applications:enterprise")).content.decode()
    assert "0123456789012345678" not in html  # decrypted only for the export and the mask
    assert "•••• 5678" in html
    form = profile(uscc=enterprise.uscc, name=enterprise.name, bank_account="")
    form.update(contact_name="赵新二", contact_phone=enterprise.contact_phone)
    response = client.post(reverse("applications:enterprise"), form)
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert (enterprise.bank_account, enterprise.contact_name) == ("0123456789012345678", "赵新二")
