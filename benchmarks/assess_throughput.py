"""Assessments per second of the rules engine in one process.

    .venv/bin/python benchmarks/assess_throughput.py [--n 10000] [--no-to-dict]

Runs `n` mixed assessments (every measure, eligible and ineligible, with and without earlier
awards) built beforehand, so the figure is the engine's: `assess` plus `Result.to_dict`.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from policies.engine import (  # noqa: E402
    Context,
    PolicyVersions,
    PriorAward,
    assess,
    load_catalogue_tree,
)

GENERAL = {
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "has_cbec_performance": True,
    "in_customs_cbec_statistics": True,
    "year": 2026,
}

# measure -> (entity type, facts)
SAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "M01": (
        "park_operator",
        {"park_recognised": True, "new_cbec_enterprises": 21, "park_cbec_volume_usd": "50000000"},
    ),
    "M02": ("enterprise", {"integrates_required_functions": True, "incubated_enterprises": 11}),
    "M03": ("enterprise", {"platform_kind": "trading_platform", "eligible_expenses_cny": "80000"}),
    "M04": ("enterprise", {"eligible_expenditure_cny": "600000"}),
    "M05": ("enterprise", {"cbec_export_volume_usd": "600000"}),
    "M06": (
        "enterprise",
        {"promotion_expenses_cny": "300000", "new_store": True, "settlement_fee_cny": "20000"},
    ),
    "M07": (
        "enterprise",
        {
            "newly_settled_in_recognised_park": True,
            "leased_area_sqm": "150",
            "cbec_volume_usd": "150000",
            "annual_rent_cny": "200000",
            "startup_costs_cny": "60000",
        },
    ),
    "M08": ("enterprise", {"introduced_this_year": True, "cbec_volume_usd": "120000000"}),
    "M09A": ("enterprise", {"store_business_area_sqm": "1200", "store_id": "S-1"}),
    "M09B": ("enterprise", {"new_community_stores": 3}),
    "M10A": (
        "enterprise",
        {"provincial_public_warehouse": True, "registered_with_hengyang_customs": True},
    ),
    "M10B": (
        "enterprise",
        {"warehouse_id": "W-1", "warehouse_area_sqm": "1500", "annual_lease_cost_cny": "300000"},
    ),
    "M11": ("industry_association", {"approved_by_commerce_bureau": True, "expenses_cny": "80000"}),
    "M12": (
        "enterprise",
        {
            "premium_cny": "100000",
            "small_micro": False,
            "insured_via_single_window": False,
            "loan_principal_cny": "1000000",
            "loan_interest_paid_cny": "40000",
            "loan_days": 365,
        },
    ),
    "M13": (
        "enterprise",
        {"traditional_foreign_trade_enterprise": True, "training_expenses_cny": "30000"},
    ),
    "M14": (
        "vocational_college",
        {"certified_talent_base": True, "documented_costs_cny": "150000"},
    ),
    "M15": (
        "training_institution",
        {"registration_date": "2026-03-01", "training_start_date": "2026-04-01"},
    ),
    "M16": ("enterprise", {"social_security_paid_cny": "500000"}),
}


def build_requests(n: int, seed: int = 7) -> list[tuple[str, dict[str, Any], Context]]:
    """n requests cycling through the measures, a third of them with earlier awards."""
    rng = random.Random(seed)
    codes = sorted(SAMPLES)
    requests = []
    for index in range(n):
        code = codes[index % len(codes)]
        entity_type, facts = SAMPLES[code]
        facts = {**GENERAL, "entity_type": entity_type, **facts}
        if index % 5 == 4:
            facts["pays_taxes"] = False  # some ineligible ones
        awards: tuple[PriorAward, ...] = ()
        if index % 3 == 0:
            awards = (
                PriorAward(
                    code,
                    rng.choice([2025, 2026]),
                    Decimal(rng.randrange(1, 300_000)),
                    warehouse_id="W-1",
                    store_id="S-2",
                    reference=f"R-{index}",
                ),
                PriorAward("M08" if code == "M05" else "M15", 2026, Decimal("30000.00")),
            )
        on_date = date(2026, 6, 1) if index % 7 else date(2025, 4, 1)
        requests.append((code, facts, Context(on_date=on_date, prior_awards=awards)))
    return requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of assessments")
    parser.add_argument("--no-to-dict", action="store_true", help="time assess() alone")
    args = parser.parse_args()

    catalogue = PolicyVersions.from_data(
        load_catalogue_tree(ROOT / "policies" / "catalogue")
    ).latest
    requests = build_requests(args.n)
    for code, facts, context in requests[:100]:  # warm-up (caches, imports)
        assess(catalogue, code, facts, context).to_dict()

    eligible = 0
    start = time.perf_counter()
    for code, facts, context in requests:
        result = assess(catalogue, code, facts, context)
        if not args.no_to_dict:
            result.to_dict()
        eligible += result.eligible
    elapsed = time.perf_counter() - start

    what = "assess()" if args.no_to_dict else "assess() + to_dict()"
    print(f"{args.n} mixed assessments ({eligible} eligible), {what}: {elapsed:.3f} s")
    print(f"{args.n / elapsed:,.0f} assessments/s")


if __name__ == "__main__":
    main()
