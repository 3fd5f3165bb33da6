"""The rule of each measure, composed of the primitives.

A rule reads its facts and its parameters (by key, at the reference date) and either records
components of the entitlement (computed measures), a cap (discretionary measures), or nothing
(M15, settled elsewhere); unmet conditions become reasons. What happens across applications
(one-time rewards, annual caps, overlap groups) is applied afterwards by `assess`, the same way
for every measure, from the catalogue's data.

Each rule's docstring cites its clause; the measure table of MEASURES.md states the formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from .numbers import grouped, percent, round_cny
from .primitives import (
    Evaluation,
    capped_amount,
    capped_rate,
    cny,
    compare,
    condition,
    per_unit_with_annual_cap,
    require_positive,
    require_true,
    share,
    sum_then_cap,
    threshold,
    tiers,
)


@dataclass(frozen=True, slots=True)
class Rule:
    """What the catalogue must provide for a measure's rule, checked when it is built."""

    kind: str
    compute: Callable[[Evaluation], None]
    parameters: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    components: tuple[str, ...] = ()


def m01_park(ev: Evaluation) -> None:
    """II(1)1: recognised park; tier 2 (more than 20 new enterprises and volume reaching
    USD 50 million) up to CNY 1,000,000, else tier 1 (more than 10, USD 20 million) up to 500,000.
    """
    require_true(ev, "park_recognised")
    amount = tiers(
        ev,
        (
            (
                (
                    ("new_cbec_enterprises", "M01.tier2.new_enterprises_threshold"),
                    ("park_cbec_volume_usd", "M01.tier2.volume_threshold_usd"),
                ),
                "M01.tier2.amount_cny",
            ),
            (
                (
                    ("new_cbec_enterprises", "M01.tier1.new_enterprises_threshold"),
                    ("park_cbec_volume_usd", "M01.tier1.volume_threshold_usd"),
                ),
                "M01.tier1.amount_cny",
            ),
        ),
    )
    if amount is not None:
        ev.add("reward", amount)


def m02_incubation(ev: Evaluation) -> None:
    """II(1)2: integrated functions and more than 10 enterprises incubated in the year:
    up to CNY 500,000 once."""
    require_true(ev, "integrates_required_functions")
    if threshold(ev, "incubated_enterprises", "M02.incubated_threshold"):
        amount = ev.param("M02.amount_cny")
        amount_zh, amount_en = cny(amount)
        ev.step(f"一次性奖励上限 {amount_zh}", f"One-time reward up to {amount_en}")
        ev.add("reward", amount)


def m03_platforms(ev: Evaluation) -> None:
    """II(2)3: "appropriate support" for platform and park infrastructure expenses: the text fixes
    no amount, so the reviewers decide it, never above the expenses."""
    kind_zh, kind_en = ev.show("platform_kind")
    ev.step(f"项目类型：{kind_zh}", f"Kind of project: {kind_en}")
    if require_positive(ev, "eligible_expenses_cny"):
        expenses = ev.facts["eligible_expenses_cny"]
        expenses_zh, expenses_en = cny(expenses)
        ev.step(
            f"条款规定“给予适当支持”，未定金额：由审核确定，不超过费用 {expenses_zh}",
            f'The article grants "appropriate support" with no amount: decided in review, '
            f"at most the expenses {expenses_en}",
        )
        ev.discretionary_cap = expenses


def m04_venue(ev: Evaluation) -> None:
    """II(2)4: 50% of the fiscal year's actual expenditure, at most CNY 500,000."""
    if require_positive(ev, "eligible_expenditure_cny"):
        ev.add(
            "subsidy",
            capped_rate(ev, "eligible_expenditure_cny", "M04.rate", "M04.cap_cny", "subsidy"),
        )


