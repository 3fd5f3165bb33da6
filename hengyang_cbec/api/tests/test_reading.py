"""What the public and the systems read: policy data from the stored catalogue, public notices,
notice verification, and application statuses, with money as strings with two decimals."""

from __future__ import annotations

import pytest

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api.models import Scope
from policies.changes import add_parameter_value
from reviews.models import Award
from reviews.tests.factories import (
    Crew,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
    publish,
)

from .conftest import ready_notice

pytestmark = pytest.mark.django_db


def test_policy_versions_measures_parameters_and_readings(client, catalogue):
    versions = client.get("/api/v1/policies").json()
    assert [v["code"] for v in versions] == ["HY-CBEC-2025"]
    assert versions[0]["valid_from"] == "2025-03-25"
    measures = client.get("/api/v1/policies/HY-CBEC-2025/measures").json()
    assert "M05" in {m["code"] for m in measures}
    m05 = client.get("/api/v1/policies/HY-CBEC-2025/measures/M05").json()
    assert m05["clause"] == "II(3)5"
    assert "cbec_export_volume_usd" in {f["name"] for f in m05["fact_definitions"]}
    parameters = {p["key"]: p for p in m05["parameters"]}
    assert all(p["clause"] for p in parameters.values())
    assert all(isinstance(v["value"], str) for p in parameters.values() for v in p["values"])
    facts = client.get("/api/v1/policies/HY-CBEC-2025/facts").json()
    assert {"entity_type", "year"} <= {f["name"] for f in facts}
    readings = client.get("/api/v1/policies/HY-CBEC-2025/interpretations").json()
    assert [r["code"] for r in readings][:2] == ["I-1", "I-2"]
    assert all(r["text_zh"] and r["text_en"] for r in readings)


def test_a_value_added_in_the_admin_shows_with_its_date(
    client, catalogue, django_capture_on_commit_callbacks
):
    from datetime import date

    from policies.models import Parameter

    parameter = Parameter.objects.filter(key__startswith="M05.").first()
    latest = parameter.values.order_by("-effective_from").first()
    start = date(2026, 12, 1) if latest.effective_from < date(2026, 12, 1) else None
    if start is None:
        pytest.skip("the catalogue already changes this parameter later")
    with django_capture_on_commit_callbacks(execute=True):
        add_parameter_value(
            parameter=parameter,
            value_text="123456",
            effective_from=start,
            user=make_staff(Role.POLICY_ADMINISTRATOR),
        )
    listed = client.get("/api/v1/policies/HY-CBEC-2025/parameters").json()
    found = next(p for p in listed if p["key"] == parameter.key)
    assert {"value": "123456", "effective_from": "2026-12-01", "effective_to": None} in [
        {k: v[k] for k in ("value", "effective_from", "effective_to")} for v in found["values"]
    ]


def test_unknown_versions_and_measures_are_translated_404s(client, catalogue):
    response = client.get("/api/v1/policies/HY-CBEC-1999/measures")
    assert response.status_code == 404
    assert response.json() == {
        "code": "unknown_policy",
        "detail": "没有这个政策版本。",
        "detail_en": "There is no such policy version.",
    }
    assert client.get("/api/v1/policies/HY-CBEC-2025/measures/M99").status_code == 404


@pytest.fixture
def approved(catalogue):
    enterprise = make_enterprise("衡阳雁城跨境电商有限公司")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    return advance(application, State.APPROVED, crew=Crew(), amount="100000")


def test_public_notices_list_name_measure_and_amount(client, catalogue):
    enterprise = make_enterprise("衡阳石鼓跨境贸易有限公司")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    crew = Crew()
    advance(application, State.PUBLIC_NOTICE, crew=crew, amount="100000")
    if not client.get("/api/v1/public-notices").json():
        publish(application, crew.registrar)
    items = client.get("/api/v1/public-notices").json()
    assert [(i["enterprise_name"], i["measure_code"], i["amount_cny"]) for i in items] == [
        ("衡阳石鼓跨境贸易有限公司", "M05", "100000.00")
    ]
    assert "uscc" not in items[0]


def test_a_notice_is_verified_by_its_code_and_by_its_pdfs_sha256(client, approved):
    notice = ready_notice(Award.objects.get(application=approved, status=Award.Status.FIXED))
    by_code = client.get(f"/api/v1/notices/{notice.verification_code.lower()}").json()
    assert by_code["number"] == notice.number
    assert by_code["amount_cny"] == "100000.00"
    assert by_code["valid"] is True
    checked = client.get(f"/api/v1/notices/{notice.code}?sha256={'B' * 64}").json()
    assert (checked["match"], checked["language"]) == (True, "en")
    checked = client.get(f"/api/v1/notices/{notice.code}?sha256={'c' * 64}").json()
    assert (checked["match"], checked["language"]) == (False, None)
    by_hash = client.get(f"/api/v1/notices/sha256/{'a' * 64}").json()
    assert (by_hash["number"], by_hash["language"]) == (notice.number, "zh")
    assert client.get(f"/api/v1/notices/sha256/{'d' * 64}").status_code == 404
    bad = client.get("/api/v1/notices/sha256/not-a-hash")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "SHA-256 须为 64 位十六进制数字。"
    assert client.get("/api/v1/notices/HSKB-0000-0000-0000-0000-0000").status_code == 404


def test_statuses_by_reference_and_by_credit_code(client, approved, make_key):
    secret = make_key(Scope.READ_STATUSES)
    found = client.get(f"/api/v1/applications/{approved.reference}", HTTP_X_API_KEY=secret)
    assert found.status_code == 200
    status = found.json()
    assert status["state"] == "approved"
    assert status["state_zh"] == "已批准"
    assert status["state_en"] == "Approved"
    assert status["approved_amount_cny"] == "100000.00"
    listed = client.get(
        f"/api/v1/applications?uscc={approved.enterprise.uscc.lower()}", HTTP_X_API_KEY=secret
    ).json()
    assert [a["reference"] for a in listed] == [approved.reference]
    draft = make_application(enterprise=approved.enterprise, code="M16", state=State.DRAFT)
    assert client.get(
        f"/api/v1/applications/{draft.reference}", HTTP_X_API_KEY=secret
    ).status_code in {404}
    bad = client.get("/api/v1/applications?uscc=123", HTTP_X_API_KEY=secret)
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_uscc"


@pytest.mark.parametrize(
    ("limit", "path"),
    [("api_public", "/api/v1/policies"), ("verify_notice", "/api/v1/notices/sha256/" + "e" * 64)],
)
def test_public_reading_is_limited_per_address(client, catalogue, settings, limit, path):
    import copy

    limits = copy.deepcopy(settings.RATE_LIMITS)
    limits[limit] = {"address": "2/m", "account": ""}
    settings.RATE_LIMITS = limits
    statuses = [client.get(path).status_code for _ in range(3)]
    assert statuses[2] == 429
    assert statuses[:2] != [429, 429]
