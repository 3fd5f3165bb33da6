"""The catalogue data: what it must contain, and what `Catalogue.from_data` refuses."""

from __future__ import annotations

import copy
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from policies.engine import (
    Catalogue,
    CatalogueError,
    Context,
    PriorAward,
    assess,
    load_catalogue_dir,
    load_catalogue_tree,
)

POLICIES = Path(__file__).resolve().parents[1]
CATALOGUE_DIR = POLICIES / "catalogue" / "HY-CBEC-2025"
# The policy text the catalogue implements ships inside the repository.
POLICY_TEXT = POLICIES / "source" / "hengyang-cbec-measures-2025.en.txt"
MEASURE_CODES = {f"M{n:02d}" for n in range(1, 17)} - {"M09", "M10"} | {
    "M09A",
    "M09B",
    "M10A",
    "M10B",
}
COMMON_EVIDENCE = ["business_licence", "credit_commitment_letter", "bank_account_proof"]
GENERAL = {
    "entity_type": "enterprise",
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "year": 2026,
}


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    """The 2025 version as the loader reads it (its own folder plus the shared places)."""
    versions = load_catalogue_tree(CATALOGUE_DIR.parent)
    return next(v for v in versions if v["policy"]["code"] == "HY-CBEC-2025")


@pytest.fixture(scope="module")
def catalogue(data: dict[str, Any]) -> Catalogue:
    return Catalogue.from_data(data)


def build(data: dict[str, Any], change: Any) -> Catalogue:
    changed = copy.deepcopy(data)
    change(changed)
    return Catalogue.from_data(changed)


def item(items: list[dict[str, Any]], key: str, value: str) -> dict[str, Any]:
    return next(i for i in items if i[key] == value)


# -- what the catalogue contains --------------------------------------------------------------


def test_policy_identity_and_validity(catalogue: Catalogue) -> None:
    policy = catalogue.policy
    assert policy["code"] == "HY-CBEC-2025"
    assert policy["published_on"] == date(2025, 3, 25)
    assert catalogue.valid_from == date(2025, 3, 25)
    assert catalogue.valid_to == date(2027, 3, 24)
    assert policy["issuer_zh"] and policy["published_via_zh"] == "衡阳党政门户网"
    assert policy["source_file"] == POLICY_TEXT.name


def test_every_measure_is_there_with_its_clause(catalogue: Catalogue) -> None:
    assert set(catalogue.measures) == MEASURE_CODES
    assert catalogue.measures["M09A"].clause == "II(4)¶1"
    assert catalogue.measures["M10B"].clause == "II(5)¶1"
    assert catalogue.measures["M12"].clause == "II(6)2"
    assert catalogue.measures["M16"].clause == "II(7)4"
    for measure in catalogue.measures.values():
        assert measure.section in catalogue.sections
        assert measure.title_zh and measure.title_en
        assert measure.conditions_zh and measure.conditions_en
        assert measure.article_text_zh and measure.article_text_en
        assert list(measure.evidence_types[:3]) == COMMON_EVIDENCE, measure.code
        assert len(measure.evidence_types) > 3, measure.code
        assert measure.responsible_units[:2] == ("commerce_bureau", "finance_bureau")


def test_flags_follow_the_interpretations(catalogue: Catalogue) -> None:
    measures = catalogue.measures
    one_time = {c for c, m in measures.items() if m.one_time}
    assert one_time == {"M01", "M02", "M05", "M08", "M09A", "M10A", "M14"}
    assert measures["M07"].one_time_components == ("startup",)
    assert {c for c, m in measures.items() if m.annual_cap} == {
        "M06",
        "M09B",
        "M10B",
        "M12",
        "M13",
        "M16",
    }
    assert {c for c, m in measures.items() if m.waived_general_facts} == {"M13", "M14", "M15"}
    assert {c: m.kind for c, m in measures.items() if m.kind != "computed"} == {
        "M03": "discretionary",
        "M11": "discretionary",
        "M15": "external",
    }
    assert measures["M09A"].scope_fact == "store_id"
    assert measures["M10B"].scope_fact == "warehouse_id"


def test_article_texts_are_verbatim_from_the_policy(data: dict[str, Any]) -> None:
    text = POLICY_TEXT.read_text(encoding="utf-8")
    for measure in data["measures"]:
        assert measure["article_text_en"] in text, measure["code"]
        assert "(Responsible unit" in measure["article_text_en"], measure["code"]
        assert measure["article_text_zh_is_translation"] is True
    for article in data["articles"]:
        assert article["article_text_en"] in text, article["clause"]