def m05_export(ev: Evaluation) -> None:
    """II(3)5: export volume above 0 / USD 500,000 / USD 1 million: up to CNY 20,000 / 100,000 /
    500,000, once. I-12: the lowest tier ("breaks through zero") rewards a first year of CBEC
    exports, so it does not apply when the enterprise exported before."""
    amount = tiers(
        ev,
        (
            (
                (("cbec_export_volume_usd", "M05.tier_high.threshold_usd"),),
                "M05.tier_high.amount_cny",
            ),
            (
                (("cbec_export_volume_usd", "M05.tier_mid.threshold_usd"),),
                "M05.tier_mid.amount_cny",
            ),
            (
                (("cbec_export_volume_usd", "M05.tier_low.threshold_usd"),),
                "M05.tier_low.amount_cny",
            ),
        ),
    )
    if amount is None:
        return
    above_low, _zh, _en = compare(ev, "cbec_export_volume_usd", "M05.tier_mid.threshold_usd")
    if not above_low:
        if ev.facts.get("had_cbec_exports_before"):
            ev.fail(
                "“突破零”一档奖励首个有跨境电商出口的年度：该企业此前已有跨境电商出口，不适用",
                "The 'breaks through zero' tier rewards a first year of CBEC exports: the "
                "enterprise exported before, so it does not apply",
                interpretation="I-12",
            )
            return
        ev.step(
            "此前无跨境电商出口：本年为突破零的首个出口年度",
            "No CBEC exports before: this is the first year that breaks through zero",
            interpretation="I-12",
        )
    ev.add("reward", amount)


def m06_platform_promotion(ev: Evaluation) -> None:
    """II(3)6: 50% of annual promotion expenses plus, for a new store, 50% of the settlement fee;
    both together at most CNY 200,000 per enterprise (and year, I-4)."""
    new_store = ev.facts["new_store"]
    fee = ev.facts["settlement_fee_cny"]
    promotion = ev.facts["promotion_expenses_cny"]
    has_base = promotion > 0 or (new_store and fee > 0)
    condition(
        ev,
        has_base,
        "有推广费用或新店入驻费"
        if has_base
        else "推广费用为 0，且无新注册店铺的入驻费：无可补贴的金额",
        "There are promotion expenses or a new store's settlement fee"
        if has_base
        else "No promotion expenses and no settlement fee of a new store: nothing to subsidise",
    )
    promotion_part = share(ev, "promotion_expenses_cny", "M06.promotion_rate")
    if new_store:
        settlement_part = share(ev, "settlement_fee_cny", "M06.settlement_rate")
    else:
        settlement_part = round_cny(Decimal(0))
        ev.step(
            "当年未在第三方平台新注册店铺：入驻费补贴为 0",
            "No store newly registered on a third-party platform: no settlement fee subsidy",
        )
    parts = sum_then_cap(
        ev, (("promotion", promotion_part), ("settlement", settlement_part)), "M06.annual_cap_cny"
    )
    for name, amount in parts:
        ev.add(name, amount)


def m07_sme_settlement(ev: Evaluation) -> None:
    """II(3)7: newly settled in a recognised park, leased area more than 100 sqm, volume reaching
    USD 100,000: rent subsidy 30% (at most CNY 100,000) plus a one-time start-up subsidy of up to
    CNY 50,000."""
    require_true(ev, "newly_settled_in_recognised_park")
    threshold(ev, "leased_area_sqm", "M07.area_threshold_sqm")
    threshold(ev, "cbec_volume_usd", "M07.volume_threshold_usd")
    ev.add("rent", capped_rate(ev, "annual_rent_cny", "M07.rent_rate", "M07.rent_cap_cny", "rent"))
    ev.add("startup", capped_amount(ev, "startup_costs_cny", "M07.startup_cap_cny"))


def m08_leading_enterprise(ev: Evaluation) -> None:
    """II(3)8: introduced in the year with volume above USD 50 million: up to CNY 500,000; above
    USD 100 million: up to CNY 1,000,000, once."""
    require_true(ev, "introduced_this_year")
    amount = tiers(
        ev,
        (
            ((("cbec_volume_usd", "M08.tier_high.threshold_usd"),), "M08.tier_high.amount_cny"),
            ((("cbec_volume_usd", "M08.tier_low.threshold_usd"),), "M08.tier_low.amount_cny"),
        ),
    )
    if amount is not None:
        ev.add("reward", amount)


def m09a_experience_store(ev: Evaluation) -> None:
    """II(4)¶1: O2O store with business area over 500 / 1,000 / 2,000 sqm: up to CNY 100,000 /
    200,000 / 300,000, once per store (I-3)."""
    store_zh, store_en = ev.show("store_id")
    ev.step(f"门店：{store_zh}", f"Store: {store_en}")
    amount = tiers(
        ev,
        (
            (
                (("store_business_area_sqm", "M09A.tier_high.threshold_sqm"),),
                "M09A.tier_high.amount_cny",
            ),
            (
                (("store_business_area_sqm", "M09A.tier_mid.threshold_sqm"),),
                "M09A.tier_mid.amount_cny",
            ),
            (
                (("store_business_area_sqm", "M09A.tier_low.threshold_sqm"),),
                "M09A.tier_low.amount_cny",
            ),
        ),
    )
    if amount is not None:
        ev.add("subsidy", amount)


