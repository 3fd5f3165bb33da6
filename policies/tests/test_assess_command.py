"""`python manage.py assess` exactly as MEASURES.md specifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.facts import GENERAL_FACTS as GENERAL

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
M05 = {
    "measure": "M05",
    "facts": {**GENERAL, "cbec_export_volume_usd": 600000},
    "context": {"on_date": "2026-06-01"},
}
# MEASURES.md's example: a prior M06 award of 150,000 in 2026 leaves 50,000 under the 200,000 cap.
M06 = {
    "measure": "M06",
    "facts": {
        **GENERAL,
        "promotion_expenses_cny": "300000",
        "new_store": False,
        "settlement_fee_cny": "0",
    },
    "context": {
        "on_date": "2026-06-01",
        "prior_awards": [
            {
                "measure": "M06",
                "year": 2026,
                "amount_cny": "150000.00",
                "warehouse_id": None,
                "store_id": None,
            }
        ],
    },
}
RESULT_KEYS = {
    "measure",
    "eligible",
    "amount_cny",
    "cap_cny",
    "components",
    "reasons",
    "trace",
    "rules_version",
    "policy",
}


def run_assess(payload, *args: str):
    stdout = StringIO()
    stdin = StringIO(payload if isinstance(payload, str) else json.dumps(payload))
    old_stdin, sys.stdin = sys.stdin, stdin
    try:
        call_command("assess", *args, stdout=stdout)
    finally:
        sys.stdin = old_stdin
    return json.loads(stdout.getvalue())


def test_a_single_object_gives_a_single_result_with_the_documented_schema(catalogue):
    result = run_assess(M05)
    assert set(result) == RESULT_KEYS
    assert result["eligible"] is True
    assert result["amount_cny"] == result["cap_cny"] == "100000.00"
    assert result["reasons"] == []
    assert all({"clause", "text"} <= set(step) for step in result["trace"])
    assert {"name", "amount_cny"} <= set(result["components"][0])
    assert len(result["rules_version"]) >= 8


def test_a_list_gives_a_list_in_the_same_order(catalogue):
    results = run_assess([M06, M05])
    assert [r["measure"] for r in results] == ["M06", "M05"]
    assert results[0]["amount_cny"] == "50000.00"
    assert results[1]["amount_cny"] == "100000.00"


def test_the_annual_cap_used_up_is_ineligible_and_names_the_earlier_award(catalogue):
    used_up = json.loads(json.dumps(M06))
    used_up["context"]["prior_awards"][0]["amount_cny"] = "200000.00"
    result = run_assess(used_up)
    assert result["eligible"] is False
    assert result["amount_cny"] == result["cap_cny"] == "0.00"
    assert any("M06 2026 年 200,000.00 元" in reason for reason in result["reasons"])


def test_english_texts_on_request(catalogue):
    result = run_assess(M05, "--language", "en")
    assert any("USD 600,000.00" in step["text"] for step in result["trace"])


def test_a_file_argument_is_read(tmp_path, catalogue):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(M05), encoding="utf-8")
    stdout = StringIO()
    call_command("assess", str(path), stdout=stdout)
    assert json.loads(stdout.getvalue())["amount_cny"] == "100000.00"


def _with_fact(name, value):
    payload = json.loads(json.dumps(M05))
    payload["facts"][name] = value
    return payload


def _without_fact(name):
    payload = json.loads(json.dumps(M05))
    del payload["facts"][name]
    return payload


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        pytest.param({**M05, "measure": "M99"}, "M99", id="unknown-measure"),
        pytest.param(
            _without_fact("cbec_export_volume_usd"), "cbec_export_volume_usd", id="missing-fact"
        ),
        pytest.param(
            _with_fact("cbec_export_volume_usd", "1,000"),
            "cbec_export_volume_usd",
            id="thousands-separator",
        ),
        pytest.param(
            _with_fact("cbec_export_volume_usd", -1), "cbec_export_volume_usd", id="negative"
        ),
        pytest.param(
            _with_fact("cbec_export_volume_usd", "abc"), "cbec_export_volume_usd", id="not-a-number"
        ),
        pytest.param(
            _with_fact("cbec_export_volume_usd", True),
            "cbec_export_volume_usd",
            id="boolean-as-number",
        ),
        pytest.param(
            _with_fact("registered_in_hengyang", "yes"),
            "registered_in_hengyang",
            id="text-as-boolean",
        ),
        pytest.param(_with_fact("entity_type", "pirate"), "entity_type", id="unknown-entity-type"),
        pytest.param({**M05, "context": {"on_date": "2026-13-01"}}, "on_date", id="bad-date"),
        pytest.param({**M05, "context": {"on_date": "yesterday"}}, "on_date", id="not-a-date"),
        pytest.param(
            {**M05, "context": {"prior_awards": [{"measure": "M05"}]}},
            "prior_awards",
            id="bad-prior-award",
        ),
        pytest.param([M05, {"measure": "M05"}], "item 1", id="bad-item-in-a-list"),
        pytest.param("[1, 2", "JSON", id="malformed-json"),
        pytest.param(
            '{"measure": "M05", "facts": {"cbec_export_volume_usd": NaN}}', "NaN", id="nan"
        ),
    ],
)
def test_bad_input_exits_2_with_a_message_naming_it(payload, expected, catalogue):
    with pytest.raises(CommandError) as caught:
        run_assess(payload)
    assert caught.value.returncode == 2
    assert expected in str(caught.value)


def test_bad_input_in_a_real_process_exits_2_and_prints_nothing_on_stdout(tmp_path):
    process = subprocess.run(
        [sys.executable, "manage.py", "assess", "-"],
        input=json.dumps(_with_fact("cbec_export_volume_usd", "-5")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path)},
    )
    assert process.returncode == 2
    assert process.stdout == ""
    assert "cbec_export_volume_usd" in process.stderr


def test_a_real_process_answers_from_the_files_before_any_migration(tmp_path):
    process = subprocess.run(
        [sys.executable, "manage.py", "assess"],
        input=json.dumps(M05),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "VAR_DIR": str(tmp_path)},
    )
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["amount_cny"] == "100000.00"


def test_the_command_starts_without_checks_and_without_the_pdf_library():
    """`assess` runs no system checks, and loading every URL and view does not load WeasyPrint
    (half a second): it is imported where a notice is rendered."""
    from policies.management.commands.assess import Command

    assert Command.requires_system_checks == []
    probe = (
        "import django, sys; django.setup(); from django.urls import get_resolver; "
        "get_resolver().url_patterns; print('weasyprint' in sys.modules)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hengyang_cbec.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