def test_facts(catalogue: Catalogue) -> None:
    facts = catalogue.facts
    general = {n for n, f in facts.items() if f.scope == "general"}
    assert general == {
        "entity_type",
        "registered_in_hengyang",
        "pays_taxes",
        "independent_legal_person",
        "has_cbec_performance",
        "in_customs_cbec_statistics",
        "year",
    }
    assert len(catalogue.entity_types) == 8
    optional = {n for n, f in facts.items() if not f.required}
    assert optional == {"year", "lpr_rate", "had_cbec_exports_before"}
    # The M12 rate rule: applicants never declare the rate; I-12: the form asks yes or no.
    assert {n for n, f in facts.items() if f.reviewer_only} == {"lpr_rate"}
    assert {n for n, f in facts.items() if f.answer_required} == {"had_cbec_exports_before"}
    for fact in facts.values():
        if fact.kind in ("money_cny", "money_usd"):
            assert fact.maximum == Decimal(10) ** 12, fact.name
        if fact.kind == "area_sqm":
            assert fact.maximum == Decimal(10) ** 7, fact.name
        if fact.kind == "rate":
            assert fact.maximum == 1
        if fact.kind == "int" and fact.name not in ("year", "loan_days"):
            assert fact.maximum == 1_000_000, fact.name


def test_parameters_are_dated_and_cite_clauses(catalogue: Catalogue, data: dict[str, Any]) -> None:
    for raw in data["parameters"]:
        assert raw["clause"], raw["key"]
        for value in raw["values"]:
            assert isinstance(value["value"], str), raw["key"]
        if raw["kind"] == "threshold":
            assert raw["comparison"] in ("gt", "ge"), raw["key"]
    lpr = catalogue.parameters["M12.lpr_one_year"]
    assert lpr.clause == "II(6)2"
    assert lpr.value_on(date(2025, 5, 19)).value == Decimal("0.0310")  # type: ignore[union-attr]
    assert lpr.value_on(date(2025, 5, 20)).value == Decimal("0.0300")  # type: ignore[union-attr]
    assert lpr.value_on(date(2024, 10, 20)) is None
    assert catalogue.parameters["M12.interest_share"].values[0].value == Decimal("0.20")
    # The comparisons the wording decides ("reaches" is inclusive, everything else strict).
    inclusive = {k for k, p in catalogue.parameters.items() if p.comparison == "ge"}
    assert inclusive == {
        "M01.tier1.volume_threshold_usd",
        "M01.tier2.volume_threshold_usd",
        "M07.volume_threshold_usd",
    }


def test_reference_lists(catalogue: Catalogue) -> None:
    assert set(catalogue.responsible_units) == {
        "commerce_bureau",
        "finance_bureau",
        "hitech_zone_committee",
        "bonded_zone_committee",
        "taxation_bureau",
        "customs",
        "pboc_hengyang",
        "hrss_bureau",
        "vocational_colleges",
    }
    assert set(catalogue.fund_sources) == {"provincial_special", "municipal_matching"}
    assert all(s["clause"] == "III" for s in catalogue.fund_sources.values())
    names = {p["name_zh"] for p in catalogue.places.values()}
    assert {
        "雁峰区",
        "珠晖区",
        "石鼓区",
        "蒸湘区",
        "南岳区",
        "衡阳县",
        "衡南县",
        "衡山县",
        "衡东县",
        "祁东县",
        "耒阳市",
        "常宁市",
        "衡阳高新技术产业开发区",
        "衡阳综合保税区",
    } == names
    zips = {c for c, e in catalogue.evidence_types.items() if e["allows_zip"]}
    assert "incubated_enterprises_list" in zips and "business_licence" not in zips
    groups = catalogue.overlap_groups
    assert groups["volume_reward"].measures == ("M05", "M08")
    assert groups["training"].measures == ("M13", "M15")
    assert all(g.clause == "III" and g.interpretation == "I-6" for g in groups.values())
    assert set(catalogue.interpretations) == {f"I-{n}" for n in range(1, 13)}
    assert catalogue.interpretations["I-9"].applies_to == ("M07",)
    assert catalogue.measures["M07"].component_annual_caps == {"rent": "M07.rent_cap_cny"}
    assert catalogue.measures["M06"].annual_cap_interpretation == "I-10"
    assert catalogue.measures["M04"].same_year_notice == "I-11"
    assert catalogue.first_performance_year == 2025
    assert catalogue.interpretations["I-5"].clauses == ("III",)
    assert "II(6)2" in catalogue.interpretations["I-2"].clauses


# -- what from_data refuses --------------------------------------------------------------------


