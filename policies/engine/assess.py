"""`assess`: one measure, the declared (or verified) facts and a context -> a `Result`.

The order is fixed: validity (I-5), general conditions (Art. I, I-1), admitted entity type, the
measure's own rule, then the rules across applications: one-time (I-3), annual caps (I-4) and
overlap groups (I-6). Nothing here reads a database: the caller passes the earlier awards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from decimal import Context as DecimalContext
from typing import Any

from .catalogue import Catalogue, Measure
from .context import Context, PriorAward
from .errors import AssessInputError, FactError, UnknownMeasure
from .facts import FactDef
from .numbers import ZERO, BadNumber, grouped, parse_decimal, parse_int, round_cny
from .primitives import Evaluation, MissingParameter, cny, reduce_components
from .result import Component, Result
from .rules import RULES
from .version import rules_version, used_parameters
from .versions import Choice, PolicyVersions

Source = Catalogue | PolicyVersions

_MAX_AWARD = Decimal("1000000000000")
_NOTHING = Decimal("0.00")
# A fixed arithmetic context, so that a caller changing the thread's decimal context (precision,
# rounding) cannot change a result; the rules round explicitly where the policy says so.
_ARITHMETIC = DecimalContext(prec=28, rounding=ROUND_HALF_EVEN)


def parse_facts(
    catalogue: Catalogue, measure: Measure, raw_facts: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and type the facts of `measure`; raises `FactError` naming the measure and fact."""
    if not isinstance(raw_facts, Mapping):
        raise FactError(measure.code, "facts", "facts must be an object", "facts 须为对象")
    for name in raw_facts:
        if name not in measure.fact_names:
            raise FactError(
                measure.code,
                str(name),
                "is not a fact of this measure",
                "不是本措施的申报事实",
            )
    facts: dict[str, Any] = {}
    for fact, required in measure.fact_defs:
        raw = raw_facts.get(fact.name)
        if raw is None:
            if required:
                raise FactError(measure.code, fact.name, "is missing", "缺失")
            continue
        facts[fact.name] = _parse_one(measure, fact, raw)
    return facts


def _parse_one(measure: Measure, fact: FactDef, raw: Any) -> Any:
    try:
        return fact.parse(raw)
    except BadNumber as error:
        raise FactError(measure.code, fact.name, error.message_en, error.message_zh) from None


def choose_version(source: Source, context: Context) -> tuple[Catalogue, Choice | None]:
    """The version that assesses, as its interpretations' dated effects make it on the
    reference date: `context.policy` when given, else the one in force on the reference date
    (or, when none is, the nearest, whose validity check then fails)."""
    catalogue, choice = _choose(source, context)
    return catalogue.on(context.on_date), choice


def _choose(source: Source, context: Context) -> tuple[Catalogue, Choice | None]:
    if isinstance(source, PolicyVersions):
        if context.policy is not None:
            found = source.get(context.policy)
            if found is None:
                raise AssessInputError(
                    f"context.policy {context.policy!r} is not a loaded policy version",
                    f"context.policy {context.policy!r} 不是已载入的政策版本",
                )
            return found, None
        choice = source.choose(context.on_date)
        return choice.catalogue, choice
    if context.policy is not None and context.policy != source.policy_code:
        raise AssessInputError(
            f"context.policy {context.policy!r} is not this catalogue's version "
            f"{source.policy_code}",
            f"context.policy {context.policy!r} 不是本目录的版本 {source.policy_code}",
        )
    return source, None


def assess(
    catalogue: Source, measure_code: str, raw_facts: Mapping[str, Any], context: Context
) -> Result:
    """Assess one application of `measure_code` under one version or the version chosen from
    several (`PolicyVersions`, by `context.policy` or the reference date).

    Raises `UnknownMeasure`, `FactError` or `AssessInputError` for malformed input; every other
    outcome, including a parameter with no value in force on the reference date, is a `Result`.
    """
    version, choice = choose_version(catalogue, context)
    measure = version.measures.get(measure_code) if isinstance(measure_code, str) else None
    if measure is None:
        raise UnknownMeasure(str(measure_code))
    with localcontext(_ARITHMETIC):
        return _assess(version, measure, parse_facts(version, measure, raw_facts), context, choice)


