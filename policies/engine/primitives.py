"""The building blocks the measure rules are composed of.

Each primitive reads facts and parameters through an `Evaluation`, appends what it compared or
computed to the trace (citing the measure's clause unless told otherwise) and records a reason
when a condition fails. Rules keep evaluating after a failed condition so that the applicant sees
every unmet condition at once; amounts are only used when no reason was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .numbers import ZERO, grouped, percent, round_cny
from .result import Reason, TraceStep

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .definitions import Measure, ParameterValue


class MissingParameter(Exception):
    """No value of a parameter is in force on the reference date."""

    def __init__(self, key: str, on_date: date) -> None:
        super().__init__(f"parameter {key} has no value in force on {on_date}")
        self.key = key
        self.on_date = on_date


class Evaluation:
    """The working state of one assessment: facts, reference date, trace, reasons, amounts."""

    __slots__ = (
        "catalogue",
        "clause",
        "components",
        "discretionary_cap",
        "facts",
        "measure",
        "on_date",
        "reasons",
        "trace",
        "used",
        "year",
    )

    def __init__(
        self,
        catalogue: Catalogue,
        measure: Measure,
        facts: Mapping[str, Any],
        on_date: date,
        year: int,
    ) -> None:
        self.catalogue = catalogue
        self.measure = measure
        self.clause = measure.clause
        self.facts = facts
        self.on_date = on_date
        self.year = year
        self.trace: list[TraceStep] = []
        self.reasons: list[Reason] = []
        self.used: dict[str, ParameterValue] = {}
        self.components: dict[str, Decimal] = {}
        self.discretionary_cap: Decimal | None = None

    def param(self, key: str) -> Decimal:
        """The value of `key` in force on the reference date, recorded for the rules version."""
        found = self.catalogue.parameters[key].value_on(self.on_date)
        if found is None:
            raise MissingParameter(key, self.on_date)
        self.used[key] = found
        return found.value

    def step(
        self,
        text_zh: str,
        text_en: str,
        *,
        clause: str | None = None,
        interpretation: str | None = None,
    ) -> None:
        self.trace.append(TraceStep(clause or self.clause, text_zh, text_en, interpretation))

    def fail(
        self,
        text_zh: str,
        text_en: str,
        *,
        clause: str | None = None,
        interpretation: str | None = None,
    ) -> None:
        """Record an unmet condition: a reason, and the same sentence in the trace."""
        clause = clause or self.clause
        self.trace.append(TraceStep(clause, text_zh, text_en, interpretation))
        self.reasons.append(Reason(text_zh, text_en, clause, interpretation))

    def label(self, name: str) -> tuple[str, str]:
        fact = self.catalogue.facts[name]
        return fact.label_zh, fact.label_en

    def show(self, name: str, value: Any = None) -> tuple[str, str]:
        """A fact's value (or another value in the fact's unit) as the trace shows it."""
        return self.catalogue.facts[name].show(self.facts[name] if value is None else value)

    def add(self, component: str, amount: Decimal) -> None:
        self.components[component] = amount


def cny(amount: Decimal) -> tuple[str, str]:
    text = grouped(amount)
    return f"{text} 元", f"CNY {text}"


# -- conditions ------------------------------------------------------------------------------------


def require_true(ev: Evaluation, name: str) -> bool:
    """A boolean fact the article requires (e.g. "recognised by commerce departments")."""
    label_zh, label_en = ev.label(name)
    if ev.facts[name]:
        ev.step(f"{label_zh}：是", f"{label_en}: yes")
        return True
    ev.fail(f"不满足条件：{label_zh}（申报为“否”）", f"Condition not met: {label_en} (declared no)")
    return False


def require_positive(ev: Evaluation, *names: str) -> bool:
    """At least one of the named amounts is above zero: there is something to subsidise."""
    shown = [(ev.label(n), ev.show(n)) for n in names]
    zh = "；".join(f"{lz} {vz}" for (lz, _), (vz, _) in shown)
    en = "; ".join(f"{le} {ve}" for (_, le), (_, ve) in shown)
    if any(ev.facts[n] > 0 for n in names):
        ev.step(f"{zh}：大于 0", f"{en}: above 0")
        return True
    ev.fail(f"{zh}：须大于 0，无可补贴的金额", f"{en}: must be above 0, nothing to subsidise")
    return False


def condition(ev: Evaluation, ok: bool, text_zh: str, text_en: str) -> bool:
    """A condition the rule states itself; the same sentence explains success or failure."""
    if ok:
        ev.step(text_zh, text_en)
    else:
        ev.fail(text_zh, text_en)
    return ok


_SYMBOLS = {
    ("gt", True): (">", "（严格大于）", "(strictly greater)"),
    ("gt", False): ("≤", "（须严格大于）", "(must be strictly greater)"),
    ("ge", True): ("≥", "（达到即可，含本数）", "(reaches it, inclusive)"),
    ("ge", False): ("<", "（须达到）", "(must reach it)"),
}


def compare(ev: Evaluation, name: str, key: str) -> tuple[bool, str, str]:
    """Compare a fact with a threshold parameter using the comparison the catalogue states."""
    value = ev.facts[name]
    threshold = ev.param(key)
    comparison = ev.catalogue.parameters[key].comparison
    met = value > threshold if comparison == "gt" else value >= threshold
    symbol, qualifier_zh, qualifier_en = _SYMBOLS[(comparison, met)]  # type: ignore[index]
    label_zh, label_en = ev.label(name)
    value_zh, value_en = ev.show(name)
    limit_zh, limit_en = ev.show(name, threshold)
    return (
        met,
        f"{label_zh} {value_zh} {symbol} {limit_zh}{qualifier_zh}",
        f"{label_en} {value_en} {symbol} {limit_en} {qualifier_en}",
    )


def threshold(ev: Evaluation, name: str, key: str) -> bool:
    """A threshold that must be met (e.g. M07: leased area more than 100 sqm)."""
    met, text_zh, text_en = compare(ev, name, key)
    if met:
        ev.step(text_zh, text_en)
    else:
        ev.fail(f"不满足条件：{text_zh}", f"Condition not met: {text_en}")
    return met


Tier = tuple[Sequence[tuple[str, str]], str]  # ((fact, threshold key), ...), amount key


def tiers(ev: Evaluation, levels: Sequence[Tier]) -> Decimal | None:
    """The amount of the highest tier whose thresholds are all met, tried from the top down."""
    last_zh = last_en = ""
    for conditions, amount_key in levels:
        results = [compare(ev, name, key) for name, key in conditions]
        last_zh = "，且".join(zh for _, zh, _ in results)
        last_en = ", and ".join(en for _, _, en in results)
        if all(met for met, _, _ in results):
            amount = ev.param(amount_key)
            amount_zh, amount_en = cny(amount)
            ev.step(f"{last_zh}，奖励上限 {amount_zh}", f"{last_en}: award up to {amount_en}")
            return amount
        ev.step(f"{last_zh}：未达到该档", f"{last_en}: tier not reached")
    ev.fail(f"未达到最低一档：{last_zh}", f"Lowest tier not reached: {last_en}")
    return None


# -- amounts ---------------------------------------------------------------------------------------


def share(ev: Evaluation, name: str, rate_key: str, base: Decimal | None = None) -> Decimal:
    """A percentage of a base, rounded to 0.01 half up (e.g. 50% of promotion expenses)."""
    value = ev.facts[name] if base is None else base
    rate = ev.param(rate_key)
    amount = round_cny(value * rate)
    label_zh, label_en = ev.label(name)
    base_zh, base_en = ev.show(name, value)
    amount_zh, amount_en = cny(amount)
    ev.step(
        f"{label_zh} {base_zh} × {percent(rate)} = {amount_zh}（四舍五入到分）",
        f"{label_en} {base_en} × {percent(rate)} = {amount_en} (rounded half up to 0.01)",
    )
    return amount


def cap(ev: Evaluation, amount: Decimal, cap_key: str, what_zh: str, what_en: str) -> Decimal:
    """min(amount, cap), saying which one applies."""
    limit = ev.param(cap_key)
    amount_zh, amount_en = cny(amount)
    limit_zh, limit_en = cny(limit)
    if amount > limit:
        ev.step(
            f"{what_zh} {amount_zh} 超过上限 {limit_zh}，按上限 {limit_zh}",
            f"{what_en} {amount_en} exceeds the cap {limit_en}: {limit_en}",
        )
        return limit
    ev.step(
        f"{what_zh} {amount_zh} 未超过上限 {limit_zh}",
        f"{what_en} {amount_en} is within the cap {limit_en}",
    )
    return amount


def capped_rate(ev: Evaluation, name: str, rate_key: str, cap_key: str, component: str) -> Decimal:
    """min(rate × fact, cap): M04, M07 rent, M10B, M16; the trace names the component."""
    label = ev.measure.component_defs[component]
    return cap(
        ev, share(ev, name, rate_key), cap_key, label.label_zh, f"The {_lower(label.label_en)}"
    )


def _lower(label: str) -> str:
    """'Rent subsidy' -> 'rent subsidy' inside a sentence; acronyms ('CBEC ...') stay."""
    first = label.split(" ", 1)[0]
    return label if first.isupper() else label[:1].lower() + label[1:]


def capped_amount(ev: Evaluation, name: str, cap_key: str) -> Decimal:
    """min(fact, cap): the documented costs, at most the cap (M07 start-up, M13, M14)."""
    label_zh, label_en = ev.label(name)
    return cap(ev, ev.facts[name], cap_key, label_zh, label_en)


def sum_then_cap(
    ev: Evaluation, parts: Sequence[tuple[str, Decimal]], cap_key: str
) -> list[tuple[str, Decimal]]:
    """Add the components, cap the total, and take any excess off the last components first."""
    total = sum((amount for _, amount in parts), ZERO)
    labels = ev.measure.component_defs
    zh = " + ".join(f"{labels[n].label_zh} {grouped(a)}" for n, a in parts)
    en = " + ".join(f"{labels[n].label_en} {grouped(a)}" for n, a in parts)
    total_zh, total_en = cny(total)
    ev.step(f"合计：{zh} = {total_zh}", f"Total: {en} = {total_en}")
    capped = cap(ev, total, cap_key, "合计", "The total")
    return reduce_components(parts, capped)


def per_unit_with_annual_cap(ev: Evaluation, name: str, per_unit_key: str, cap_key: str) -> Decimal:
    """count × amount per unit, at most the annual cap (M09B: CNY 50,000 per new store)."""
    count = ev.facts[name]
    per_unit = ev.param(per_unit_key)
    total = per_unit * count
    label_zh, label_en = ev.label(name)
    count_zh, count_en = ev.show(name)
    per_zh, per_en = cny(per_unit)
    total_zh, total_en = cny(total)
    ev.step(
        f"{label_zh} {count_zh} × 每家 {per_zh} = {total_zh}",
        f"{label_en} {count_en} × {per_en} each = {total_en}",
    )
    return cap(ev, total, cap_key, "补贴", "The subsidy")


def reduce_components(
    parts: Sequence[tuple[str, Decimal]], total: Decimal
) -> list[tuple[str, Decimal]]:
    """Scale components down to `total` by taking the excess off the last ones first.

    Components always add up to the amount; the first component (the measure's main subsidy)
    is kept whole for as long as possible.
    """
    excess = sum((amount for _, amount in parts), ZERO) - total
    reduced: list[tuple[str, Decimal]] = []
    for name, amount in reversed(parts):
        cut = min(amount, max(excess, ZERO))
        excess -= cut
        reduced.append((name, amount - cut))
    reduced.reverse()
    return reduced