def m09b_community_stores(ev: Evaluation) -> None:
    """II(4)¶1: CNY 50,000 per new community store, at most CNY 400,000 per enterprise and year."""
    if require_positive(ev, "new_community_stores"):
        ev.add(
            "subsidy",
            per_unit_with_annual_cap(
                ev, "new_community_stores", "M09B.per_store_cny", "M09B.annual_cap_cny"
            ),
        )


def m10a_public_warehouse(ev: Evaluation) -> None:
    """II(5)¶1: recognised provincial public overseas warehouse registered at Hengyang Customs:
    up to CNY 200,000 once."""
    recognised = require_true(ev, "provincial_public_warehouse")
    registered = require_true(ev, "registered_with_hengyang_customs")
    if recognised and registered:
        amount = ev.param("M10A.amount_cny")
        amount_zh, amount_en = cny(amount)
        ev.step(f"一次性补贴上限 {amount_zh}", f"One-time subsidy up to {amount_en}")
        ev.add("subsidy", amount)


def m10b_warehouse_lease(ev: Evaluation) -> None:
    """II(5)¶1: leased overseas warehouse over 1,000 sqm: 50% of the leasing costs, at most
    CNY 200,000 per warehouse and year."""
    warehouse_zh, warehouse_en = ev.show("warehouse_id")
    ev.step(f"海外仓：{warehouse_zh}", f"Warehouse: {warehouse_en}")
    threshold(ev, "warehouse_area_sqm", "M10B.area_threshold_sqm")
    ev.add(
        "lease",
        capped_rate(ev, "annual_lease_cost_cny", "M10B.rate", "M10B.annual_cap_cny", "lease"),
    )


def m11_services(ev: Evaluation) -> None:
    """II(6)1: services and events approved by the Commerce Bureau get "appropriate support":
    decided in review, never above the expenses."""
    approved = require_true(ev, "approved_by_commerce_bureau")
    if require_positive(ev, "expenses_cny") and approved:
        expenses = ev.facts["expenses_cny"]
        expenses_zh, expenses_en = cny(expenses)
        ev.step(
            f"条款规定“给予适当支持”，未定金额：由审核确定，不超过费用 {expenses_zh}",
            f'The article grants "appropriate support" with no amount: decided in review, '
            f"at most the expenses {expenses_en}",
        )
        ev.discretionary_cap = expenses


def m12_credit_insurance(ev: Evaluation) -> None:
    """II(6)2: premium subsidy at most 50% (0 for small and micro enterprises insured via the
    Single Window, I-2) plus interest subsidy min(paid, principal × 20% × LPR × days / 365),
    together at most CNY 300,000 per enterprise and year."""
    require_positive(ev, "premium_cny", "loan_interest_paid_cny")
    facts = ev.facts
    if facts["small_micro"] and facts["insured_via_single_window"]:
        ev.step(
            "小微企业经“中国国际贸易单一窗口”投保：保费由省级财政全额支持，本市保费补贴按"
            f"{percent(ev.param('M12.premium_rate_small_micro_single_window'))}计",
            "Small or micro enterprise insured via the Single Window: the provincial finance pays "
            "the premium in full, the city's premium subsidy rate is "
            f"{percent(ev.param('M12.premium_rate_small_micro_single_window'))}",
            interpretation="I-2",
        )
        premium = share(ev, "premium_cny", "M12.premium_rate_small_micro_single_window")
    else:
        premium = share(ev, "premium_cny", "M12.premium_rate")
    interest = _m12_interest(ev)
    parts = sum_then_cap(ev, (("premium", premium), ("interest", interest)), "M12.annual_cap_cny")
    for name, amount in parts:
        ev.add(name, amount)