def _assess(
    catalogue: Catalogue,
    measure: Measure,
    facts: dict[str, Any],
    context: Context,
    choice: Choice | None = None,
) -> Result:
    on_date = context.on_date
    year = facts.get("year")
    ev = Evaluation(catalogue, measure, facts, on_date, year if year is not None else on_date.year)
    for clause, text_zh, text_en in context.notes:
        ev.step(text_zh, text_en, clause=clause or catalogue.validity_clause)
    if year is None:
        ev.step(
            f"未申报业绩年度：按参考日期 {on_date} 取 {on_date.year} 年",
            f"No performance year declared: the year of the reference date {on_date}, "
            f"{on_date.year}",
        )
    _check_gate(ev, choice)
    if not ev.reasons:
        try:
            RULES[measure.code].compute(ev)
            if not ev.reasons and measure.kind == "computed":
                _apply_limits(ev, context.prior_awards)
            elif not ev.reasons and measure.kind == "external":
                _note_overlap(ev, context.prior_awards)
        except MissingParameter as missing:
            ev.fail(
                f"参数 {missing.key} 在参考日期 {missing.on_date} 没有生效的取值，无法评估",
                f"Parameter {missing.key} has no value in force on the reference date "
                f"{missing.on_date}; cannot assess",
                clause=catalogue.parameters[missing.key].clause,
            )
    return _result(ev)


def precheck(
    catalogue: Source, measure_code: str, general_facts: Mapping[str, Any], context: Context
) -> Result:
    """What can be said from the general facts alone (an applicant's profile), before any figures.

    Runs the gate of `assess` (I-5 validity, Art. I general conditions with the I-1 waiver,
    admitted entity types) and, for one-time measures without a store scope, the I-3 rule. An
    eligible result means "may apply", with amount and cap None: no figures, no amount.
    """
    catalogue, choice = choose_version(catalogue, context)
    measure = catalogue.measures.get(measure_code) if isinstance(measure_code, str) else None
    if measure is None:
        raise UnknownMeasure(str(measure_code))
    general = {
        fact.name: general_facts[fact.name]
        for fact, _required in measure.fact_defs
        if fact.scope == "general" and general_facts.get(fact.name) is not None
    }
    parsed: dict[str, Any] = {}
    for fact, required in measure.fact_defs:
        if fact.scope != "general":
            continue
        if fact.name not in general:
            if required and fact.name != "year":
                raise FactError(measure.code, fact.name, "is missing", "缺失")
            continue
        parsed[fact.name] = _parse_one(measure, fact, general[fact.name])
    year = parsed.get("year", context.on_date.year)
    with localcontext(_ARITHMETIC):
        ev = Evaluation(catalogue, measure, parsed, context.on_date, year)
        _check_gate(ev, choice)
        if not ev.reasons and measure.one_time and measure.scope_fact is None:
            earlier = [
                a
                for a in context.prior_awards
                if a.measure == measure.code and _counts_as_one_time(catalogue, a)
            ]
            if earlier and not measure.one_time_components:
                text_zh, text_en = _describe(earlier)
                ev.fail(
                    f"一次性奖励已获得：{text_zh}",
                    f"One-time reward already awarded: {text_en}",
                    interpretation="I-3",
                )
        result = _result(ev)
    if result.eligible:
        return Result(
            measure=result.measure,
            eligible=True,
            amount_cny=None,
            cap_cny=None,
            components=(),
            reasons=(),
            trace=result.trace,
            rules_version=result.rules_version,
            year=result.year,
            policy=result.policy,
        )
    return result


