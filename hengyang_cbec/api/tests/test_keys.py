"""Keys: only a security administrator creates and revokes them; the secret is shown once and
stored as a hash; every call with a key is an audit event naming the key; each key is
rate-limited on its own (429)."""

from __future__ import annotations

import copy

import pytest

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api import keys
from hengyang_cbec.api.models import ApiKey, Scope
from hengyang_cbec.audit.models import AuditEvent
from reviews.tests.factories import make_staff

from .conftest import key_of

pytestmark = pytest.mark.django_db


def _once(client, path: str) -> str:
    """The one-time value the form carries (read as the browser would, from the page)."""
    html = client.get(path).content.decode()
    return html.split('name="once" value="')[1].split('"')[0]


def test_the_security_administrator_creates_a_key_shown_once_and_stored_hashed(
    client, security_admin
):
    client.force_login(security_admin)
    form = {
        "name": "省政务服务平台",
        "scopes": [Scope.READ_STATUSES],
        "days": "30",
        "once": _once(client, "/staff/security/api-keys/"),
    }
    response = client.post("/staff/security/api-keys/", form)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    key = ApiKey.objects.get()
    secret = next(word for word in html.split(">") if word.startswith("hyk_")).split("<")[0]
    assert secret.startswith(f"hyk_{key.prefix}_")
    assert "复制" in html or "Copy it now" in html
    # Stored as its SHA-256 only; never in the audit log; not on the page again.
    assert key.key_hash != secret and secret not in str(ApiKey.objects.values().get())
    assert not AuditEvent.objects.filter(data__icontains=secret.split("_", 2)[2]).exists()
    assert secret not in client.get("/staff/security/api-keys/").content.decode()
    # Sent again (a reload of the answer): no second key, and the secret is not shown again.
    again = client.post("/staff/security/api-keys/", form, follow=True)
    assert ApiKey.objects.count() == 1
    assert secret not in again.content.decode()
    event = AuditEvent.objects.get(action="api.key_create")
    assert event.actor == security_admin
    assert event.data["scopes"] == [Scope.READ_STATUSES]
    assert event.object_id == str(key.pk)


@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMINISTRATOR, Role.DISBURSEMENT_OFFICER, Role.AUDITOR, Role.APPLICANT]
)
def test_nobody_else_may_open_the_key_page_or_create_a_key(client, role, security_admin):
    user = make_staff(role)
    client.force_login(user)
    assert client.get("/staff/security/api-keys/").status_code == 403
    assert (
        client.post(
            "/staff/security/api-keys/", {"name": "x", "scopes": ["read_statuses"], "days": "1"}
        ).status_code
        == 403
    )
    with pytest.raises(keys.ApiKeyError):
        keys.key_create(user=user, name="x", scopes=["read_statuses"], days=1)
    assert not ApiKey.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get("/staff/security/api-keys/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("scopes", "days"), [([], 30), (["everything"], 30), (["read_statuses"], 0), ([], 400)]
)
def test_a_key_needs_known_scopes_and_a_bounded_life(security_admin, scopes, days):
    with pytest.raises(keys.ApiKeyError):
        keys.key_create(user=security_admin, name="银行", scopes=scopes, days=days)


def test_a_revoked_key_is_refused_at_once_and_the_revocation_is_audited(
    client, make_key, security_admin, catalogue
):
    secret = make_key(Scope.READ_STATUSES)
    assert (
        client.get("/api/v1/applications?uscc=" + "1" * 18, HTTP_X_API_KEY=secret).status_code
        == 200
    )
    client.force_login(security_admin)
    key = key_of(secret)
    response = client.post(f"/staff/security/api-keys/{key.pk}/revoke/", {"reason": "密钥泄露"})
    assert response.status_code == 302
    client.logout()
    response = client.get("/api/v1/applications?uscc=" + "1" * 18, HTTP_X_API_KEY=secret)
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"
    event = AuditEvent.objects.get(action="api.key_revoke")
    assert event.data == {"key": key.prefix, "reason": "密钥泄露"}


def test_every_call_with_a_key_is_audited_with_the_keys_id(client, make_key, catalogue):
    right = make_key(Scope.READ_STATUSES)
    wrong = make_key(Scope.EXCHANGE_PAYMENTS, name="工商银行衡阳分行")
    expired = make_key(Scope.READ_STATUSES, state="expired")
    before = AuditEvent.objects.filter(action="api.call").count()
    for secret in (right, wrong, expired, "hyk_00000000_unknown"):
        client.get("/api/v1/applications/HY-CBEC-2026-000001", HTTP_X_API_KEY=secret)
    client.get("/api/v1/applications/HY-CBEC-2026-000001")  # no key: nothing to name
    events = list(AuditEvent.objects.filter(action="api.call").order_by("id")[before:])
    assert [(e.object_id, e.result, e.data["refusal"]) for e in events] == [
        (str(key_of(right).pk), "ok", ""),
        (str(key_of(wrong).pk), "refused", "scope"),
        (str(key_of(expired).pk), "refused", "expired"),
        ("", "refused", "unknown"),
    ]
    first = events[0]
    assert first.object_type == "api.apikey"
    assert first.data["path"] == "/api/v1/applications/HY-CBEC-2026-000001"
    assert first.data["scope"] == "read_statuses"
    assert first.data["system"] == "省政务服务平台"
    assert first.ip == "127.0.0.1"
    assert key_of(right).last_used_at is not None
    for event in events:
        assert right not in str(event.data) and "unknown" not in event.data["key"]


