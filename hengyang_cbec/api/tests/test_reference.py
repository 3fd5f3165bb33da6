"""The OpenAPI document validates and documents every operation in Chinese and English; the
reference page at /api/ loads only the portal's own static files (no CDN)."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def document(client, catalogue):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_openapi_document_validates(document):
    validate(document)
    assert document["openapi"].startswith("3.")
    assert document["info"]["version"] == "1"


def test_every_operation_is_described_in_chinese_and_english(document):
    for path, methods in document["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in methods.items():
            summary = operation.get("summary", "")
            assert CHINESE.search(summary) and ENGLISH.search(summary), (method, path, summary)
    for text in (document["info"]["title"], document["info"]["description"]):
        assert CHINESE.search(text) and ENGLISH.search(text)


def test_keyed_operations_name_their_scope_and_the_key_header(document):
    schemes = document["components"]["securitySchemes"]
    assert list(schemes.values()) == [{"type": "apiKey", "in": "header", "name": "X-API-Key"}]
    keyed = {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if operation.get("security")
    }
    assert {path for _method, path in keyed} == {
        "/api/v1/applications",
        "/api/v1/applications/{reference}",
        "/api/v1/my/applications",
        "/api/v1/disbursement-batches",
        "/api/v1/disbursement-batches/{number}",
        "/api/v1/disbursement-batches/{number}/results",
        "/api/v1/disbursement-batches/{number}/results/{proposal_id}",
        "/api/v1/statistics/imports",
        "/api/v1/statistics/imports/{import_id}",
    }
    for operation in keyed.values():
        assert re.search(
            r"Scope: `(read_statuses|import_statistics|exchange_payments|read_own_applications)`",
            operation["description"],
        )


def test_the_reference_page_uses_only_the_portals_own_files(client):
    response = client.get("/api/")
    assert response.status_code == 200
    html = response.content.decode()
    # Nothing is fetched from another host: no absolute URL in any src or href.
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html), "a CDN or remote URL"
    assert "cdn" not in html.lower()
    scripts = re.findall(r"""<script[^>]+src=["']([^"']+)""", html)
    assert "/static/ninja/swagger-ui-bundle.js" in scripts
    assert "/static/ninja/swagger-ui-init.js" in scripts
    assert '"url": "/api/v1/openapi.json"' in html
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css"):
        assert finders.find(name), f"{name} is not among the static files"


def test_the_reference_page_speaks_chinese_first_then_english(client):
    html = client.get("/api/").content.decode()
    assert "开放接口" in html
    assert "金额一律为两位小数的字符串" in html
    client.cookies["portal_language"] = "en"
    html = client.get("/api/").content.decode()
    assert "Open API" in html
    assert "Amounts are strings with two decimals" in html
