"""The permission matrix: every API endpoint × every kind of caller — no key, an unknown key, an
expired key, a revoked key, a key of each wrong scope, a key of the right scope, and a person
logged in to the portal without a key. Public endpoints answer everyone alike."""

from __future__ import annotations

import json

import pytest

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api import payments
from hengyang_cbec.api.models import Scope
from reviews.models import Award
from reviews.services.statistics import import_create
from reviews.tests.factories import make_staff

from .conftest import ALL_SCOPES, SYSTEM_SCOPES, key_of, ready_notice

pytestmark = pytest.mark.django_db

# (method, path template) → the scope it needs (None: public).
SCOPES = {
    ("get", "/api/v1/policies"): None,
    ("get", "/api/v1/policies/{code}"): None,
    ("get", "/api/v1/policies/{code}/measures"): None,
    ("get", "/api/v1/policies/{code}/measures/{measure}"): None,
    ("get", "/api/v1/policies/{code}/facts"): None,
    ("get", "/api/v1/policies/{code}/parameters"): None,
    ("get", "/api/v1/policies/{code}/interpretations"): None,
    ("post", "/api/v1/assess"): None,
    ("get", "/api/v1/public-notices"): None,
    ("get", "/api/v1/notices/{code}"): None,
    ("get", "/api/v1/notices/sha256/{sha256}"): None,
    ("get", "/api/v1/applications"): Scope.READ_STATUSES,
    ("get", "/api/v1/applications/{reference}"): Scope.READ_STATUSES,
    ("get", "/api/v1/my/applications"): Scope.READ_OWN_APPLICATIONS,
    ("post", "/api/v1/statistics/imports"): Scope.IMPORT_STATISTICS,
    ("get", "/api/v1/statistics/imports/{import_id}"): Scope.IMPORT_STATISTICS,
    ("get", "/api/v1/disbursement-batches"): Scope.EXCHANGE_PAYMENTS,
    ("get", "/api/v1/disbursement-batches/{number}"): Scope.EXCHANGE_PAYMENTS,
    ("post", "/api/v1/disbursement-batches/{number}/results"): Scope.EXCHANGE_PAYMENTS,
    ("get", "/api/v1/disbursement-batches/{number}/results/{proposal_id}"): (
        Scope.EXCHANGE_PAYMENTS
    ),
}
SUCCESS = {
    ("post", "/api/v1/disbursement-batches/{number}/results"): 202,
    ("post", "/api/v1/statistics/imports"): 202,
}
# A system reads only what it sent itself: with another key of the right scope, 404.
OWN = {
    "/api/v1/disbursement-batches/{number}/results/{proposal_id}": "unknown_result",
    "/api/v1/statistics/imports/{import_id}": "unknown_import",
}
STATISTICS_ROW = {
    "uscc": "91430400MA4L1A2B3Y",
    "name": "衡阳湘南跨境贸易有限公司",
    "year": "2026",
    "export_usd": "1250000",
    "import_usd": "300000",
    "customs_office": "衡阳海关",
}


@pytest.fixture
def world(confirmed_batch, make_key):
    """Data every endpoint can answer about, and one key per kind of caller."""
    line = confirmed_batch.lines.get()
    award = Award.objects.get(pk=line.award_id)
    application = award.application
    notice = ready_notice(award)
    callers = {
        "none": None,
        "unknown": "hyk_deadbeef_not-a-key-the-portal-issued",
        "malformed": "Bearer something",
    }
    for scope in ALL_SCOPES:
        callers[f"right:{scope}"] = make_key(scope)
        callers[f"expired:{scope}"] = make_key(scope, state="expired")
        callers[f"revoked:{scope}"] = make_key(scope, state="revoked")
    callers["all scopes"] = make_key(*SYSTEM_SCOPES)
    proposal = payments.proposal_submit(
        key=key_of(callers[f"right:{Scope.EXCHANGE_PAYMENTS}"]),
        batch=confirmed_batch,
        rows=[{"line": line.line_reference, "account": "1", "amount": "1", "status": "paid"}],
    )
    statistics_import = import_create(
        api_key=key_of(callers[f"right:{Scope.IMPORT_STATISTICS}"]),
        source="customs",
        rows=[STATISTICS_ROW],
    )
    values = {
        "import_id": statistics_import.pk,
        "code": "HY-CBEC-2025",
        "measure": "M05",
        "reference": application.reference,
        "number": confirmed_batch.number,
        "proposal_id": proposal.pk,
        "sha256": notice.sha256_zh,
    }
    requests = {}
    for method, template in SCOPES:
        path = template
        for name, value in values.items():
            path = path.replace("{" + name + "}", str(value))
        if template == "/api/v1/notices/{code}":
            path = f"/api/v1/notices/{notice.verification_code}"
        if template == "/api/v1/applications":
            path += f"?uscc={application.enterprise.uscc}"
        requests[(method, template)] = (path, _body(template, line))
    return {"callers": callers, "requests": requests}