def _m12_interest(ev: Evaluation) -> Decimal:
    """II(6)2: "the subsidy for loan interest shall not exceed 20% of the loan prime rate"."""
    facts = ev.facts
    share_of_lpr = ev.param("M12.interest_share")
    basis = ev.param("M12.day_count_basis")
    if facts.get("lpr_rate") is not None:
        lpr = facts["lpr_rate"]
        source_zh, source_en = "审核核实的 LPR", "the LPR verified by the reviewer"
    else:
        lpr = ev.param("M12.lpr_one_year")
        found = ev.used["M12.lpr_one_year"]
        source_zh = f"{found.effective_from} 起施行的一年期 LPR"
        source_en = f"the one-year LPR in force since {found.effective_from}"
    principal = facts["loan_principal_cny"]
    days = facts["loan_days"]
    ceiling = round_cny(principal * share_of_lpr * lpr * days / basis)
    paid = facts["loan_interest_paid_cny"]
    interest = min(paid, ceiling)
    ev.step(
        f"贴息上限 = 本金 {grouped(principal)} 元 × {percent(share_of_lpr)} × {source_zh} "
        f"{percent(lpr, min_places=2)} × {days} / {basis:f} 天 = {grouped(ceiling)} 元；"
        f"已付利息 {grouped(paid)} 元，"
        f"取较小者 {grouped(interest)} 元",
        f"Interest ceiling = principal CNY {grouped(principal)} × {percent(share_of_lpr)} × "
        f"{source_en} {percent(lpr, min_places=2)} × {days} / {basis:f} days = "
        f"CNY {grouped(ceiling)}; interest paid CNY {grouped(paid)}; "
        f"the smaller is CNY {grouped(interest)}",
    )
    return interest


def m13_employee_training(ev: Evaluation) -> None:
    """II(7)1: a traditional foreign-trade enterprise's annual employee training expenses,
    subsidised up to CNY 50,000 (per year, I-4)."""
    require_true(ev, "traditional_foreign_trade_enterprise")
    if require_positive(ev, "training_expenses_cny"):
        ev.add("training", capped_amount(ev, "training_expenses_cny", "M13.annual_cap_cny"))


def m14_talent_base(ev: Evaluation) -> None:
    """II(7)2: a certified talent development base: documented costs, up to CNY 200,000 once."""
    require_true(ev, "certified_talent_base")
    if require_positive(ev, "documented_costs_cny"):
        ev.add("subsidy", capped_amount(ev, "documented_costs_cny", "M14.cap_cny"))


def m15_professional_training(ev: Evaluation) -> None:
    """II(7)3: the program must be registered with human resources and social security before it
    starts; that authority settles the subsidy under vocational-training policy (no amount here)."""
    registered = ev.facts["registration_date"]
    start = ev.facts["training_start_date"]
    ok = registered <= start
    condition(
        ev,
        ok,
        f"培训项目备案日期 {registered} {'不晚于' if ok else '晚于'}培训开始日期 {start}"
        + ("" if ok else "：须在培训实施前备案"),
        f"Program registered on {registered}, {'on or before' if ok else 'after'} the training "
        f"start {start}" + ("" if ok else ": it must be registered before the training starts"),
    )
    if ok:
        ev.step(
            "补贴由人力资源和社会保障部门按职业技能培训政策结算，本措施不核定金额",
            "The subsidy is settled by human resources and social security under the vocational "
            "skills training policies; no amount is set under this measure",
        )


def m16_social_security(ev: Evaluation) -> None:
    """II(7)4: 10% of the year's social security contributions, at most CNY 100,000 per year."""
    if require_positive(ev, "social_security_paid_cny"):
        ev.add(
            "subsidy",
            capped_rate(
                ev, "social_security_paid_cny", "M16.rate", "M16.annual_cap_cny", "subsidy"
            ),
        )