def _check_gate(ev: Evaluation, choice: Choice | None = None) -> None:
    """I-5 validity, I-8 performance year, Art. I general conditions (with the I-1 waiver) and
    the admitted types."""
    cat = ev.catalogue
    measure = ev.measure
    on_date = ev.on_date
    code = cat.policy_code
    if cat.reference_date_interpretation:
        ev.step(
            f"参考日期 {on_date}：申报为提交之日，草稿和测算为当天；有效期和各项参数均按该日取值",
            f"Reference date {on_date}: for an application the day it was submitted, for a draft "
            "or the calculator today; validity and every dated parameter are read as of that day",
            clause=cat.validity_clause,
            interpretation=cat.reference_date_interpretation,
        )
    period_zh = f"{cat.valid_from} 至 {cat.valid_to}（含）"
    period_en = f"{cat.valid_from} to {cat.valid_to} inclusive"
    if cat.valid_from <= on_date <= cat.valid_to:
        ev.step(
            f"参考日期 {on_date} 在政策 {code} 的有效期 {period_zh}内",
            f"Reference date {on_date} is within the validity of policy {code}, {period_en}",
            clause=cat.validity_clause,
            interpretation=cat.validity_interpretation,
        )
    elif choice is not None and not choice.in_force:
        neighbours_zh: list[str] = []
        neighbours_en: list[str] = []
        if choice.before is not None:
            neighbours_zh.append(f"{choice.before.policy_code} 已于 {choice.before.valid_to} 期满")
            neighbours_en.append(f"{choice.before.policy_code} ended on {choice.before.valid_to}")
        if choice.after is not None:
            neighbours_zh.append(f"{choice.after.policy_code} 自 {choice.after.valid_from} 起施行")
            neighbours_en.append(
                f"{choice.after.policy_code} takes effect on {choice.after.valid_from}"
            )
        ev.fail(
            f"参考日期 {on_date} 不在任何政策版本的有效期内（" + "；".join(neighbours_zh) + "）",
            f"Reference date {on_date} is outside the policy's validity: no version is in force ("
            + "; ".join(neighbours_en)
            + ")",
            clause=cat.validity_clause,
            interpretation=cat.validity_interpretation,
        )
    else:
        ev.fail(
            f"参考日期 {on_date} 不在政策 {code} 的有效期 {period_zh}内",
            f"Reference date {on_date} is outside the policy's validity ({code}, {period_en})",
            clause=cat.validity_clause,
            interpretation=cat.validity_interpretation,
        )

    # I-8: the performance year lies between the policy's first year and the reference date's.
    year = ev.year
    first = cat.first_performance_year
    if year > on_date.year:
        ev.fail(
            f"业绩年度 {year} 晚于参考日期所在年度 {on_date.year}",
            f"Performance year {year} is later than the year of the reference date, {on_date.year}",
            clause=cat.validity_clause,
            interpretation=cat.performance_year_interpretation,
        )
    elif year < first:
        ev.fail(
            f"业绩年度 {year} 早于政策 {code} 覆盖的首个年度 {first}",
            f"Performance year {year} is earlier than {first}, the first year policy {code} covers",
            clause=cat.validity_clause,
            interpretation=cat.performance_year_interpretation,
        )
    elif first == on_date.year:
        ev.step(
            f"业绩年度 {year} 即参考日期所在年度，也是政策 {code} 覆盖的首个年度",
            f"Performance year {year} is the year of the reference date, the first year policy "
            f"{code} covers",
            clause=cat.validity_clause,
            interpretation=cat.performance_year_interpretation,
        )
    else:
        ev.step(
            f"业绩年度 {year} 在 {first} 至 {on_date.year} 之间",
            f"Performance year {year} lies between {first} and {on_date.year}",
            clause=cat.validity_clause,
            interpretation=cat.performance_year_interpretation,
        )

    facts = ev.facts
    met_zh: list[str] = []
    met_en: list[str] = []
    for name in cat.general_must_be_true:
        if name in measure.waived_general_facts:
            continue
        fact = cat.facts[name]
        if facts[name]:
            met_zh.append(fact.label_zh)
            met_en.append(fact.label_en)
        else:
            ev.fail(
                f"不满足一般条件：{fact.label_zh}",
                f"General condition not met: {fact.label_en}",
                clause=cat.general_clause,
            )
    if met_zh:
        ev.step(
            "满足一般条件：" + "、".join(met_zh),
            "General conditions met: " + "; ".join(met_en),
            clause=cat.general_clause,
        )
    if measure.waived_general_facts:
        waived = [cat.facts[n] for n in measure.waived_general_facts]
        ev.step(
            f"{measure.code} 的申报主体为培训主体或传统外贸企业，具体条款优先：不要求"
            + "、".join(f.label_zh for f in waived),
            f"{measure.code} addresses training providers or traditional foreign-trade "
            "enterprises; "
            "the specific article prevails: not required: " + "; ".join(f.label_en for f in waived),
            clause=cat.general_clause,
            interpretation="I-1",
        )

    entity_type = facts["entity_type"]
    type_zh, type_en = cat.facts["entity_type"].choice_label(entity_type)
    if entity_type in measure.entity_types:
        ev.step(
            f"申报主体类型“{type_zh}”属于本措施受理的类型",
            f"Applicant type '{type_en}' is admitted by this measure",
        )
    else:
        admitted_zh = "、".join(
            cat.facts["entity_type"].choice_label(t)[0] for t in measure.entity_types
        )
        admitted_en = ", ".join(
            cat.facts["entity_type"].choice_label(t)[1] for t in measure.entity_types
        )
        ev.fail(
            f"申报主体类型“{type_zh}”不属于本措施受理的类型（{admitted_zh}）",
            f"Applicant type '{type_en}' is not admitted by this measure ({admitted_en})",
        )


