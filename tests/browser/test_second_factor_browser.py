"""The second factor in Chromium: a reviewer enrols at first login and types a computed code."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from hengyang_cbec.accounts.demo import seed_accounts
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import PASSWORD, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.real_second_factor,
    pytest.mark.django_db(transaction=True),
]


def code_from_key(base32_key: str) -> str:
    """What an authenticator app shows for this key now (RFC 6238, 30 s, 6 digits)."""
    key = base64.b32decode(base32_key + "=" * (-len(base32_key) % 8))
    return str(totp(key)).zfill(6)


def test_a_reviewer_scans_the_qr_code_enters_the_code_and_lands_on_the_workspace(page, live_server):
    reviewer = make_user(Role.COMMERCE_REVIEWER, username="qr_reviewer")
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "qr_reviewer")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/accounts/code/")
    assert page.locator("h1").inner_text() == "设置第二重身份验证"
    qr = page.locator("main img[alt='身份验证器应用的二维码']")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.bounding_box()["width"] >= 200  # big enough to scan
    key = page.locator("#totp-secret").inner_text().replace(" ", "")

    page.fill("input[name=code]", "000000")
    page.click("main form button[type=submit]")
    assert "验证码不正确或已使用" in page.locator("#id_code_error").inner_text()
    assert TOTPDevice.objects.get(user=reviewer).confirmed is False

    page.wait_for_timeout(1100)  # the device makes the next try wait a second after a wrong one
    page.fill("input[name=code]", code_from_key(key))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/accounts/recovery-codes/")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    page.click("main a.btn-primary")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/staff/"  # staff land on their workspace
    assert page.locator("[data-role=commerce_reviewer]").count() >= 1
    assert TOTPDevice.objects.get(user=reviewer).confirmed is True
    assert AuditEvent.objects.filter(action="second_factor.enrol", actor=reviewer).count() == 1


def test_a_demo_administrator_logs_into_the_admin_site_with_the_published_seed(
    page, live_server, settings
):
    from hengyang_cbec.accounts import second_factor

    seed_accounts()
    page.goto(f"{live_server.url}/admin/")
    page.wait_for_load_state("networkidle")
    assert "/accounts/login/" in page.url  # the admin has no login of its own
    page.fill("input[name=username]", "sysadmin")
    page.fill("input[name=password]", settings.DEMO_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "输入验证码"
    seed = base64.b32encode(bytes.fromhex(second_factor.demo_key("sysadmin"))).decode()
    page.fill("input[name=code]", code_from_key(seed.rstrip("=")))
    page.click("main form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url == f"{live_server.url}/admin/"
    assert "衡阳市跨境电商补贴平台 · 管理" in page.locator("#site-name").inner_text()
