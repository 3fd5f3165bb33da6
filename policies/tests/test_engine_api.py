"""The public interface the Django layer and the `assess` command rely on."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path

import pytest

import policies.engine as engine
from policies.engine import (
    AssessInputError,
    Catalogue,
    Context,
    FactError,
    PriorAward,
    UnknownMeasure,
    assess,
    load_catalogue_dir,
    money,
    parse_request,
)

CATALOGUE = Catalogue.from_data(
    load_catalogue_dir(Path(__file__).resolve().parents[1] / "catalogue" / "HY-CBEC-2025")
)
GENERAL = {
    "entity_type": "enterprise",
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "year": 2026,
}
M05 = {**GENERAL, "cbec_export_volume_usd": "600000"}


def test_public_names() -> None:
    for name in (
        "Catalogue",
        "CatalogueError",
        "load_catalogue_dir",
        "AssessInputError",
        "UnknownMeasure",
        "FactError",
        "Context",
        "PriorAward",
        "Result",
        "assess",
        "parse_request",
        "money",
    ):
        assert hasattr(engine, name), name
    assert issubclass(UnknownMeasure, AssessInputError)
    assert issubclass(FactError, AssessInputError)
    assert list(inspect.signature(assess).parameters) == [
        "catalogue",
        "measure_code",
        "raw_facts",
        "context",
    ]
    assert list(inspect.signature(parse_request).parameters) == ["catalogue", "obj", "today"]


def test_errors_name_the_measure_and_fact() -> None:
    error = FactError("M05", "cbec_export_volume_usd", "is missing", "缺失")
    assert "M05" in str(error) and "cbec_export_volume_usd" in str(error)
    assert error.message_zh == "缺失"
    assert "M99" in str(UnknownMeasure("M99"))
    with pytest.raises(UnknownMeasure, match="M99"):
        assess(CATALOGUE, "M99", {}, Context(date(2026, 6, 1)))


def test_context_is_frozen_and_takes_dates_only() -> None:
    context = Context(date(2026, 6, 1))
    with pytest.raises(FrozenInstanceError):
        context.on_date = date(2026, 1, 1)  # type: ignore[misc]
    with pytest.raises(TypeError):
        Context(datetime(2026, 6, 1, 12, 0))


def test_to_dict_in_both_languages() -> None:
    result = assess(CATALOGUE, "M05", M05, Context(date(2026, 6, 1)))
    zh = result.to_dict()
    en = result.to_dict("en")
    assert zh["trace"][-1]["text"] == zh["trace"][-1]["text_zh"]
    assert en["trace"][-1]["text"] == en["trace"][-1]["text_en"]
    assert zh["components"][0]["label"] != en["components"][0]["label"]
    assert result.to_dict("zh-Hans") == zh
    with pytest.raises(ValueError, match="fr"):
        result.to_dict("fr")


def test_ineligible_reasons_in_both_languages() -> None:
    result = assess(CATALOGUE, "M05", M05, Context(date(2028, 1, 1)))
    assert result.to_dict()["reasons"][0] != result.to_dict("en")["reasons"][0]
    assert result.to_dict() | {"reasons": [], "trace": []} == {
        "measure": "M05",
        "eligible": False,
        "amount_cny": "0.00",
        "cap_cny": "0.00",
        "components": [],
        "reasons": [],
        "trace": [],
        "rules_version": result.rules_version,
        "policy": "HY-CBEC-2025",
    }


def test_rules_version_depends_on_the_parameter_values_used() -> None:
    context = Context(date(2026, 6, 1))
    first = assess(CATALOGUE, "M05", M05, context).rules_version
    assert first == assess(CATALOGUE, "M05", M05, context).rules_version
    assert len(first) == 16 and int(first, 16) >= 0
    m12 = {
        **GENERAL,
        "premium_cny": "1000",
        "small_micro": False,
        "insured_via_single_window": False,
        "loan_principal_cny": "100000",
        "loan_interest_paid_cny": "1000",
        "loan_days": 100,
    }
    m12["year"] = 2025
    before = assess(CATALOGUE, "M12", m12, Context(date(2025, 5, 19)))
    after = assess(CATALOGUE, "M12", m12, Context(date(2025, 5, 20)))
    assert before.rules_version != after.rules_version  # the LPR changed on 2025-05-20
    assert ("M12.lpr_one_year", "0.0300", "2025-05-20") in after.parameters_used


def test_parse_request_defaults_and_awards() -> None:
    code, facts, context = parse_request(
        CATALOGUE, {"measure": "M05", "facts": M05}, date(2026, 6, 1)
    )
    assert code == "M05" and context.on_date == date(2026, 6, 1) and context.prior_awards == ()
    assert facts["cbec_export_volume_usd"] == Decimal("600000")
    request = {
        "measure": "M06",
        "facts": {
            **GENERAL,
            "promotion_expenses_cny": Decimal("300000"),
            "new_store": False,
            "settlement_fee_cny": 0,
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
                    "reference": "R-9",
                }
            ],
        },
    }
    code, facts, context = parse_request(CATALOGUE, request, date(2030, 1, 1))
    assert context.prior_awards == (
        PriorAward("M06", 2026, Decimal("150000.00"), None, None, "R-9", None),
    )
    result = assess(CATALOGUE, code, facts, context)
    assert result.to_dict()["amount_cny"] == "50000.00"
    assert any("R-9" in step.text_en for step in result.trace)


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ([], "object"),
        ({"measure": 5, "facts": {}}, "measure"),
        ({"measure": "M05"}, "facts"),
        ({"measure": "M05", "facts": M05, "extra": 1}, "extra"),
        ({"measure": "M05", "facts": M05, "context": {"on_date": "2026-13-01"}}, "on_date"),
        ({"measure": "M05", "facts": M05, "context": {"on_date": 20260601}}, "on_date"),
        ({"measure": "M05", "facts": M05, "context": {"prior_awards": {}}}, "prior_awards"),
        (
            {"measure": "M05", "facts": M05, "context": {"prior_awards": [{"measure": "M05"}]}},
            "prior_awards[0].year",
        ),
        (
            {
                "measure": "M05",
                "facts": M05,
                "context": {
                    "prior_awards": [{"measure": "M05", "year": 2026, "amount_cny": "1,000"}]
                },
            },
            "prior_awards[0].amount_cny",
        ),
        (
            {
                "measure": "M05",
                "facts": M05,
                "context": {"prior_awards": [{"measure": "M05", "year": True, "amount_cny": "1"}]},
            },
            "prior_awards[0].year",
        ),
        (
            {
                "measure": "M05",
                "facts": M05,
                "context": {
                    "prior_awards": [
                        {"measure": "M05", "year": 2026, "amount_cny": "1", "store_id": 7}
                    ]
                },
            },
            "store_id",
        ),
    ],
)
def test_parse_request_names_what_is_wrong(request_: object, fragment: str) -> None:
    with pytest.raises(AssessInputError) as raised:
        parse_request(CATALOGUE, request_, date(2026, 6, 1))
    assert fragment in str(raised.value)


def test_money_helper() -> None:
    assert money(Decimal("100000")) == "100000.00"
    assert money(Decimal("0.005")) == "0.01"
    assert money(Decimal("1E+6")) == "1000000.00"


def test_the_callers_decimal_context_does_not_matter() -> None:
    facts = {**GENERAL, "social_security_paid_cny": "1.25"}
    expected = assess(CATALOGUE, "M16", facts, Context(date(2026, 6, 1))).to_dict()
    with localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = ROUND_DOWN
        assert assess(CATALOGUE, "M16", facts, Context(date(2026, 6, 1))).to_dict() == expected
    assert expected["amount_cny"] == "0.13"


def test_the_catalogue_refuses_a_rate_above_one() -> None:
    data = load_catalogue_dir(Path(__file__).resolve().parents[1] / "catalogue" / "HY-CBEC-2025")
    rate = next(p for p in data["parameters"] if p["key"] == "M16.rate")
    rate["values"][0]["value"] = "10"
    with pytest.raises(engine.CatalogueError, match=r"M16\.rate"):
        Catalogue.from_data(data)
