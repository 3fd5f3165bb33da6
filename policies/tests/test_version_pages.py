"""The public pages show the version in force and keep earlier versions readable."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

pytestmark = pytest.mark.django_db

M16_QUERY = {
    "calculate": "1",
    "entity_type": "enterprise",
    "registered_in_hengyang": "on",
    "pays_taxes": "on",
    "independent_legal_person": "on",
    "has_cbec_performance": "on",
    "in_customs_cbec_statistics": "on",
    "social_security_paid_cny": "600000",
}


def on(day: date):
    return time_machine.travel(
        datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


def test_today_the_2025_version_is_shown_in_force(client, catalogue):
    html = client.get("/policy/").content.decode()
    assert 'data-policy-version="HY-CBEC-2025" data-version-status="in-force"' in html
    assert "政策版本 HY-CBEC-2025，施行期间为 2025-03-25 至 2027-03-24（含）。" in html


def test_after_the_renewal_2025_is_archived_but_readable_and_the_calculator_uses_2027(
    client, renewal, settings
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with on(date(2027, 5, 1)):
        current = client.get("/policy/").content.decode()
        assert 'data-policy-version="HY-CBEC-2027" data-version-status="in-force"' in current
        assert 'data-version-link="HY-CBEC-2025"' in current
        archived = client.get("/interpretations/?version=HY-CBEC-2025").content.decode()
        assert 'data-version-status="archived"' in archived
        assert "was in force from 2025-03-25 to 2027-03-24 inclusive" in archived
        assert 'id="I-9"' in archived
        measures = client.get("/measures/?version=HY-CBEC-2025").content.decode()
        assert 'data-measure="M10A"' in measures
        assert "/measures/M10A/?version=HY-CBEC-2025" in measures
        assert 'data-measure="M10A"' not in client.get("/measures/").content.decode()
        old = client.get(
            "/measures/M16/", {**M16_QUERY, "version": "HY-CBEC-2025"}
        ).content.decode()
        assert "data-calculator-off" in old and "data-result-eligible" not in old
        new = client.get("/measures/M16/", {**M16_QUERY, "year": "2027"}).content.decode()
        assert 'data-amount="90000.00"' in new
        assert "<span data-result-policy>HY-CBEC-2027</span>" in new
        assert client.get("/measures/?version=HY-CBEC-1999").status_code == 404


def test_the_calculator_links_each_interpretation_to_its_text(client, catalogue):
    query = {**M16_QUERY, "year": "2026"}
    html = client.get("/measures/M16/", query).content.decode()
    assert 'data-interpretation="I-5" href="/interpretations/?version=HY-CBEC-2025#I-5"' in html
    assert 'data-interpretation="I-7"' in html
