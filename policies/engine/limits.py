"""The rules across applications: one-time (I-3), per-component annual caps (I-9), the same-year
notice (I-11), annual caps (I-4) and overlap groups (I-6), on the earlier awards of the context
(looked up by measure and year, not scanned)."""

from __future__ import annotations

from collections.abc import Sequence

from .catalogue import Catalogue
from .context import Context, PriorAward
from .numbers import ZERO, grouped
from .primitives import Evaluation, cny, reduce_components


def counts_as_one_time(catalogue: Catalogue, award: PriorAward) -> bool:
    """I-3 within one version, unless the version says awards of earlier ones count too."""
    return award.policy is None or award.policy in catalogue.one_time_counts_policies


def _matches_scope(ev: Evaluation, award: PriorAward) -> bool:
    """Same store (M09A) / same warehouse (M10B); an award without the id counts, to be safe."""
    scope = ev.measure.scope_fact
    if scope is None:
        return True
    recorded = getattr(award, scope)
    return recorded is None or recorded == ev.facts[scope]


def describe(awards: Sequence[PriorAward]) -> tuple[str, str]:
    described = [a.describe() for a in awards]
    return "；".join(zh for zh, _ in described), "; ".join(en for _, en in described)


def apply_limits(ev: Evaluation, context: Context) -> None:
    """I-3 one-time, I-4 annual caps, I-6 overlap groups, in that order, then the total."""
    measure = ev.measure
    code = measure.code
    parts = [(name, amount) for name, amount in ev.components.items()]
    same_measure = [a for a in context.awards_of(code) if _matches_scope(ev, a)]
    # I-3 counts awards of this version (and of the earlier versions it names); annual caps and
    # overlap groups count the same year whatever the version.
    one_time_earlier = [a for a in same_measure if counts_as_one_time(ev.catalogue, a)]

    # I-3: a one-time reward already granted makes the application ineligible; for M07 only the
    # start-up component falls away.
    if measure.one_time and one_time_earlier:
        earlier_zh, earlier_en = describe(one_time_earlier)
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
            earlier_zh, earlier_en = describe(earlier)
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
        earlier_zh, earlier_en = describe(this_year)
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
            earlier_zh, earlier_en = describe(this_year)
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
            earlier_zh, earlier_en = describe(this_year)
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
            for a in context.awards_in(ev.year)
            if a.measure != code and a.measure in group.members
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
        earlier_zh, earlier_en = describe(others)
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


def note_overlap(ev: Evaluation, context: Context) -> None:
    """M15 has no amount here; name the group's awards so the settling authority can deduct them."""
    for group in ev.measure.overlap_groups:
        others = [
            a
            for a in context.awards_in(ev.year)
            if a.measure != ev.measure.code and a.measure in group.members
        ]
        if others:
            earlier_zh, earlier_en = describe(others)
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