def test_each_key_has_its_own_rate_limit(client, make_key, settings, catalogue):
    limits = copy.deepcopy(settings.RATE_LIMITS)
    limits["api_key"] = {"address": "", "account": "2/m"}
    settings.RATE_LIMITS = limits
    first = make_key(Scope.READ_STATUSES)
    second = make_key(Scope.READ_STATUSES, name="市政务数据局")
    path = "/api/v1/applications?uscc=" + "1" * 18
    statuses = [client.get(path, HTTP_X_API_KEY=first).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get(path, HTTP_X_API_KEY=second).status_code == 200
    refused = AuditEvent.objects.filter(action="api.call", data__refusal="rate").get()
    assert refused.object_id == str(key_of(first).pk)
    response = client.get(path, HTTP_X_API_KEY=first)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert response.json()["detail_en"] == "Too many requests: wait a minute and try again."


def test_an_applicant_creates_a_token_that_reads_only_their_enterprise(client, catalogue):
    from applications.models import Membership
    from reviews.tests.factories import make_application, make_enterprise, make_member

    ours, theirs = (
        make_enterprise("衡阳湘江跨境电商有限公司"),
        make_enterprise("衡阳耒水贸易有限公司"),
    )
    member = make_member(ours)
    mine = make_application(enterprise=ours, submitter=member)
    make_application(enterprise=theirs)
    client.force_login(member)
    response = client.post(
        "/my/api-tokens/", {"days": "30", "once": _once(client, "/my/api-tokens/")}
    )
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = html.split('id="new-token"')[1].split(">")[1].split("<")[0]
    token = key_of(secret)
    assert token.owner == member and token.scopes == [Scope.READ_OWN_APPLICATIONS]
    assert AuditEvent.objects.filter(action="api.token_create", actor=member).exists()
    client.logout()
    listed = client.get("/api/v1/my/applications", HTTP_X_API_KEY=secret).json()
    assert [a["reference"] for a in listed] == [mine.reference]
    # It reads nothing else, and stops when its holder leaves the enterprise.
    other = client.get("/api/v1/applications?uscc=" + theirs.uscc, HTTP_X_API_KEY=secret)
    assert other.status_code == 403
    Membership.objects.filter(user=member).update(status=Membership.Status.DECLINED)
    gone = client.get("/api/v1/my/applications", HTTP_X_API_KEY=secret)
    assert gone.status_code == 401
    assert gone.json()["code"] == "holder_inactive"


def test_a_token_form_sent_twice_creates_one_token_and_says_so_in_chinese(client):
    from reviews.tests.factories import make_enterprise, make_member

    member = make_member(make_enterprise())
    client.force_login(member)
    form = {"days": "30", "once": _once(client, "/my/api-tokens/")}
    client.post("/my/api-tokens/", form)
    again = client.post("/my/api-tokens/", form, follow=True)
    assert ApiKey.objects.filter(owner=member).count() == 1
    assert "该表单已提交过，没有再次创建令牌。" in again.content.decode()


def test_the_security_administrator_cannot_issue_an_applicants_scope(security_admin):
    with pytest.raises(keys.ApiKeyError):
        keys.key_create(
            user=security_admin, name="x", scopes=[Scope.READ_OWN_APPLICATIONS], days=30
        )


def test_an_applicant_revokes_their_own_token_only(client, catalogue, make_key):
    from reviews.tests.factories import make_enterprise, make_member

    someone_elses = key_of(make_key(Scope.READ_OWN_APPLICATIONS))
    member = make_member(make_enterprise())
    token, secret = keys.token_create(user=member, days=7)
    client.force_login(member)
    assert client.post(f"/my/api-tokens/{someone_elses.pk}/revoke/").status_code == 404
    assert client.post(f"/my/api-tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.filter(action="api.token_revoke", actor=member).exists()
    assert client.get("/api/v1/my/applications", HTTP_X_API_KEY=secret).status_code == 401


def test_guessing_keys_from_one_address_is_stopped_without_flooding_the_audit_log(
    client, settings, catalogue
):
    limits = copy.deepcopy(settings.RATE_LIMITS)
    limits["api_key"] = {"address": "3/m", "account": "120/m"}
    settings.RATE_LIMITS = limits
    statuses = [
        client.get(
            "/api/v1/applications/HY-CBEC-2026-000001", HTTP_X_API_KEY=f"hyk_{n:08x}_guess"
        ).status_code
        for n in range(6)
    ]
    assert statuses == [401, 401, 401, 429, 429, 429]
    assert AuditEvent.objects.filter(action="api.call", data__refusal="unknown").count() == 3
