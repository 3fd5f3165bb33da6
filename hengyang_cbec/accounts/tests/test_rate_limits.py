"""Floods get HTTP 429 with a translated page, per address and per account (SECURITY.md row 32)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from hengyang_cbec.accounts.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_cache():
    """Fresh counters, and a clock that stands still: a flood must not straddle a window edge."""
    import time_machine

    cache.clear()
    with time_machine.travel(1_790_000_000, tick=False):
        yield
    cache.clear()


def flood(send, times):
    return [send(n).status_code for n in range(times)]


def test_registration_flood_from_one_address_gets_429(client):
    statuses = flood(
        lambda n: client.post("/register/", {"username": f"u{n}"}, REMOTE_ADDR="10.1.1.1"), 30
    )
    assert 429 in statuses
    assert statuses.index(429) == 10  # RATE_LIMITS["registration"]["address"] = 10/h
    page = client.post("/register/", {"username": "x"}, REMOTE_ADDR="10.1.1.1")
    assert page.status_code == 429
    assert "请求过于频繁" in page.content.decode()
    assert page["Retry-After"] == "60"
    # Another address is not affected.
    assert client.post("/register/", {"username": "y"}, REMOTE_ADDR="10.1.1.2").status_code == 200


def test_password_spraying_from_one_address_gets_429(client):
    statuses = flood(
        lambda n: client.post(
            "/accounts/login/", {"username": f"user{n}", "password": "x"}, REMOTE_ADDR="10.2.2.2"
        ),
        30,
    )
    assert statuses[:20] == [200] * 20 and set(statuses[20:]) == {429}


def test_one_account_tried_from_many_addresses_gets_429(client):
    statuses = flood(
        lambda n: client.post(
            "/accounts/login/", {"username": "target", "password": "x"}, REMOTE_ADDR=f"10.3.0.{n}"
        ),
        12,
    )
    assert statuses[:10] == [200] * 10 and set(statuses[10:]) == {429}


def test_a_forged_forwarded_for_does_not_escape_the_address_limit(client):
    statuses = flood(
        lambda n: client.post(
            "/accounts/password_reset/",
            {"email": f"a{n}@example.test"},
            REMOTE_ADDR="10.4.4.4",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ),
        12,
    )
    assert statuses[10:] == [429, 429]


def test_password_reset_for_one_address_is_limited_per_account(client):
    statuses = flood(
        lambda n: client.post(
            "/accounts/password_reset/", {"email": "same@example.test"}, REMOTE_ADDR=f"10.5.0.{n}"
        ),
        5,
    )
    assert statuses == [302, 302, 302, 429, 429]


def test_calculator_and_verification_page_floods_get_429(client, catalogue):
    calc = flood(lambda n: client.get(f"/measures/M05/?calculate=1&n={n}"), 31)
    assert calc[:30].count(429) == 0 and calc[30] == 429
    assert client.get("/measures/M05/").status_code == 200  # reading the page is not counted
    verify = flood(lambda n: client.get("/verify/HSKB-NOPE/"), 21)
    assert 429 not in verify[:20] and verify[20] == 429


def test_export_flood_by_one_officer_gets_429(client):
    officer = make_user(Role.DISBURSEMENT_OFFICER, username="officer")
    client.force_login(officer)
    statuses = flood(lambda n: client.get("/finance/reports/by_measure.xlsx"), 25)
    assert 429 not in statuses[:20] and set(statuses[20:]) == {429}


def test_rate_limits_are_settings(client, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "registration": {"address": "2/m", "account": ""},
    }
    statuses = flood(lambda n: client.post("/register/", {"username": f"z{n}"}), 3)
    assert statuses == [200, 200, 429]


def test_a_rate_limit_on_a_url_name_that_does_not_exist_fails_the_system_check(monkeypatch):
    from hengyang_cbec import ratelimits
    from hengyang_cbec.accounts.checks import check_rate_limits

    assert check_rate_limits() == []
    monkeypatch.setitem(
        ratelimits.RATE_LIMITED_VIEWS, "reviews:renamed_away", ratelimits.RateLimitedView("export")
    )
    assert [error.id for error in check_rate_limits()] == ["accounts.E002"]


def test_objections_are_limited_per_account(client, catalogue):
    from hengyang_cbec.accounts.roles import Role as R

    user = make_user(R.APPLICANT, username="objector")
    client.force_login(user)
    statuses = [
        client.post(f"/notices/{n}/object/", {}, REMOTE_ADDR=f"10.9.0.{n}").status_code
        for n in range(7)
    ]
    assert 429 not in statuses[:5] and statuses[5:] == [429, 429]


def test_enterprise_document_uploads_are_limited_per_account(client, catalogue):
    """Registering with documents and sending new ones after a return count as uploads."""
    user = make_user(Role.APPLICANT, username="uploader")
    client.force_login(user)
    statuses = [
        client.post(url, {}, REMOTE_ADDR=f"10.8.0.{n}").status_code
        for n in range(32)
        for url in ["/my/enterprise/new/" if n % 2 else "/my/enterprise/verification/"]
    ]
    # RATE_LIMITS["upload"]["account"] = 30/m, over both pages together.
    assert 429 not in statuses[:30] and statuses[30:] == [429, 429]