RULES: dict[str, Rule] = {
    "M01": Rule(
        "computed",
        m01_park,
        parameters=(
            "M01.tier1.new_enterprises_threshold",
            "M01.tier1.volume_threshold_usd",
            "M01.tier1.amount_cny",
            "M01.tier2.new_enterprises_threshold",
            "M01.tier2.volume_threshold_usd",
            "M01.tier2.amount_cny",
        ),
        facts=("park_recognised", "new_cbec_enterprises", "park_cbec_volume_usd"),
        components=("reward",),
    ),
    "M02": Rule(
        "computed",
        m02_incubation,
        parameters=("M02.incubated_threshold", "M02.amount_cny"),
        facts=("integrates_required_functions", "incubated_enterprises"),
        components=("reward",),
    ),
    "M03": Rule("discretionary", m03_platforms, facts=("platform_kind", "eligible_expenses_cny")),
    "M04": Rule(
        "computed",
        m04_venue,
        parameters=("M04.rate", "M04.cap_cny"),
        facts=("eligible_expenditure_cny",),
        components=("subsidy",),
    ),
    "M05": Rule(
        "computed",
        m05_export,
        parameters=tuple(
            f"M05.tier_{t}.{p}"
            for t in ("low", "mid", "high")
            for p in ("threshold_usd", "amount_cny")
        ),
        facts=("cbec_export_volume_usd", "had_cbec_exports_before"),
        components=("reward",),
    ),
    "M06": Rule(
        "computed",
        m06_platform_promotion,
        parameters=("M06.promotion_rate", "M06.settlement_rate", "M06.annual_cap_cny"),
        facts=("promotion_expenses_cny", "new_store", "settlement_fee_cny"),
        components=("promotion", "settlement"),
    ),
    "M07": Rule(
        "computed",
        m07_sme_settlement,
        parameters=(
            "M07.area_threshold_sqm",
            "M07.volume_threshold_usd",
            "M07.rent_rate",
            "M07.rent_cap_cny",
            "M07.startup_cap_cny",
        ),
        facts=(
            "newly_settled_in_recognised_park",
            "leased_area_sqm",
            "cbec_volume_usd",
            "annual_rent_cny",
            "startup_costs_cny",
        ),
        components=("rent", "startup"),
    ),
    "M08": Rule(
        "computed",
        m08_leading_enterprise,
        parameters=tuple(
            f"M08.tier_{t}.{p}" for t in ("low", "high") for p in ("threshold_usd", "amount_cny")
        ),
        facts=("introduced_this_year", "cbec_volume_usd"),
        components=("reward",),
    ),
    "M09A": Rule(
        "computed",
        m09a_experience_store,
        parameters=tuple(
            f"M09A.tier_{t}.{p}"
            for t in ("low", "mid", "high")
            for p in ("threshold_sqm", "amount_cny")
        ),
        facts=("store_business_area_sqm", "store_id"),
        components=("subsidy",),
    ),
    "M09B": Rule(
        "computed",
        m09b_community_stores,
        parameters=("M09B.per_store_cny", "M09B.annual_cap_cny"),
        facts=("new_community_stores",),
        components=("subsidy",),
    ),
    "M10A": Rule(
        "computed",
        m10a_public_warehouse,
        parameters=("M10A.amount_cny",),
        facts=("provincial_public_warehouse", "registered_with_hengyang_customs"),
        components=("subsidy",),
    ),
    "M10B": Rule(
        "computed",
        m10b_warehouse_lease,
        parameters=("M10B.area_threshold_sqm", "M10B.rate", "M10B.annual_cap_cny"),
        facts=("warehouse_id", "warehouse_area_sqm", "annual_lease_cost_cny"),
        components=("lease",),
    ),
    "M11": Rule(
        "discretionary", m11_services, facts=("approved_by_commerce_bureau", "expenses_cny")
    ),
    "M12": Rule(
        "computed",
        m12_credit_insurance,
        parameters=(
            "M12.premium_rate",
            "M12.premium_rate_small_micro_single_window",
            "M12.interest_share",
            "M12.lpr_one_year",
            "M12.day_count_basis",
            "M12.annual_cap_cny",
        ),
        facts=(
            "premium_cny",
            "small_micro",
            "insured_via_single_window",
            "loan_principal_cny",
            "loan_interest_paid_cny",
            "loan_days",
            "lpr_rate",
        ),
        components=("premium", "interest"),
    ),
    "M13": Rule(
        "computed",
        m13_employee_training,
        parameters=("M13.annual_cap_cny",),
        facts=("traditional_foreign_trade_enterprise", "training_expenses_cny"),
        components=("training",),
    ),
    "M14": Rule(
        "computed",
        m14_talent_base,
        parameters=("M14.cap_cny",),
        facts=("certified_talent_base", "documented_costs_cny"),
        components=("subsidy",),
    ),
    "M15": Rule(
        "external",
        m15_professional_training,
        facts=("registration_date", "training_start_date"),
    ),
    "M16": Rule(
        "computed",
        m16_social_security,
        parameters=("M16.rate", "M16.annual_cap_cny"),
        facts=("social_security_paid_cny",),
        components=("subsidy",),
    ),
}
