"""The M05 calculator in a real browser: live result and trace as the user types."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_m05_calculator_shows_100000_for_600000_usd_in_chinese_and_english(
    page, live_server, catalogue
):
    page.goto(f"{live_server.url}/measures/M05/")
    page.fill("#id_cbec_export_volume_usd", "600000")
    amount = page.locator("#calculator-result [data-amount]")
    amount.wait_for()
    assert amount.get_attribute("data-amount") == "100000.00"
    assert "100,000.00 元" in amount.inner_text()
    trace = page.locator("#calculator-result .trace")
    assert "600,000.00 美元 > 500,000.00 美元" in trace.inner_text()
    assert "II(3)5" in trace.inner_text()

    page.click("button[data-language=en]")
    page.wait_for_load_state("networkidle")
    page.fill("#id_cbec_export_volume_usd", "600000")
    amount = page.locator("#calculator-result [data-amount]")
    amount.wait_for()
    assert "100,000.00 yuan" in amount.inner_text()
    assert (
        "USD 600,000.00 > USD 500,000.00" in page.locator("#calculator-result .trace").inner_text()
    )


def test_the_calculator_updates_as_the_user_types_without_reloading(page, live_server, catalogue):
    page.goto(f"{live_server.url}/measures/M05/")
    page.evaluate("window.__marker = 'same page'")
    page.fill("#id_cbec_export_volume_usd", "1500000")
    page.locator("#calculator-result [data-amount='500000.00']").wait_for()
    page.fill("#id_cbec_export_volume_usd", "1000")
    page.locator("#calculator-result [data-amount='20000.00']").wait_for()
    assert page.evaluate("window.__marker") == "same page"
