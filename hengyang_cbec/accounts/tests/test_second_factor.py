"""Staff give a TOTP code after their password, on both login paths (SECURITY.md row 4)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from hengyang_cbec.accounts import second_factor
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.real_second_factor]


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reviewer():
    user = make_user(Role.COMMERCE_REVIEWER, username="rev")
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user, device


def password_step(client, username, next_url=""):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def previous_code(device) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time -= device.step
    return str(totp.token()).zfill(6)


def test_a_reviewer_with_the_right_password_has_no_session_until_the_code(client, reviewer):
    user, device = reviewer
    response = password_step(client, user.username)
    assert response.status_code == 302 and response.url == "/accounts/code/"
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/").status_code == 302  # still anonymous: back to the login page
    response = client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.filter(action="login", actor=user).count() == 1


def test_a_code_used_once_is_refused_the_second_time(client, reviewer):
    user, device = reviewer
    code = second_factor.current_code(device)
    password_step(client, user.username)
    assert client.post("/accounts/code/", {"code": code}).status_code == 302
    client.logout()
    password_step(client, user.username)
    response = client.post("/accounts/code/", {"code": code})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "已使用" in response.content.decode()
    assert AuditEvent.objects.filter(action="second_factor.failed", actor=user).count() == 1


def test_guessing_codes_is_slowed_then_answered_with_429(client, reviewer):
    user, device = reviewer
    password_step(client, user.username)
    wrong = client.post("/accounts/code/", {"code": "000000"})
    assert "验证码不正确或已使用" in wrong.content.decode()
    # Right after a wrong code the device makes the next try wait, even with the right code.
    right = client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    assert "错误验证码次数过多" in right.content.decode()
    assert "_auth_user_id" not in client.session
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    statuses = [client.post("/accounts/code/", {"code": "000000"}).status_code for _ in range(9)]
    assert statuses == [200] * 8 + [429]  # 10 tries per account in 5 minutes
    assert "请求过于频繁" in client.post("/accounts/code/", {"code": "1"}).content.decode()


def test_a_recovery_code_works_once_and_is_audited(client, reviewer):
    user, _device = reviewer
    codes = second_factor.new_recovery_codes(user)
    password_step(client, user.username)
    assert client.post("/accounts/code/", {"code": codes[0]}).status_code == 302
    client.logout()
    password_step(client, user.username)
    assert client.post("/accounts/code/", {"code": codes[0]}).status_code == 200
    assert StaticToken.objects.filter(device__user=user).count() == len(codes) - 1
    used = AuditEvent.objects.get(action="second_factor.recovery_code_used")
    assert used.actor == user and used.data["codes_left"] == len(codes) - 1
    assert codes[0] not in str(used.data)


def test_the_code_field_lets_a_phone_type_a_recovery_code(client, reviewer):
    """A number pad cannot type a recovery code's letters: the field asks for no numeric keypad."""
    user, _device = reviewer
    password_step(client, user.username)
    page = client.get("/accounts/code/").content.decode()
    field = next(line for line in page.splitlines() if 'name="code"' in line)
    assert 'autocomplete="one-time-code"' in field and "inputmode" not in field


def test_a_staff_member_without_a_device_enrols_with_a_qr_code_at_first_login(client):
    user = make_user(Role.FINANCE_REVIEWER, username="newfin")
    password_step(client, user.username)
    page = client.get("/accounts/code/").content.decode()
    assert 'src="data:image/svg+xml' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = second_factor.secret_base32(device)
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page
    response = client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    assert response.url == "/accounts/recovery-codes/"
    codes_page = client.get(response.url).content.decode()
    listed = codes_page.split('id="recovery-codes"', 1)[1].split("</ul>", 1)[0]
    assert listed.count("<li>") == 10
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(action="second_factor.enrol", actor=user).exists()
    assert AuditEvent.objects.filter(action="second_factor.recovery_codes_issued").exists()


def test_an_applicant_logs_in_with_a_password_alone_and_may_turn_the_factor_on(client):
    user = make_user(Role.APPLICANT, username="shop")
    response = password_step(client, user.username)
    assert response.status_code == 302 and response.url != "/accounts/code/"
    response = client.post("/accounts/two-factor/", {"action": "enable"})
    assert response.url == "/accounts/code/"
    assert "data:image/svg+xml" in client.get("/accounts/code/").content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    client.logout()
    response = password_step(client, user.username)
    assert response.url == "/accounts/code/"  # from now on the code is asked for


def test_the_admin_site_sends_visitors_to_the_portal_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    # Posting a password to the admin's login does not log anyone in either.
    admin = make_user(Role.SYSTEM_ADMINISTRATOR, username="sys", is_staff=True)
    client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_a_session_opened_without_the_code_reaches_no_staff_or_admin_page(client):
    admin = make_user(Role.SYSTEM_ADMINISTRATOR, username="sys2", is_staff=True)
    client.force_login(admin)  # a session that skipped the login page
    assert client.get("/admin/").url == "/accounts/code/"
    reviewer = make_user(Role.COMMERCE_REVIEWER, username="rev2")
    client.force_login(reviewer)
    assert client.get("/staff/").url == "/accounts/code/"


def test_the_lockout_counts_on_the_admin_path_too(client, reviewer):
    user, _device = reviewer
    for _ in range(5):
        client.post(
            "/accounts/login/?next=/admin/", {"username": user.username, "password": "wrong"}
        )
    response = password_step(client, user.username, next_url="/admin/")
    assert response.status_code == 200  # locked: the right password is refused
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302


def test_demo_seeds_print_the_current_code(settings):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    out = StringIO()
    call_command("demo_otp", "commerce", stdout=out)
    device = TOTPDevice.objects.get(user__username="commerce", name="demo")
    assert out.getvalue().split() == ["commerce", second_factor.current_code(device)]
    assert not TOTPDevice.objects.filter(user__username="enterprise").exists()


def test_a_fresh_install_has_no_default_or_shared_accounts():
    """Migrations create roles, never accounts or second-factor seeds (SECURITY.md row 6)."""
    from django.contrib.auth.models import Group

    from hengyang_cbec.accounts.models import User

    assert Group.objects.filter(name=Role.SECURITY_ADMINISTRATOR.value).exists()
    assert not User.objects.exists()
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        (Role.APPLICANT, "/my/"),
        (Role.COMMERCE_REVIEWER, "/staff/"),
        (Role.DISBURSEMENT_OFFICER, "/finance/disbursements/"),
        (Role.SECURITY_ADMINISTRATOR, "/staff/security/"),
        (Role.SYSTEM_ADMINISTRATOR, "/admin/"),
    ],
)
def test_after_login_people_land_on_their_own_workspace(client, role, landing):
    user = make_user(
        role, username=f"land_{role.value}", is_staff=role == Role.SYSTEM_ADMINISTRATOR
    )
    response = password_step(client, user.username)
    if response.url == "/accounts/code/":
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        response = client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    assert response.url == "/accounts/start/"
    assert client.get(response.url).url == landing
    assert client.get(landing).status_code == 200


def test_the_session_key_changes_at_login_and_an_old_cookie_is_dead_after_logout(client, reviewer):
    from django.conf import settings as django_settings

    user, device = reviewer
    password_step(client, user.username)
    before = client.session.session_key
    client.post("/accounts/code/", {"code": second_factor.current_code(device)})
    after = client.session.session_key
    assert before and after and before != after  # no session fixation across the two steps
    assert client.get("/staff/").status_code == 200
    client.post("/accounts/logout/")
    client.cookies[django_settings.SESSION_COOKIE_NAME] = after  # replay the old cookie
    response = client.get("/staff/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