def _counts_as_one_time(catalogue: Catalogue, award: PriorAward) -> bool:
    """I-3 within one version, unless the version says awards of earlier ones count too."""
    return award.policy is None or award.policy in catalogue.one_time_counts_policies


def _matches_scope(ev: Evaluation, award: PriorAward) -> bool:
    """Same store (M09A) / same warehouse (M10B); an award without the id counts, to be safe."""
    scope = ev.measure.scope_fact
    if scope is None:
        return True
    recorded = getattr(award, scope)
    return recorded is None or recorded == ev.facts[scope]


def _describe(awards: Sequence[PriorAward]) -> tuple[str, str]:
    described = [a.describe() for a in awards]
    return "；".join(zh for zh, _ in described), "; ".join(en for _, en in described)


def _apply_limits(ev: Evaluation, prior_awards: Sequence[PriorAward]) -> None:
    """I-3 one-time, I-4 annual caps, I-6 overlap groups, in that order, then the total."""
    measure = ev.measure
    code = measure.code
    parts = [(name, amount) for name, amount in ev.components.items()]
    same_measure = [a for a in prior_awards if a.measure == code and _matches_scope(ev, a)]
    # I-3 counts awards of this version (and of the earlier versions it names); annual caps and
    # overlap groups count the same year whatever the version.
    one_time_earlier = [a for a in same_measure if _counts_as_one_time(ev.catalogue, a)]

    # I-3: a one-time reward already granted makes the application ineligible; for M07 only the
    # start-up component falls away.
    if measure.one_time and one_time_earlier:
        earlier_zh, earlier_en = _describe(one_time_earlier)
        ev.fail(
            f"一次性奖励在政策有效期内只享受一次，已获：{earlier_zh}",
            f"A one-time reward is granted once while the policy is in force; already awarded: "
            f"{earlier_en}",
            interpretation="I-3",
        )
        return
    for component in measure.one_time_components:
        earlier = [a for a in one_time_earlier if a.components is None or component in a.components]
        if earlier and ev.components.get(component, ZERO) > 0:
            earlier_zh, earlier_en = _describe(earlier)
            label = measure.component_defs[component]
            ev.step(
                f"{label.label_zh}为一次性补贴，已随此前奖励享受（{earlier_zh}）：本次为 0",
                f"{label.label_en} is one-time and came with an earlier award ({earlier_en}): "
                "0 now",
                interpretation="I-3",
            )
            parts = [(n, ZERO if n == component else a) for n, a in parts]
            if sum((a for _, a in parts), ZERO) <= 0:
                ev.fail(
                    f"扣除已享受的一次性补贴后无可补贴的金额；此前奖励：{earlier_zh}",
                    f"Nothing remains once the one-time part already awarded is removed; earlier "
                    f"award: {earlier_en}",
                    interpretation="I-3",
                )
                return

    # I-9: a component capped per applicant and year across all of its applications (M07 rent).
    for component, cap_key in measure.component_annual_caps.items():
        this_year = [a for a in same_measure if a.year == ev.year]
        current = dict(parts).get(component, ZERO)
        if not this_year or current <= 0:
            continue
        limit = ev.param(cap_key)
        awarded = sum((a.component_share(component) for a in this_year), ZERO)
        remaining = max(limit - awarded, ZERO)
        now = min(current, remaining)
        label = measure.component_defs[component]
        earlier_zh, earlier_en = _describe(this_year)
        ev.step(
            f"{label.label_zh}每年上限 {grouped(limit)} 元，{ev.year} 年已获 {grouped(awarded)} 元"
            f"（{earlier_zh}），剩余 {grouped(remaining)} 元；本次 {grouped(now)} 元",
            f"{label.label_en}: at most CNY {grouped(limit)} a year, CNY {grouped(awarded)} "
            f"already awarded in {ev.year} ({earlier_en}), CNY {grouped(remaining)} remaining; "
            f"now CNY {grouped(now)}",
            interpretation=measure.component_cap_interpretation,
        )
        parts = [(n, now if n == component else a) for n, a in parts]
        if sum((a for _, a in parts), ZERO) <= 0:
            ev.fail(
                f"{label.label_zh} {ev.year} 年上限已用完，且无其他可补贴的部分；"
                f"已获：{earlier_zh}",
                f"The {ev.year} limit of the {label.label_en.lower()} is used up and nothing else "
                f"remains; already awarded: {earlier_en}",
                interpretation=measure.component_cap_interpretation,
            )
            return

    total = sum((a for _, a in parts), ZERO)
    if total <= 0:
        ev.fail(
            "计算所得金额为 0.00 元，无可补贴的金额",
            "The computed amount is CNY 0.00: nothing to award",
        )
        return

    # I-11: a same-year award of the measure is named (the limit is per project, not deducted).
    if measure.same_year_notice:
        this_year = [a for a in same_measure if a.year == ev.year]
        if this_year:
            earlier_zh, earlier_en = _describe(this_year)
            ev.step(
                f"该主体 {ev.year} 年已有本措施的奖励（{earlier_zh}）：上限按每个项目计算，"
                "不予扣减；审核时须确认本次为另一项目",
                f"The applicant already has an award of this measure in {ev.year} "
                f"({earlier_en}): the limit applies per project and nothing is deducted; the "
                "review must confirm this is another project",
                interpretation=measure.same_year_notice,
            )

    # I-4: the annual cap counts approved awards of the same measure and year (and warehouse).
    if measure.annual_cap:
        this_year = [a for a in same_measure if a.year == ev.year]
        if this_year:
            limit = ev.param(f"{code}.annual_cap_cny")
            awarded = sum((a.amount_cny for a in this_year), ZERO)
            remaining = max(limit - awarded, ZERO)
            earlier_zh, earlier_en = _describe(this_year)
            if remaining <= 0:
                ev.fail(
                    f"{ev.year} 年度上限 {grouped(limit)} 元已用完；已获：{earlier_zh}",
                    f"The annual cap of CNY {grouped(limit)} for {ev.year} is used up; already "
                    f"awarded: {earlier_en}",
                    interpretation=measure.annual_cap_interpretation,
                )
                return
            new_total = min(total, remaining)
            ev.step(
                f"{ev.year} 年度上限 {grouped(limit)} 元，"
                f"已获 {grouped(awarded)} 元（{earlier_zh}），"
                f"剩余 {grouped(remaining)} 元；本次 {grouped(new_total)} 元",
                f"Annual cap CNY {grouped(limit)} for {ev.year}, already awarded CNY "
                f"{grouped(awarded)} ({earlier_en}), remaining CNY {grouped(remaining)}; now CNY "
                f"{grouped(new_total)}",
                interpretation=measure.annual_cap_interpretation,
            )
            parts = reduce_components(parts, new_total)
            total = new_total

    # I-6: within an overlap group the year's total never exceeds the largest single entitlement.
    # Awards of this same measure are already counted by I-3/I-4 above, so only the other members
    # (and linked external policies) are deducted here.
    for group in measure.overlap_groups:
        others = [
            a
            for a in prior_awards
            if a.year == ev.year and a.measure != code and a.measure in group.members
        ]
        group_zh, group_en = group.name_zh, group.name_en
        if not others:
            ev.step(
                f"重叠组“{group_zh}”：{ev.year} 年无其他措施的奖励，不扣减",
                f"Overlap group '{group_en}': no award under another member in {ev.year}, "
                "nothing deducted",
                clause=group.clause,
                interpretation=group.interpretation,
            )
            continue
        awarded = sum((a.amount_cny for a in others), ZERO)
        remaining = max(total - awarded, ZERO)
        earlier_zh, earlier_en = _describe(others)
        if remaining <= 0:
            ev.fail(
                f"“从优不重复”：重叠组“{group_zh}”{ev.year} 年已获 {grouped(awarded)} 元"
                f"（{earlier_zh}），不低于本项应得额 {grouped(total)} 元",
                f"'Support the better one, avoid duplication': overlap group '{group_en}' already "
                f"awarded CNY {grouped(awarded)} in {ev.year} ({earlier_en}), not less than this "
                f"entitlement of CNY {grouped(total)}",
                clause=group.clause,
                interpretation=group.interpretation,
            )
            return
        ev.step(
            f"“从优不重复”：重叠组“{group_zh}”{ev.year} 年"
            f"已获 {grouped(awarded)} 元（{earlier_zh}），"
            f"本次 {grouped(total)} − {grouped(awarded)} = {grouped(remaining)} 元",
            f"'Support the better one, avoid duplication': overlap group '{group_en}' already "
            f"awarded CNY {grouped(awarded)} in {ev.year} ({earlier_en}); now "
            f"{grouped(total)} − {grouped(awarded)} = CNY {grouped(remaining)}",
            clause=group.clause,
            interpretation=group.interpretation,
        )
        parts = reduce_components(parts, remaining)
        total = remaining

    ev.components = dict(parts)
    total_zh, total_en = cny(total)
    ev.step(f"可批准的最高金额：{total_zh}", f"The most that may be approved: {total_en}")


