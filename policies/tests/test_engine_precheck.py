"""precheck: what the engine can say from an applicant's profile alone."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from policies.engine import Catalogue, Context, FactError, PriorAward, load_catalogue_dir, precheck

CATALOGUE = Catalogue.from_data(
    load_catalogue_dir(Path(__file__).resolve().parents[1] / "catalogue" / "HY-CBEC-2025")
)
PROFILE = {
    "entity_type": "enterprise",
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
}
ON = Context(on_date=date(2026, 6, 1))


def test_a_complete_profile_may_apply_without_an_amount():
    result = precheck(CATALOGUE, "M05", PROFILE, ON)
    assert result.eligible
    assert result.amount_cny is None and result.cap_cny is None
    assert any(step.clause == "I" for step in result.trace)


def test_a_missing_condition_is_a_reason_citing_clause_i():
    result = precheck(CATALOGUE, "M05", {**PROFILE, "in_customs_cbec_statistics": False}, ON)
    assert not result.eligible
    assert any(reason.clause == "I" for reason in result.reasons)


def test_the_i1_waiver_lets_a_training_measure_through():
    profile = {**PROFILE, "has_cbec_performance": False, "in_customs_cbec_statistics": False}
    assert precheck(CATALOGUE, "M13", profile, ON).eligible
    assert not precheck(CATALOGUE, "M06", profile, ON).eligible


def test_a_type_the_measure_does_not_admit_is_refused():
    assert not precheck(CATALOGUE, "M01", PROFILE, ON).eligible
    assert precheck(CATALOGUE, "M01", {**PROFILE, "entity_type": "park_operator"}, ON).eligible


def test_a_one_time_reward_already_received_is_named():
    earlier = PriorAward("M05", 2025, Decimal("20000.00"), reference="HY-CBEC-2025-000007")
    result = precheck(CATALOGUE, "M05", PROFILE, Context(date(2026, 6, 1), (earlier,)))
    assert not result.eligible
    assert "HY-CBEC-2025-000007" in result.reasons[0].text_en


def test_outside_the_validity_period_nothing_may_be_applied_for():
    assert not precheck(CATALOGUE, "M05", PROFILE, Context(on_date=date(2027, 3, 25))).eligible


def test_an_incomplete_profile_is_an_input_error():
    with pytest.raises(FactError, match="pays_taxes"):
        precheck(CATALOGUE, "M05", {k: v for k, v in PROFILE.items() if k != "pays_taxes"}, ON)
