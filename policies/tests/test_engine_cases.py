"""Runs every case file in policies/cases/ and checks that cases and traces cover every clause."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.engine import (
    AssessInputError,
    Catalogue,
    FactError,
    PolicyVersions,
    Result,
    UnknownMeasure,
    assess,
    load_catalogue_tree,
    parse_request,
)

POLICIES = Path(__file__).resolve().parents[1]
CASES_DIR = POLICIES / "cases"
TODAY = date(2026, 6, 1)  # the default reference date when a case gives none
ERRORS = {
    "FactError": FactError,
    "UnknownMeasure": UnknownMeasure,
    "AssessInputError": AssessInputError,
}
OUTPUT_KEYS = {
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


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    measure: str
    clauses: tuple[str, ...]
    description: str
    facts: dict[str, Any]
    context: dict[str, Any]
    expect: dict[str, Any] = field(default_factory=dict)


def load_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["cases"]:
            measure = raw.get("measure", data["measure"])
            facts = {**data.get("base_facts", {}), **raw.get("facts", {})}
            for name in raw.get("drop_facts", ()):
                facts.pop(name, None)
            context = {**data.get("base_context", {}), **raw.get("context", {})}
            cases.append(
                Case(
                    id=f"{path.stem}-{raw['id']}",
                    file=path.name,
                    measure=measure,
                    clauses=tuple(raw["clauses"]),
                    description=raw["description"],
                    facts=facts,
                    context=context,
                    expect=raw["expect"],
                )
            )
    return cases


CASES = load_cases()


@pytest.fixture(scope="module")
def versions() -> PolicyVersions:
    """Every version the repository ships (the cases name one with context.policy or a date)."""
    return PolicyVersions.from_data(load_catalogue_tree(POLICIES / "catalogue"))


@pytest.fixture(scope="module")
def catalogue(versions: PolicyVersions) -> Catalogue:
    found = versions.get("HY-CBEC-2025")
    assert found is not None
    return found


def run_case(catalogue: Catalogue | PolicyVersions, case: Case) -> Result:
    request = {"measure": case.measure, "facts": case.facts, "context": case.context}
    code, facts, context = parse_request(catalogue, request, TODAY)
    return assess(catalogue, code, facts, context)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(versions: PolicyVersions, case: Case) -> None:
    expect = case.expect
    if "error" in expect:
        with pytest.raises(ERRORS[expect["error"]]) as raised:
            run_case(versions, case)
        if "fact" in expect:
            assert raised.value.fact == expect["fact"]
            assert expect["fact"] in str(raised.value)
        assert case.measure in str(raised.value)
        return

    result = run_case(versions, case)
    out = result.to_dict()
    english = result.to_dict("en")
    assert set(out) == OUTPUT_KEYS
    assert out["measure"] == case.measure
    assert out["policy"] == expect.get("policy", "HY-CBEC-2025")
    assert out["eligible"] is expect["eligible"], out["reasons"]
    assert out["amount_cny"] == expect["amount_cny"], out["trace"]
    assert out["cap_cny"] == expect["cap_cny"]
    if not expect["eligible"]:
        assert out["amount_cny"] == out["cap_cny"] == "0.00"
        assert out["reasons"] and english["reasons"]
    else:
        assert out["reasons"] == []
    if "components" in expect:
        got = {c["name"]: c["amount_cny"] for c in out["components"]}
        assert got == expect["components"]
    if out["components"]:
        total = sum(result.amount_cny for result in result.components)  # type: ignore[misc]
        assert total == result.amount_cny
    if "reason_contains" in expect:
        reasons = out["reasons"] + english["reasons"]
        assert any(expect["reason_contains"] in r for r in reasons), reasons
    if "trace_contains" in expect:
        texts = [s["text_zh"] for s in out["trace"]] + [s["text_en"] for s in out["trace"]]
        assert any(expect["trace_contains"] in t for t in texts), texts
    for step in out["trace"]:
        assert step["text"] == step["text_zh"]
        assert step["clause"]


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


def test_every_measure_has_a_case_file(catalogue: Catalogue) -> None:
    files = {path.stem for path in CASES_DIR.glob("*.yaml")}
    assert set(catalogue.measures) <= files


def test_every_case_cites_known_clauses(catalogue: Catalogue) -> None:
    known = catalogue.clauses()
    unknown = {(case.id, c) for case in CASES for c in case.clauses if c not in known}
    assert not unknown, f"cases cite clauses that are not in the catalogue: {sorted(unknown)}"
    assert all(case.clauses for case in CASES)


def test_every_catalogue_clause_is_cited_by_a_case(catalogue: Catalogue) -> None:
    cited = {c for case in CASES for c in case.clauses}
    missing = catalogue.clauses() - cited
    assert not missing, f"clauses no case cites: {sorted(missing)}"


def test_every_catalogue_clause_is_cited_by_a_trace_step(catalogue: Catalogue) -> None:
    traced: set[str] = set()
    interpretations: set[str] = set()
    for case in CASES:
        if "error" in case.expect:
            continue
        for step in run_case(catalogue, case).trace:
            traced.add(step.clause)
            if step.interpretation:
                interpretations.add(step.interpretation)
    missing = catalogue.clauses() - traced
    assert not missing, f"clauses no trace step cites: {sorted(missing)}"
    assert traced <= catalogue.clauses()
    assert set(catalogue.interpretations) <= interpretations, "an interpretation is never traced"


def test_every_measure_has_validity_and_entity_type_cases(catalogue: Catalogue) -> None:
    for code in catalogue.measures:
        ids = {case.id for case in CASES if case.file == f"{code}.yaml"}
        for suffix in (
            "valid-day-before",
            "valid-first-day",
            "valid-last-day",
            "valid-day-after",
            "wrong-entity-type",
        ):
            assert f"{code}-{suffix}" in ids, f"{code} lacks the case {suffix}"