def _note_overlap(ev: Evaluation, prior_awards: Sequence[PriorAward]) -> None:
    """M15 has no amount here; name the group's awards so the settling authority can deduct them."""
    for group in ev.measure.overlap_groups:
        others = [
            a
            for a in prior_awards
            if a.year == ev.year and a.measure != ev.measure.code and a.measure in group.members
        ]
        if others:
            earlier_zh, earlier_en = _describe(others)
            ev.step(
                f"“从优不重复”：重叠组“{group.name_zh}”{ev.year} 年"
                f"已获奖励（{earlier_zh}），结算时应予扣减",
                f"'Support the better one, avoid duplication': overlap group '{group.name_en}' "
                f"already awarded in {ev.year} ({earlier_en}); to be deducted at settlement",
                clause=group.clause,
                interpretation=group.interpretation,
            )
        else:
            ev.step(
                f"重叠组“{group.name_zh}”：{ev.year} 年无其他措施的奖励",
                f"Overlap group '{group.name_en}': no award under another member in {ev.year}",
                clause=group.clause,
                interpretation=group.interpretation,
            )


def _result(ev: Evaluation) -> Result:
    measure = ev.measure
    used = used_parameters(ev.used)
    version = rules_version(measure.digest, used)
    trace = tuple(ev.trace)
    if ev.reasons:
        return Result(
            measure=measure.code,
            eligible=False,
            amount_cny=_NOTHING,
            cap_cny=_NOTHING,
            components=(),
            reasons=tuple(ev.reasons),
            trace=trace,
            rules_version=version,
            year=ev.year,
            parameters_used=used,
            policy=ev.catalogue.policy_code,
        )
    if measure.kind == "computed":
        components = tuple(
            Component(
                name=name,
                amount_cny=round_cny(amount),
                clause=measure.clause,
                label_zh=measure.component_defs[name].label_zh,
                label_en=measure.component_defs[name].label_en,
            )
            for name, amount in ev.components.items()
        )
        amount = round_cny(sum((c.amount_cny for c in components), ZERO))
        cap = amount
    else:
        components = ()
        amount = None
        cap = None if ev.discretionary_cap is None else round_cny(ev.discretionary_cap)
    return Result(
        measure=measure.code,
        eligible=True,
        amount_cny=amount,
        cap_cny=cap,
        components=components,
        reasons=(),
        trace=trace,
        rules_version=version,
        year=ev.year,
        parameters_used=used,
        policy=ev.catalogue.policy_code,
    )


