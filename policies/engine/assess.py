"""`assess`: one measure, the declared (or verified) facts and a context -> a `Result`.

The order is fixed: validity (I-5), general conditions (Art. I, I-1), admitted entity type, the
measure's own rule, then the rules across applications: one-time (I-3), annual caps (I-4) and
overlap groups (I-6). Nothing here reads a database: the caller passes the earlier awards.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from decimal import Context as DecimalContext
from typing import Any

from .catalogue import Catalogue, Measure
from .context import Context
from .errors import AssessInputError, FactError, UnknownMeasure
from .facts import FactDef
from .limits import apply_limits, counts_as_one_time, describe, note_overlap
from .numbers import ZERO, BadNumber, round_cny
from .primitives import Evaluation, MissingParameter
from .result import Component, Result
from .rules import RULES
from .version import rules_version, used_parameters
from .versions import Choice, PolicyVersions

Source = Catalogue | PolicyVersions

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
                apply_limits(ev, context)
            elif not ev.reasons and measure.kind == "external":
                note_overlap(ev, context)
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
                a for a in context.awards_of(measure.code) if counts_as_one_time(catalogue, a)
            ]
            if earlier and not measure.one_time_components:
                text_zh, text_en = describe(earlier)
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
