"""The shell of the portal in a real browser (Playwright driving Debian's Chromium)."""

from __future__ import annotations

import pytest

from hengyang_cbec.accounts.demo import seed_accounts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_renders_in_chinese_then_in_english_after_switching(page, live_server):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "衡阳市跨境电商补贴平台" in page.locator(".navbar-brand").inner_text()
    page.click("button[data-language=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        "Hengyang Cross-border E-commerce Subsidy Portal"
        in page.locator(".navbar-brand").inner_text()
    )


def test_a_demo_reviewer_sees_reviewer_navigation_and_an_enterprise_user_does_not(
    page, live_server, login, settings
):
    seed_accounts()
    login("commerce", settings.DEMO_PASSWORD)
    assert page.locator("[data-nav-section=staff]").count() >= 1
    page.click("[data-nav-section=staff]")
    assert page.locator("[data-role=commerce_reviewer]").is_visible()

    page.context.clear_cookies()
    login("enterprise", settings.DEMO_PASSWORD)
    assert page.locator("#user-menu").is_visible()
    assert page.locator("[data-nav-section=staff]").count() == 0
