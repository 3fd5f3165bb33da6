"""A renewal of the policy loaded next to the 2025 version (the sample HY-CBEC-2027)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from policies.engine import PriorAward, UnknownMeasure
from policies.models import Interpretation, Measure, Parameter, Policy
from policies.services import assess_measure, bump_catalogue_version, current_versions

from .renewal import RENEWAL, load_renewal, write_renewal_tree

pytestmark = pytest.mark.django_db

GENERAL = {
    "entity_type": "enterprise",
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
}
M16 = {**GENERAL, "social_security_paid_cny": "600000"}


def test_the_renewal_loads_next_to_2025_with_codes_unique_per_version(renewal, tmp_path):
    assert list(Policy.objects.values_list("code", flat=True)) == ["HY-CBEC-2025", RENEWAL]
    assert Measure.objects.filter(policy__code="HY-CBEC-2025").count() == 18
    assert Measure.objects.filter(policy__code=RENEWAL).count() == 17
    assert Measure.objects.filter(code="M05").count() == 2
    assert not Measure.objects.filter(policy__code=RENEWAL, code="M10A").exists()
    assert Parameter.objects.filter(key="M16.rate").count() == 2
    assert Interpretation.objects.filter(code="I-9").count() == 2
    # Loading again changes nothing.
    before = (Measure.objects.count(), Parameter.objects.count(), Interpretation.objects.count())
    load_renewal(tmp_path / "again")
    after = (Measure.objects.count(), Parameter.objects.count(), Interpretation.objects.count())
    assert after == before


def test_the_version_in_force_on_the_reference_date_assesses(renewal):
    old = assess_measure("M16", {**M16, "year": 2026}, on_date=date(2026, 6, 1))
    assert old.policy == "HY-CBEC-2025" and old.amount_cny == Decimal("60000.00")
    new = assess_measure("M16", {**M16, "year": 2027}, on_date=date(2027, 4, 1))
    assert new.policy == RENEWAL and new.amount_cny == Decimal("90000.00")
    assert any("15%" in step.text_en for step in new.trace)
    # An application of 2025 keeps its rules when assessed with its own version and date.
    kept = assess_measure(
        "M16", {**M16, "year": 2027}, on_date=date(2027, 3, 20), policy="HY-CBEC-2025"
    )
    assert kept.policy == "HY-CBEC-2025" and kept.amount_cny == Decimal("60000.00")


def test_between_versions_nothing_is_in_force_and_the_reason_names_both(renewal):
    result = assess_measure("M16", {**M16, "year": 2027}, on_date=date(2027, 3, 28))
    assert not result.eligible
    (reason,) = [r.text_en for r in result.reasons if r.interpretation == "I-5"]
    assert "HY-CBEC-2025 ended on 2027-03-24" in reason
    assert f"{RENEWAL} takes effect on 2027-04-01" in reason


def test_a_dropped_measure_is_unknown_in_the_renewal(renewal):
    facts = {
        **GENERAL,
        "year": 2027,
        "provincial_public_warehouse": True,
        "registered_with_hengyang_customs": True,
    }
    with pytest.raises(UnknownMeasure):
        assess_measure("M10A", facts, on_date=date(2027, 4, 1))
    assert assess_measure("M10A", {**facts, "year": 2026}, on_date=date(2026, 6, 1)).eligible


def test_one_time_rewards_count_within_a_version_unless_the_renewal_says_otherwise(
    catalogue, tmp_path
):
    m05 = {**GENERAL, "year": 2027, "cbec_export_volume_usd": "600000"}
    earlier = PriorAward("M05", 2026, Decimal("100000.00"), policy="HY-CBEC-2025")
    load_renewal(tmp_path / "a")
    try:
        apart = assess_measure("M05", m05, on_date=date(2027, 4, 1), prior_awards=[earlier])
        assert apart.policy == RENEWAL and apart.eligible
        # The same award under 2025 bars a second 2025 application (I-3 within its version).
        same = assess_measure(
            "M05", {**m05, "year": 2026}, on_date=date(2026, 6, 1), prior_awards=[earlier]
        )
        assert not same.eligible
    finally:
        bump_catalogue_version()


def test_a_renewal_may_count_earlier_one_time_awards(catalogue, tmp_path):
    m05 = {**GENERAL, "year": 2027, "cbec_export_volume_usd": "600000"}
    earlier = PriorAward("M05", 2026, Decimal("100000.00"), policy="HY-CBEC-2025")
    load_renewal(tmp_path, one_time_counts_earlier=True)
    try:
        result = assess_measure("M05", m05, on_date=date(2027, 4, 1), prior_awards=[earlier])
        assert not result.eligible
        assert "HY-CBEC-2025" in result.reasons[0].text_en
    finally:
        bump_catalogue_version()


def test_annual_caps_and_overlaps_count_the_year_across_versions(renewal):
    # A 2027 M16 award made under 2025 (filed 2027-03-20) counts against the 2027 cap.
    prior = PriorAward("M16", 2027, Decimal("70000.00"), policy="HY-CBEC-2025")
    result = assess_measure(
        "M16", {**M16, "year": 2027}, on_date=date(2027, 4, 1), prior_awards=[prior]
    )
    assert result.policy == RENEWAL and result.amount_cny == Decimal("30000.00")
    # An M08 award of 2027 under 2025 counts in the volume overlap group under 2027.
    m08 = PriorAward("M08", 2027, Decimal("60000.00"), policy="HY-CBEC-2025")
    m05 = {**GENERAL, "year": 2027, "cbec_export_volume_usd": "600000"}
    overlap = assess_measure("M05", m05, on_date=date(2027, 4, 1), prior_awards=[m08])
    assert overlap.amount_cny == Decimal("40000.00")


def test_overlapping_versions_are_refused(catalogue, tmp_path):
    import yaml
    from django.core.management import CommandError

    directory = write_renewal_tree(tmp_path / "catalogue")
    path = directory / RENEWAL / "catalogue.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["policy"]["valid_from"] = date(2027, 3, 1)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CommandError, match="overlaps"):
        call_command("load_policy", directory=directory, verbosity=0)
    assert not Policy.objects.filter(code=RENEWAL).exists()
    assert len(current_versions()) == 1
