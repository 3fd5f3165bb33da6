"""POST /api/v1/assess answers exactly as `manage.py assess`: every case file of the rules engine,
results and errors alike; bad JSON is a translated 400; the calculator is rate-limited (429)."""

from __future__ import annotations

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from policies.tests.test_engine_cases import CASES

pytestmark = pytest.mark.django_db


def _request(case) -> dict:
    return {"measure": case.measure, "facts": case.facts, "context": case.context}


def _command(payload, language: str, tmp_path) -> tuple[object, str | None]:
    """What `manage.py assess` prints for `payload`, or the message it stops with."""
    path = tmp_path / "request.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, default=str), encoding="utf-8")
    out = StringIO()
    try:
        call_command("assess", str(path), "--language", language, stdout=out)
    except CommandError as exc:
        return None, str(exc)
    return json.loads(out.getvalue()), None


def _api(client, payload, language: str):
    return client.post(
        f"/api/v1/assess?language={language}",
        data=json.dumps(payload, ensure_ascii=False, default=str),
        content_type="application/json",
    )


def test_every_case_file_gets_the_same_answer_as_the_command(client, catalogue, tmp_path):
    assert len(CASES) > 100
    errors = 0
    for case in CASES:
        payload = _request(case)
        expected, message = _command(payload, "zh-hans", tmp_path)
        response = _api(client, payload, "zh-hans")
        if message is not None:
            errors += 1
            assert response.status_code == 400, (case.id, response.content)
            body = response.json()
            assert body["detail_en"] == message, case.id
            assert body["measure"] == case.measure, case.id
            if "fact" in case.expect:
                assert body["fact"] == case.expect["fact"], case.id
                assert case.expect["fact"] in body["detail"], case.id
            continue
        assert response.status_code == 200, (case.id, response.content)
        assert response.json() == expected, case.id
    assert errors, "the case files hold malformed inputs too"


def test_a_list_and_english_answer_as_the_command(client, catalogue, tmp_path):
    payload = [_request(case) for case in CASES if "error" not in case.expect][:25]
    expected, message = _command(payload, "en", tmp_path)
    assert message is None
    response = _api(client, payload, "en")
    assert response.status_code == 200
    assert response.json() == expected
    assert all(isinstance(item["amount_cny"], str) for item in expected)
    assert all(len(item["amount_cny"].split(".")[1]) == 2 for item in expected)


def test_a_bad_item_of_a_list_is_named_like_the_command_names_it(client, catalogue, tmp_path):
    good = _request(next(case for case in CASES if "error" not in case.expect))
    bad = copy.deepcopy(good)
    bad["facts"]["cbec_export_volume_usd"] = "lots"
    bad["measure"] = "M05"
    _expected, message = _command([good, bad], "zh-hans", tmp_path)
    response = _api(client, [good, bad], "zh-hans")
    assert response.status_code == 400
    body = response.json()
    assert body["detail_en"] == message
    assert body["item"] == 1
    assert body["detail"].startswith("第 1 项：措施 M05：")


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[1, 2", b'{"measure": NaN}', b"null", b"42"],
    ids=["broken", "empty", "not-utf8", "unclosed", "nan", "null", "number"],
)
def test_bad_json_is_a_translated_400_never_a_500(client, catalogue, body):
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["code"] == "bad_input"
    assert answer["detail"] != answer["detail_en"]  # Chinese first, English beside it
    client.cookies["portal_language"] = "en"
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.json()["detail"] == answer["detail_en"]


def test_an_unknown_language_is_a_400(client, catalogue):
    response = client.post(
        "/api/v1/assess?language=fr", data=b"{}", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "language" in response.json()["detail_en"]


def test_the_calculator_answers_429_over_its_limit(client, catalogue, settings):
    limits = copy.deepcopy(settings.RATE_LIMITS)
    limits["api_assess"] = {"address": "3/m", "account": ""}
    settings.RATE_LIMITS = limits
    payload = _request(next(case for case in CASES if "error" not in case.expect))
    statuses = [_api(client, payload, "zh-hans").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = _api(client, payload, "zh-hans")
    assert response["Retry-After"] == "60"
    body = response.json()
    assert body["code"] == "too_many_requests"
    assert body["detail"] == "请求过于频繁，请一分钟后再试。"


def test_a_system_posts_without_a_csrf_token_even_beside_a_session(catalogue, applicant):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    payload = _request(next(case for case in CASES if "error" not in case.expect))
    response = client.post(
        "/api/v1/assess", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 200
    # The portal's own forms still need their token.
    assert client.post("/accounts/two-factor/").status_code == 403


def test_a_body_over_the_request_limit_is_refused_not_a_server_error(client, catalogue, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"measure": "M05", "facts": {"x": "1" * 5000}})
    response = client.post("/api/v1/assess", data=body, content_type="application/json")
    assert response.status_code in {400, 413}