# -- parsing one request of the `assess` command ------------------------------------------------


def parse_request(catalogue: Source, obj: Any, today: date) -> tuple[str, dict[str, Any], Context]:
    """Validate one input object ``{"measure", "facts", "context": {"on_date", "policy",
    "prior_awards"}}`` against the version that will assess it (see `choose_version`).

    Returns (measure code, typed facts, context); the context names the chosen version. Raises
    `AssessInputError` (or its subclasses `UnknownMeasure`, `FactError`) with a message naming
    what is wrong. Parse JSON with ``parse_float=Decimal`` so that amounts keep their decimal text.
    """
    if not isinstance(obj, Mapping):
        raise AssessInputError(
            "each input must be an object with 'measure' and 'facts'",
            "每条输入须为包含 measure 和 facts 的对象",
        )
    unknown = set(obj) - {"measure", "facts", "context"}
    if unknown:
        raise AssessInputError(
            f"unknown keys {sorted(map(str, unknown))}", f"未知的键 {sorted(map(str, unknown))}"
        )
    code = obj.get("measure")
    if not isinstance(code, str):
        raise AssessInputError(
            "'measure' must be a measure code such as \"M05\"", "measure 须为措施代码"
        )
    context = _parse_context(catalogue, code, obj.get("context"), today)
    version, _choice = choose_version(catalogue, context)
    measure = version.measures.get(code)
    if measure is None:
        raise UnknownMeasure(code)
    raw_facts = obj.get("facts")
    if not isinstance(raw_facts, Mapping):
        raise AssessInputError("'facts' must be an object", "facts 须为对象", measure=code)
    facts = parse_facts(version, measure, raw_facts)
    return code, facts, context


