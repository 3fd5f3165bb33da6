"""Five wrong passwords lock the account for a cool-off period (SECURITY.md rows 1–3)."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from hengyang_cbec.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_counters():
    cache.clear()
    yield
    cache.clear()


def attempt(client, username, password, ip="10.0.0.1"):
    response = client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    client.logout()
    return response


def error_of(response) -> str:
    return str(response.context["form"].non_field_errors())


def test_five_wrong_passwords_from_rotating_ips_lock_the_account(client, applicant, password):
    for n in range(5):
        assert attempt(client, applicant.username, "wrong", ip=f"10.0.0.{n}").status_code == 200
    locked = attempt(client, applicant.username, password, ip="10.9.9.9")
    assert locked.status_code == 200  # the right password no longer works
    unknown = attempt(client, "no-such-user", "whatever")
    assert error_of(locked) == error_of(unknown)  # the same answer as for an unknown user
    assert AuditEvent.objects.filter(action="account_locked").count() == 1
    assert AuditEvent.objects.filter(action="login_locked").count() == 1


def test_the_account_unlocks_after_the_cool_off(client, applicant, password, settings):
    settings.LOGIN_COOL_OFF_SECONDS = 1
    for _ in range(5):
        attempt(client, applicant.username, "wrong")
    assert attempt(client, applicant.username, password).status_code == 200
    time.sleep(1.2)
    assert attempt(client, applicant.username, password).status_code == 302


def test_a_forged_forwarded_for_header_changes_nothing(client, applicant, password):
    for n in range(5):
        client.post(
            "/accounts/login/",
            {"username": applicant.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            REMOTE_ADDR="10.0.0.7",
        )
    assert attempt(client, applicant.username, password).status_code == 200
    assert set(AuditEvent.objects.filter(action="login_failed").values_list("ip", flat=True)) == {
        "10.0.0.7"
    }


def test_a_successful_login_resets_the_count(client, applicant, password):
    for _ in range(4):
        attempt(client, applicant.username, "wrong")
    assert attempt(client, applicant.username, password).status_code == 302
    for _ in range(4):
        attempt(client, applicant.username, "wrong")
    assert attempt(client, applicant.username, password).status_code == 302


def test_a_session_ends_twelve_hours_after_login_however_active(client, applicant, password):
    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    admin = make_user(Role.POLICY_ADMINISTRATOR, username="long_admin", is_staff=True)
    for user, page in ((applicant, "/accounts/password_change/"), (admin, "/admin/")):
        client.login(username=user.username, password=password)
        assert client.get(page).status_code == 200
        session = client.session
        session["login_at"] = time.time() - 12 * 3600 - 1
        session.save()
        response = client.get(page)
        assert response.status_code == 302
        assert response.url.startswith(("/accounts/login/", "/admin/login/"))
        assert "_auth_user_id" not in client.session


def test_a_deactivated_user_is_logged_out_at_the_next_request(client, applicant, password):
    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    admin = make_user(Role.POLICY_ADMINISTRATOR, username="gone_admin", is_staff=True)
    for user, page in ((applicant, "/accounts/password_change/"), (admin, "/admin/")):
        client.login(username=user.username, password=password)
        assert client.get(page).status_code == 200
        user.is_active = False
        user.save(update_fields=["is_active"])
        assert client.get(page).status_code == 302
        # The session is ended, not only refused: reactivating the account does not revive it.
        assert "_auth_user_id" not in client.session
        user.is_active = True
        user.save(update_fields=["is_active"])
        assert client.get(page).status_code == 302


def test_thirty_idle_minutes_log_out_on_the_portal_and_on_the_admin_site(client, password):
    """SECURITY.md row 8: each request renews the 30 minutes; 30 idle minutes end the session,
    for an applicant logged in at the portal's login page and for staff on /admin/."""
    from datetime import timedelta

    import time_machine
    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.core.cache import caches
    from django.utils import timezone

    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    applicant = make_user(Role.APPLICANT, username="idle_applicant")
    admin = make_user(Role.POLICY_ADMINISTRATOR, username="idle_admin", is_staff=True)
    start = timezone.now()
    for user, page in ((applicant, "/accounts/password_change/"), (admin, "/admin/")):
        client.logout()
        with time_machine.travel(start, tick=False):
            if user is applicant:
                response = client.post(
                    "/accounts/login/", {"username": user.username, "password": password}
                )
                assert response.status_code == 302
            else:  # staff pass the second factor too: the session is opened as after it
                client.login(username=user.username, password=password)
            assert client.get(page).status_code == 200
        with time_machine.travel(start + timedelta(minutes=29), tick=False):
            assert client.get(page).status_code == 200, "an active session is renewed"
        with time_machine.travel(start + timedelta(minutes=29 + 31), tick=False):
            # The session's copy in the cache expires by itself 30 minutes after the last
            # request; Redis counts real seconds, which the moved clock does not reach, so the
            # test lets that copy go as Redis would, and the database copy must be expired too.
            caches[settings.SESSION_CACHE_ALIAS].delete(KEY_PREFIX + client.session.session_key)
            response = client.get(page)
            assert response.status_code == 302, f"{page}: still open after 31 idle minutes"
            # The admin site's login page is the portal's (it redirects there).
            assert response.url.startswith(("/accounts/login/", "/admin/login/"))
            assert "_auth_user_id" not in client.session


@pytest.mark.real_second_factor
def test_lock_cool_off_and_forged_header_hold_on_the_admin_path(client, password, settings):
    """Rows 1-3 for an administrator logging in for /admin/ (whose login is the portal's)."""
    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    admin = make_user(Role.POLICY_ADMINISTRATOR, username="adm_lock", is_staff=True)
    settings.LOGIN_COOL_OFF_SECONDS = 1
    url = "/accounts/login/?next=/admin/"
    for n in range(5):
        client.post(
            url,
            {"username": admin.username, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            REMOTE_ADDR="10.0.0.8",
        )
    right = {"username": admin.username, "password": password}
    assert client.post(url, right, REMOTE_ADDR="10.0.0.9").status_code == 200  # locked
    assert client.get("/admin/").status_code == 302
    failed = AuditEvent.objects.filter(action="login_failed")
    assert set(failed.values_list("ip", flat=True)) == {"10.0.0.8"}  # the header changed nothing
    assert AuditEvent.objects.filter(action="account_locked").count() == 1
    time.sleep(1.2)
    response = client.post(url, right, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 302 and response.url == "/accounts/code/"  # on to the code