def test_refuses_a_parameter_without_clause(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        del item(d["parameters"], "key", "M04.rate")["clause"]

    with pytest.raises(CatalogueError, match=r"M04\.rate.*no clause"):
        build(data, change)


def test_refuses_a_parameter_citing_an_unknown_clause(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["parameters"], "key", "M04.rate")["clause"] = "II(9)9"

    with pytest.raises(CatalogueError, match=re.escape("II(9)9")):
        build(data, change)


def test_refuses_overlapping_dates(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        values = item(d["parameters"], "key", "M12.lpr_one_year")["values"]
        values[0]["effective_to"] = date(2025, 5, 20)  # the next value starts on 2025-05-20

    with pytest.raises(CatalogueError, match=r"M12\.lpr_one_year.*overlap"):
        build(data, change)


def test_refuses_two_open_ended_values(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        values = item(d["parameters"], "key", "M16.rate")["values"]
        values.append({"value": "0.20", "effective_from": date(2026, 1, 1), "effective_to": None})

    with pytest.raises(CatalogueError, match=r"M16\.rate.*overlap"):
        build(data, change)


def test_refuses_an_unknown_measure_in_an_overlap_group(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["overlap_groups"], "code", "training")["measures"].append("M99")

    with pytest.raises(CatalogueError, match=r"training.*M99"):
        build(data, change)


def test_refuses_an_unknown_external_policy_in_an_overlap_group(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["overlap_groups"], "code", "training")["external_policies"].append("HY-NOPE")

    with pytest.raises(CatalogueError, match="HY-NOPE"):
        build(data, change)


def test_refuses_a_threshold_without_comparison(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        del item(d["parameters"], "key", "M05.tier_mid.threshold_usd")["comparison"]

    with pytest.raises(CatalogueError, match=r"M05\.tier_mid\.threshold_usd.*comparison"):
        build(data, change)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("facts", ["cbec_export_volume"], "unknown fact 'cbec_export_volume'"),
        ("entity_types", ["company"], "unknown entity type 'company'"),
        ("responsible_units", ["police"], "unknown responsible unit 'police'"),
        ("evidence_types", ["photo"], "unknown evidence type 'photo'"),
    ],
)
def test_refuses_a_measure_with_unknown_references(
    data: dict[str, Any], field: str, value: list[str], message: str
) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["measures"], "code", "M05")[field] = value

    with pytest.raises(CatalogueError, match=f"M05.*{message}"):
        build(data, change)


def test_refuses_a_missing_parameter_a_rule_reads(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        d["parameters"] = [p for p in d["parameters"] if p["key"] != "M16.rate"]

    with pytest.raises(CatalogueError, match=r"M16.*M16\.rate"):
        build(data, change)


def test_refuses_a_float_parameter_value(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["parameters"], "key", "M16.rate")["values"][0]["value"] = 0.1

    with pytest.raises(CatalogueError, match=r"M16\.rate"):
        build(data, change)


def test_refuses_a_key_defined_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("places: []\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("places: []\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="places"):
        load_catalogue_dir(tmp_path)


# -- data, not code ------------------------------------------------------------------------------


def test_no_value_in_force_makes_the_assessment_ineligible(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        values = item(d["parameters"], "key", "M05.tier_mid.amount_cny")["values"]
        values[0]["effective_to"] = date(2026, 1, 1)

    catalogue = build(data, change)
    facts = {**GENERAL, "cbec_export_volume_usd": "600000"}
    result = assess(catalogue, "M05", facts, Context(on_date=date(2026, 6, 1)))
    assert not result.eligible
    assert result.to_dict()["amount_cny"] == "0.00"
    assert any("M05.tier_mid.amount_cny" in r.text_en for r in result.reasons)
    earlier = assess(catalogue, "M05", {**facts, "year": 2025}, Context(on_date=date(2025, 12, 31)))
    assert earlier.eligible and earlier.amount_cny == Decimal("100000.00")


def test_a_linked_external_policy_counts_in_its_overlap_group(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        d["external_policies"] = [
            {
                "code": "HY-EXPORT-2024",
                "title_zh": "衡阳市外贸奖励",
                "title_en": "Hengyang export reward",
            }
        ]
        item(d["overlap_groups"], "code", "volume_reward")["external_policies"] = ["HY-EXPORT-2024"]

    catalogue = build(data, change)
    facts = {**GENERAL, "cbec_export_volume_usd": "600000"}
    award = PriorAward("HY-EXPORT-2024", 2026, Decimal("60000.00"), reference="EXT-1")
    result = assess(catalogue, "M05", facts, Context(date(2026, 6, 1), (award,)))
    assert result.amount_cny == Decimal("40000.00")
    assert any("HY-EXPORT-2024 2026 CNY 60,000.00 (ref. EXT-1)" in s.text_en for s in result.trace)


def test_an_inline_external_policy_is_accepted(data: dict[str, Any]) -> None:
    def change(d: dict[str, Any]) -> None:
        item(d["overlap_groups"], "code", "training")["external_policies"] = [
            {"code": "HY-SKILLS", "title_zh": "技能培训补贴", "title_en": "Skills training subsidy"}
        ]

    assert "HY-SKILLS" in build(data, change).known_award_codes


def test_an_interpretation_changes_with_its_data(data: dict[str, Any]) -> None:
    """I-2 lives in a parameter: a policy office that disagrees changes data, not code."""

    def change(d: dict[str, Any]) -> None:
        param = item(d["parameters"], "key", "M12.premium_rate_small_micro_single_window")
        param["values"][0]["value"] = "0.50"

    facts = {
        **GENERAL,
        "premium_cny": "100000",
        "small_micro": True,
        "insured_via_single_window": True,
        "loan_principal_cny": "0",
        "loan_interest_paid_cny": "0",
        "loan_days": 0,
    }
    context = Context(on_date=date(2026, 6, 1))
    default = assess(Catalogue.from_data(data), "M12", facts, context)
    changed = assess(build(data, change), "M12", facts, context)
    assert not default.eligible
    assert changed.amount_cny == Decimal("50000.00")
    assert changed.rules_version != default.rules_version