def _parse_context(catalogue: Source, code: str, raw: Any, today: date) -> Context:
    if raw is None:
        return Context(on_date=today)
    if not isinstance(raw, Mapping):
        raise AssessInputError("'context' must be an object", "context 须为对象", measure=code)
    unknown = set(raw) - {"on_date", "prior_awards", "policy"}
    if unknown:
        raise AssessInputError(
            f"context: unknown keys {sorted(map(str, unknown))}",
            f"context：未知的键 {sorted(map(str, unknown))}",
            measure=code,
        )
    on_date = _parse_date(raw.get("on_date"), today, code)
    policy = raw.get("policy")
    versions = _versions_of(catalogue)
    if policy is not None and policy not in versions:
        raise AssessInputError(
            f"context.policy {policy!r} is not a loaded policy version ({', '.join(versions)})",
            f"context.policy {policy!r} 不是已载入的政策版本（{'、'.join(versions)}）",
            measure=code,
        )
    awards_raw = raw.get("prior_awards")
    if awards_raw is None:
        awards_raw = []
    if not isinstance(awards_raw, list):
        raise AssessInputError(
            "context.prior_awards must be a list", "context.prior_awards 须为列表", measure=code
        )
    awards = tuple(
        _parse_award(catalogue, code, index, item) for index, item in enumerate(awards_raw)
    )
    return Context(on_date=on_date, prior_awards=awards, policy=policy)


def _versions_of(catalogue: Source) -> list[str]:
    if isinstance(catalogue, PolicyVersions):
        return [c.policy_code for c in catalogue]
    return [catalogue.policy_code]