def _body(template: str, line) -> str | None:
    if template == "/api/v1/assess":
        return (
            '{"measure": "M05", "facts": {"entity_type": "enterprise", "registered_in_hengyang": '
            'true, "pays_taxes": true, "independent_legal_person": true, "has_cbec_performance": '
            'true, "in_customs_cbec_statistics": true, "year": 2026, "cbec_export_volume_usd": '
            '"600000"}, "context": {"on_date": "2026-06-01"}}'
        )
    if template == "/api/v1/statistics/imports":
        return json.dumps({"source": "customs", "rows": [STATISTICS_ROW]})
    if template.endswith("/results"):
        row = {
            "line": line.line_reference,
            "account": line.bank_account,
            "amount": f"{line.amount_cny:.2f}",
            "reference": "BOC-9",
            "status": "paid",
        }
        return json.dumps({"rows": [row]})
    return None


def _call(client, method: str, path: str, body: str | None, secret: str | None):
    headers = {"HTTP_X_API_KEY": secret} if secret else {}
    if method == "post":
        return client.post(path, data=body or "{}", content_type="application/json", **headers)
    return client.get(path, **headers)


def test_the_matrix_lists_every_operation_of_the_openapi_document(client, catalogue):
    document = client.get("/api/v1/openapi.json").json()
    operations = {
        (method, path) for path, methods in document["paths"].items() for method in methods
    }
    assert operations == set(SCOPES)


def _expected(scope, caller: str) -> tuple[int, str | None]:
    if scope is None:
        return 200, None
    kind, _sep, caller_scope = caller.partition(":")
    if caller == "none":
        return 401, "no_key"
    if caller in {"unknown", "malformed"}:
        return 401, "unknown_key"
    if kind == "expired":
        return 401, "key_expired"
    if kind == "revoked":
        return 401, "key_revoked"
    if caller_scope == scope or (caller == "all scopes" and scope != Scope.READ_OWN_APPLICATIONS):
        return 200, None
    return 403, "wrong_scope"


def test_every_endpoint_answers_every_caller_as_its_scope_says(client, world):
    failures = []
    for (method, template), (path, body) in world["requests"].items():
        scope = SCOPES[(method, template)]
        for caller, secret in world["callers"].items():
            status, code = _expected(scope, caller)
            if status == 200:
                status = SUCCESS.get((method, template), 200)
            if template in OWN and caller == "all scopes":
                status, code = 404, OWN[template]
            response = _call(client, method, path, body, secret)
            got = response.json().get("code") if response.status_code >= 400 else None
            if (response.status_code, got) != (status, code):
                failures.append((method, template, caller, response.status_code, got, status))
    assert failures == []


@pytest.mark.parametrize("role", [Role.DISBURSEMENT_OFFICER, Role.SECURITY_ADMINISTRATOR])
def test_a_person_logged_in_to_the_portal_is_not_a_key(client, world, role):
    client.force_login(make_staff(role))
    for (method, template), (path, body) in world["requests"].items():
        response = _call(client, method, path, body, None)
        if SCOPES[(method, template)] is None:
            assert response.status_code == 200, template
        else:
            assert response.status_code == 401, template
            assert response.json()["code"] == "no_key"
