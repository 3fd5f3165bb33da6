"""The shell every page shares: language, navigation, error pages, security headers."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_is_chinese_by_default_even_for_an_english_browser(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert "衡阳市跨境电商补贴平台" in html
    assert response.headers["Content-Language"] == "zh-hans"


def test_switching_to_english_is_remembered(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Hengyang Cross-border E-commerce Subsidy Portal" in html


def test_an_unknown_language_falls_back_to_chinese(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx"
    assert '<html lang="zh-Hans">' in client.get("/").content.decode()


def test_every_page_offers_the_language_switch(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'value="en"' in html and 'value="zh-hans"' in html


def test_unknown_page_is_a_friendly_translated_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "找不到" in response.content.decode()


def test_csrf_failure_is_a_friendly_translated_page():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


def test_server_error_page_is_translated_and_standalone():
    from django.utils import translation

    from hengyang_cbec.views import server_error

    with translation.override("en"):
        response = server_error(None)
    assert response.status_code == 500
    assert "Nothing you entered has been lost" in response.content.decode()


def test_security_headers_forbid_framing_plugins_and_base_tags(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_assets_are_served_from_the_portal_not_a_cdn(client):
    html = client.get("/").content.decode()
    assert "/static/vendor/bootstrap/bootstrap.min.css" in html
    assert "cdn" not in html.lower()
    assert client.get("/static/vendor/bootstrap/bootstrap.min.css").status_code == 200


def test_reviewer_navigation_only_for_reviewers(client, applicant, commerce_reviewer, password):
    client.login(username=applicant.username, password=password)
    assert 'data-nav-section="staff"' not in client.get("/").content.decode()
    client.login(username=commerce_reviewer.username, password=password)
    assert 'data-nav-section="staff"' in client.get("/").content.decode()
