"""Property-based tests over every computed measure (hypothesis)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import (
    Catalogue,
    Context,
    FactError,
    PriorAward,
    Result,
    assess,
    load_catalogue_dir,
)

CATALOGUE = Catalogue.from_data(
    load_catalogue_dir(Path(__file__).resolve().parents[1] / "catalogue" / "HY-CBEC-2025")
)
ON_DATE = date(2026, 6, 1)
TWO_DECIMALS = re.compile(r"\d+\.\d{2}\Z")
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GENERAL = {
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "year": 2026,
}


def money(max_value: int = 2_000_000_000) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=max_value, places=2)


def area() -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=10_000, places=2)


def count(max_value: int = 40) -> st.SearchStrategy[int]:
    return st.integers(min_value=0, max_value=max_value)


# Each computed measure: an admitted entity type, strategies for its facts, and the facts that
# are a base the amount grows with (for the monotonicity property).
MEASURES: dict[str, tuple[str, dict[str, st.SearchStrategy[Any]], tuple[str, ...]]] = {
    "M01": (
        "park_operator",
        {
            "park_recognised": st.booleans(),
            "new_cbec_enterprises": count(),
            "park_cbec_volume_usd": money(200_000_000),
        },
        ("new_cbec_enterprises", "park_cbec_volume_usd"),
    ),
    "M02": (
        "enterprise",
        {"integrates_required_functions": st.booleans(), "incubated_enterprises": count()},
        ("incubated_enterprises",),
    ),
    "M04": ("enterprise", {"eligible_expenditure_cny": money()}, ("eligible_expenditure_cny",)),
    "M05": (
        "enterprise",
        {"cbec_export_volume_usd": money(3_000_000)},
        ("cbec_export_volume_usd",),
    ),
    "M06": (
        "enterprise",
        {
            "promotion_expenses_cny": money(1_000_000),
            "new_store": st.booleans(),
            "settlement_fee_cny": money(1_000_000),
        },
        ("promotion_expenses_cny", "settlement_fee_cny"),
    ),
    "M07": (
        "enterprise",
        {
            "newly_settled_in_recognised_park": st.booleans(),
            "leased_area_sqm": area(),
            "cbec_volume_usd": money(500_000),
            "annual_rent_cny": money(1_000_000),
            "startup_costs_cny": money(200_000),
        },
        ("leased_area_sqm", "cbec_volume_usd", "annual_rent_cny", "startup_costs_cny"),
    ),
    "M08": (
        "enterprise",
        {"introduced_this_year": st.booleans(), "cbec_volume_usd": money(300_000_000)},
        ("cbec_volume_usd",),
    ),
    "M09A": (
        "enterprise",
        {"store_business_area_sqm": area(), "store_id": st.sampled_from(["S-1", "S-2"])},
        ("store_business_area_sqm",),
    ),
    "M09B": ("enterprise", {"new_community_stores": count(20)}, ("new_community_stores",)),
    "M10A": (
        "enterprise",
        {
            "provincial_public_warehouse": st.booleans(),
            "registered_with_hengyang_customs": st.booleans(),
        },
        (),
    ),
    "M10B": (
        "enterprise",
        {
            "warehouse_id": st.sampled_from(["W-1", "W-2"]),
            "warehouse_area_sqm": area(),
            "annual_lease_cost_cny": money(1_000_000),
        },
        ("warehouse_area_sqm", "annual_lease_cost_cny"),
    ),
    "M12": (
        "enterprise",
        {
            "premium_cny": money(1_000_000),
            "small_micro": st.booleans(),
            "insured_via_single_window": st.booleans(),
            "loan_principal_cny": money(100_000_000),
            "loan_interest_paid_cny": money(1_000_000),
            "loan_days": st.integers(min_value=0, max_value=366),
        },
        ("premium_cny", "loan_principal_cny", "loan_interest_paid_cny", "loan_days"),
    ),
    "M13": (
        "enterprise",
        {"traditional_foreign_trade_enterprise": st.booleans(), "training_expenses_cny": money()},
        ("training_expenses_cny",),
    ),
    "M14": (
        "vocational_college",
        {"certified_talent_base": st.booleans(), "documented_costs_cny": money()},
        ("documented_costs_cny",),
    ),
    "M16": ("enterprise", {"social_security_paid_cny": money()}, ("social_security_paid_cny",)),
}

# The most the text allows per application (CNY), read from the policy, not from the engine.
MAXIMUM = {
    "M01": Decimal(1_000_000),
    "M02": Decimal(500_000),
    "M04": Decimal(500_000),
    "M05": Decimal(500_000),
    "M06": Decimal(200_000),
    "M07": Decimal(150_000),
    "M08": Decimal(1_000_000),
    "M09A": Decimal(300_000),
    "M09B": Decimal(400_000),
    "M10A": Decimal(200_000),
    "M10B": Decimal(200_000),
    "M12": Decimal(300_000),
    "M13": Decimal(50_000),
    "M14": Decimal(200_000),
    "M16": Decimal(100_000),
}


def _component(result: Result, name: str) -> Decimal:
    return next((c.amount_cny for c in result.components if c.name == name), Decimal(0))


# For percentage and cost-based measures: (what is bounded, what bounds it).
SHARE_BOUNDS: dict[str, Callable[[Result, dict[str, Any]], list[tuple[Decimal, Decimal]]]] = {
    "M04": lambda r, f: [(r.amount_cny, f["eligible_expenditure_cny"])],
    "M06": lambda r, f: [
        (_component(r, "promotion"), f["promotion_expenses_cny"]),
        (_component(r, "settlement"), f["settlement_fee_cny"] if f["new_store"] else Decimal(0)),
    ],
    "M07": lambda r, f: [
        (_component(r, "rent"), f["annual_rent_cny"]),
        (_component(r, "startup"), f["startup_costs_cny"]),
    ],
    "M10B": lambda r, f: [(r.amount_cny, f["annual_lease_cost_cny"])],
    "M12": lambda r, f: [
        (_component(r, "premium"), f["premium_cny"]),
        (_component(r, "interest"), f["loan_interest_paid_cny"]),
    ],
    "M13": lambda r, f: [(r.amount_cny, f["training_expenses_cny"])],
    "M14": lambda r, f: [(r.amount_cny, f["documented_costs_cny"])],
    "M16": lambda r, f: [(r.amount_cny, f["social_security_paid_cny"])],
}


def facts_for(code: str) -> st.SearchStrategy[dict[str, Any]]:
    entity_type, strategies, _ = MEASURES[code]
    return st.fixed_dictionaries(strategies).map(
        lambda facts: {**GENERAL, "entity_type": entity_type, **facts}
    )


def prior_awards(code: str) -> st.SearchStrategy[tuple[PriorAward, ...]]:
    codes = [code, *(m for g in CATALOGUE.measures[code].overlap_groups for m in g.measures)]
    award = st.builds(
        PriorAward,
        measure=st.sampled_from(codes),
        year=st.sampled_from([2025, 2026]),
        amount_cny=st.decimals(min_value=0, max_value=600_000, places=2),
        warehouse_id=st.sampled_from([None, "W-1", "W-2"]),
        store_id=st.sampled_from([None, "S-1", "S-2"]),
    )
    return st.lists(award, max_size=3).map(tuple)


def amount(result: Result) -> Decimal:
    """Ineligible counts as 0 for comparisons."""
    return result.amount_cny if result.eligible and result.amount_cny is not None else Decimal(0)


def run(code: str, facts: dict[str, Any], awards: tuple[PriorAward, ...] = ()) -> Result:
    return assess(CATALOGUE, code, facts, Context(on_date=ON_DATE, prior_awards=awards))


def test_the_measure_table_covers_every_computed_measure() -> None:
    computed = {c for c, m in CATALOGUE.measures.items() if m.kind == "computed"}
    assert computed == set(MEASURES) == set(MAXIMUM)


@pytest.mark.parametrize("code", sorted(MEASURES))
@SETTINGS
@given(data=st.data())
def test_amount_is_never_negative_never_above_cap_and_has_two_decimals(
    code: str, data: st.DataObject
) -> None:
    facts = data.draw(facts_for(code))
    awards = data.draw(prior_awards(code))
    result = run(code, facts, awards)
    out = result.to_dict()
    assert TWO_DECIMALS.match(out["amount_cny"]) and TWO_DECIMALS.match(out["cap_cny"])
    assert result.amount_cny is not None
    assert result.amount_cny.as_tuple().exponent == -2
    assert result.cap_cny == result.amount_cny
    assert Decimal(0) <= result.amount_cny <= MAXIMUM[code]
    if result.eligible:
        assert result.amount_cny > 0
        assert sum(c.amount_cny for c in result.components) == result.amount_cny
        assert all(c.amount_cny >= 0 for c in result.components)
    else:
        assert result.amount_cny == 0 and result.reasons


@pytest.mark.parametrize("code", sorted(SHARE_BOUNDS))
@SETTINGS
@given(data=st.data())
def test_amount_is_never_above_the_base_it_is_a_share_of(code: str, data: st.DataObject) -> None:
    facts = data.draw(facts_for(code))
    result = run(code, facts)
    if not result.eligible:
        return
    for part, base in SHARE_BOUNDS[code](result, facts):
        # Rounding half up can lift a half fen of a 0.01 base to 0.01, never above the base.
        assert part <= base


@pytest.mark.parametrize("code", sorted(c for c, (_, _, bases) in MEASURES.items() if bases))
@SETTINGS
@given(data=st.data())
def test_amount_never_decreases_when_a_base_grows(code: str, data: st.DataObject) -> None:
    facts = data.draw(facts_for(code))
    awards = data.draw(prior_awards(code))
    _, _, bases = MEASURES[code]
    name = data.draw(st.sampled_from(bases))
    grown = dict(facts)
    if isinstance(facts[name], int):
        grown[name] = min(facts[name] + data.draw(st.integers(0, 30)), _maximum(name))
    else:
        step = data.draw(st.decimals(min_value=0, max_value=100_000_000, places=2))
        grown[name] = min(facts[name] + step, _maximum(name))
    assert amount(run(code, grown, awards)) >= amount(run(code, facts, awards))


def _maximum(name: str) -> Any:
    maximum = CATALOGUE.facts[name].maximum
    assert maximum is not None
    return int(maximum) if CATALOGUE.facts[name].kind == "int" else maximum


@pytest.mark.parametrize(
    ("code", "fact", "rate", "cap"),
    [
        ("M04", "eligible_expenditure_cny", Decimal("0.50"), Decimal(500_000)),
        ("M16", "social_security_paid_cny", Decimal("0.10"), Decimal(100_000)),
        ("M10B", "annual_lease_cost_cny", Decimal("0.50"), Decimal(200_000)),
    ],
)
@SETTINGS
@given(base=st.decimals(min_value="0.01", max_value=100_000, places=2))
def test_percentages_round_half_up_to_the_fen(
    code: str, fact: str, rate: Decimal, cap: Decimal, base: Decimal
) -> None:
    entity_type, _, _ = MEASURES[code]
    facts = {**GENERAL, "entity_type": entity_type, fact: base}
    if code == "M10B":
        facts |= {"warehouse_id": "W-1", "warehouse_area_sqm": "1500"}
    expected = min((base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), cap)
    assert amount(run(code, facts)) == expected


@pytest.mark.parametrize(
    ("code", "fact", "value", "expected"),
    [
        ("M04", "eligible_expenditure_cny", "0.01", "0.01"),  # 0.005 -> 0.01
        ("M04", "eligible_expenditure_cny", "1.01", "0.51"),  # 0.505 -> 0.51, not 0.50
        ("M16", "social_security_paid_cny", "0.05", "0.01"),  # 0.005 -> 0.01
        ("M16", "social_security_paid_cny", "1.25", "0.13"),  # 0.125 -> 0.13, not 0.12
    ],
)
def test_half_a_fen_rounds_up(code: str, fact: str, value: str, expected: str) -> None:
    facts = {**GENERAL, "entity_type": "enterprise", fact: value}
    assert run(code, facts).to_dict()["amount_cny"] == expected


BAD_NUMBERS = [
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "sNaN",
    "-1",
    "-0.01",
    "1,000",
    "1 000",
    "1e5",
    "",
    "abc",
    True,
    False,
    1.5,
    float("nan"),
    float("inf"),
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-1"),
    Decimal("1E+20"),
    10**20,
    "100000000000000000000",
    None,
    [],
    {},
]


@pytest.mark.parametrize("raw", BAD_NUMBERS, ids=[repr(v) for v in BAD_NUMBERS])
def test_money_parsing_rejects_bad_numbers(raw: Any) -> None:
    facts = {**GENERAL, "entity_type": "enterprise", "social_security_paid_cny": raw}
    with pytest.raises(FactError) as raised:
        run("M16", facts)
    assert raised.value.fact == "social_security_paid_cny"
    assert "M16" in str(raised.value) and "social_security_paid_cny" in str(raised.value)


@SETTINGS
@given(
    raw=st.decimals(min_value=Decimal("1000000000000.01"), max_value=Decimal(10) ** 25, places=2)
)
def test_money_parsing_rejects_values_above_the_maximum(raw: Decimal) -> None:
    for value in (raw, str(raw)):
        facts = {**GENERAL, "entity_type": "enterprise", "social_security_paid_cny": value}
        with pytest.raises(FactError):
            run("M16", facts)


@SETTINGS
@given(value=st.decimals(min_value=0, max_value=10**12, places=2))
def test_money_parsing_reads_the_text_exactly(value: Decimal) -> None:
    facts = {**GENERAL, "entity_type": "enterprise", "eligible_expenditure_cny": str(value)}
    from_text = run("M04", facts)
    facts["eligible_expenditure_cny"] = value
    assert run("M04", facts).amount_cny == from_text.amount_cny


@SETTINGS
@given(raw=st.one_of(st.booleans(), st.floats(), st.text(max_size=8)))
def test_int_facts_reject_non_integers(raw: Any) -> None:
    if isinstance(raw, str) and raw.strip().isdigit() and raw.strip().isascii():
        return
    facts = {**GENERAL, "entity_type": "enterprise", "new_community_stores": raw}
    with pytest.raises(FactError):
        run("M09B", facts)