def _parse_date(raw: Any, today: date, code: str) -> date:
    if raw is None:
        return today
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return raw
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise AssessInputError(
        f"context.on_date {raw!r} is not an ISO date (YYYY-MM-DD)",
        f"context.on_date {raw!r} 不是 YYYY-MM-DD 格式的日期",
        measure=code,
    )


def _parse_award(catalogue: Source, code: str, index: int, item: Any) -> PriorAward:
    where = f"context.prior_awards[{index}]"
    if not isinstance(item, Mapping):
        raise AssessInputError(f"{where} must be an object", f"{where} 须为对象", measure=code)
    allowed = {
        "measure",
        "year",
        "amount_cny",
        "warehouse_id",
        "store_id",
        "reference",
        "components",
        "component_amounts",
        "policy",
    }
    unknown = set(item) - allowed
    if unknown:
        raise AssessInputError(
            f"{where}: unknown keys {sorted(map(str, unknown))}",
            f"{where}：未知的键 {sorted(map(str, unknown))}",
            measure=code,
        )
    award_measure = item.get("measure")
    if not isinstance(award_measure, str) or award_measure not in catalogue.known_award_codes:
        raise AssessInputError(
            f"{where}.measure {award_measure!r} is neither a measure nor a linked policy",
            f"{where}.measure {award_measure!r} 既不是措施也不是已关联的政策",
            measure=code,
        )
    try:
        year = parse_int(item.get("year"), minimum=Decimal(2000), maximum=Decimal(2100))
        amount = parse_decimal(item.get("amount_cny"), places=2, maximum=_MAX_AWARD)
    except BadNumber as error:
        field = (
            "year" if "year" not in item or not _is_valid_year(item.get("year")) else "amount_cny"
        )
        raise AssessInputError(
            f"{where}.{field}: {error.message_en}",
            f"{where}.{field}：{error.message_zh}",
            measure=code,
        ) from None
    texts: dict[str, str | None] = {}
    for key in ("warehouse_id", "store_id", "reference"):
        value = item.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise AssessInputError(
                f"{where}.{key} must be a text or null",
                f"{where}.{key} 须为文本或 null",
                measure=code,
            )
        texts[key] = value.strip() if isinstance(value, str) and value.strip() else None
    components = item.get("components")
    if components is not None:
        if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
            raise AssessInputError(
                f"{where}.components must be a list of names",
                f"{where}.components 须为名称列表",
                measure=code,
            )
        components = tuple(components)
    component_amounts = _parse_component_amounts(item.get("component_amounts"), where, code)
    policy = item.get("policy")
    if policy is not None and policy not in _versions_of(catalogue):
        raise AssessInputError(
            f"{where}.policy {policy!r} is not a loaded policy version",
            f"{where}.policy {policy!r} 不是已载入的政策版本",
            measure=code,
        )
    return PriorAward(
        measure=award_measure,
        year=year,
        amount_cny=amount,
        warehouse_id=texts["warehouse_id"],
        store_id=texts["store_id"],
        reference=texts["reference"],
        components=components,
        component_amounts=component_amounts,
        policy=policy,
    )


def _parse_component_amounts(raw: Any, where: str, code: str) -> dict[str, Decimal] | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise AssessInputError(
            f"{where}.component_amounts must be an object of name to amount",
            f"{where}.component_amounts 须为“名称：金额”的对象",
            measure=code,
        )
    amounts: dict[str, Decimal] = {}
    for name, value in raw.items():
        try:
            amounts[str(name)] = parse_decimal(value, places=2, maximum=_MAX_AWARD)
        except BadNumber as error:
            raise AssessInputError(
                f"{where}.component_amounts.{name}: {error.message_en}",
                f"{where}.component_amounts.{name}：{error.message_zh}",
                measure=code,
            ) from None
    return amounts


def _is_valid_year(raw: Any) -> bool:
    try:
        parse_int(raw, minimum=Decimal(2000), maximum=Decimal(2100))
    except BadNumber:
        return False
    return True
