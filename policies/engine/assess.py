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


def assess(
    catalogue: Catalogue, measure_code: str, raw_facts: Mapping[str, Any], context: Context
) -> Result:
    """Assess one application of `measure_code`.

    Raises `UnknownMeasure` or `FactError` for malformed input; every other outcome, including a
    parameter with no value in force on the reference date, is a `Result`.
    """
    measure = catalogue.measures.get(measure_code) if isinstance(measure_code, str) else None
    if measure is None:
        raise UnknownMeasure(str(measure_code))
    with localcontext(_ARITHMETIC):
        return _assess(catalogue, measure, parse_facts(catalogue, measure, raw_facts), context)


def _assess(
    catalogue: Catalogue, measure: Measure, facts: dict[str, Any], context: Context
) -> Result:
    on_date = context.on_date
    year = facts.get("year")
    ev = Evaluation(catalogue, measure, facts, on_date, year if year is not None else on_date.year)
    if year is None:
        ev.step(
            f"未申报业绩年度：按参考日期 {on_date} 取 {on_date.year} 年",
            f"No performance year declared: the year of the reference date {on_date}, "
            f"{on_date.year}",
        )
    _check_gate(ev)
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
    catalogue: Catalogue, measure_code: str, general_facts: Mapping[str, Any], context: Context
) -> Result:
    """What can be said from the general facts alone (an applicant's profile), before any figures.

    Runs the gate of `assess` (I-5 validity, Art. I general conditions with the I-1 waiver,
    admitted entity types) and, for one-time measures without a store scope, the I-3 rule. An
    eligible result means "may apply", with amount and cap None: no figures, no amount.
    """
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
        _check_gate(ev)
        if not ev.reasons and measure.one_time and measure.scope_fact is None:
            earlier = [a for a in context.prior_awards if a.measure == measure.code]
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
        )
    return result


def _check_gate(ev: Evaluation) -> None:
    """I-5 validity, Art. I general conditions (with the I-1 waiver) and the admitted types."""
    cat = ev.catalogue
    measure = ev.measure
    on_date = ev.on_date
    period_zh = f"{cat.valid_from} 至 {cat.valid_to}（含）"
    period_en = f"{cat.valid_from} to {cat.valid_to} inclusive"
    if cat.valid_from <= on_date <= cat.valid_to:
        ev.step(
            f"参考日期 {on_date} 在政策有效期 {period_zh}内",
            f"Reference date {on_date} is within the policy's validity, {period_en}",
            clause=cat.validity_clause,
            interpretation=cat.validity_interpretation,
        )
    else:
        ev.fail(
            f"参考日期 {on_date} 不在政策有效期 {period_zh}内",
            f"Reference date {on_date} is outside the policy's validity, {period_en}",
            clause=cat.validity_clause,
            interpretation=cat.validity_interpretation,
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

    # I-3: a one-time reward already granted makes the application ineligible; for M07 only the
    # start-up component falls away.
    if measure.one_time and same_measure:
        earlier_zh, earlier_en = _describe(same_measure)
        ev.fail(
            f"一次性奖励在政策有效期内只享受一次，已获：{earlier_zh}",
            f"A one-time reward is granted once while the policy is in force; already awarded: "
            f"{earlier_en}",
            interpretation="I-3",
        )
        return
    for component in measure.one_time_components:
        earlier = [a for a in same_measure if a.components is None or component in a.components]
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

    total = sum((a for _, a in parts), ZERO)
    if total <= 0:
        ev.fail(
            "计算所得金额为 0.00 元，无可补贴的金额",
            "The computed amount is CNY 0.00: nothing to award",
        )
        return

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
                    interpretation="I-4",
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
                interpretation="I-4",
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
    )


# -- parsing one request of the `assess` command ------------------------------------------------


def parse_request(
    catalogue: Catalogue, obj: Any, today: date
) -> tuple[str, dict[str, Any], Context]:
    """Validate one input object ``{"measure", "facts", "context": {"on_date", "prior_awards"}}``.

    Returns (measure code, typed facts, context); raises `AssessInputError` (or its subclasses
    `UnknownMeasure`, `FactError`) with a message naming what is wrong. Parse JSON with
    ``parse_float=Decimal`` so that amounts keep their decimal text.
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
    measure = catalogue.measures.get(code)
    if measure is None:
        raise UnknownMeasure(code)
    raw_facts = obj.get("facts")
    if not isinstance(raw_facts, Mapping):
        raise AssessInputError("'facts' must be an object", "facts 须为对象", measure=code)
    facts = parse_facts(catalogue, measure, raw_facts)
    context = _parse_context(catalogue, code, obj.get("context"), today)
    return code, facts, context


def _parse_context(catalogue: Catalogue, code: str, raw: Any, today: date) -> Context:
    if raw is None:
        return Context(on_date=today)
    if not isinstance(raw, Mapping):
        raise AssessInputError("'context' must be an object", "context 须为对象", measure=code)
    unknown = set(raw) - {"on_date", "prior_awards"}
    if unknown:
        raise AssessInputError(
            f"context: unknown keys {sorted(map(str, unknown))}",
            f"context：未知的键 {sorted(map(str, unknown))}",
            measure=code,
        )
    on_date = _parse_date(raw.get("on_date"), today, code)
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
    return Context(on_date=on_date, prior_awards=awards)


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


def _parse_award(catalogue: Catalogue, code: str, index: int, item: Any) -> PriorAward:
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
    return PriorAward(
        measure=award_measure,
        year=year,
        amount_cny=amount,
        warehouse_id=texts["warehouse_id"],
        store_id=texts["store_id"],
        reference=texts["reference"],
        components=components,
    )


def _is_valid_year(raw: Any) -> bool:
    try:
        parse_int(raw, minimum=Decimal(2000), maximum=Decimal(2100))
    except BadNumber:
        return False
    return True
