"""The context of an assessment: the reference date and the applicant's earlier awards."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class PriorAward:
    """An award already approved for the same applicant (or declared under a linked policy).

    `measure` is a measure code or the code of an external policy linked to an overlap group.
    `components` names the components the award covered (None: all of the measure's components);
    `component_amounts` gives the amount of each (the portal always passes it for its own awards,
    I-9). `policy` is the version the award was made under (None: the version assessing now).
    """

    measure: str
    year: int
    amount_cny: Decimal
    warehouse_id: str | None = None
    store_id: str | None = None
    reference: str | None = None
    components: tuple[str, ...] | None = None
    component_amounts: Mapping[str, Decimal] | None = None
    policy: str | None = None
    # describe()'s text, kept once made: an award is named in many traces.
    _described: tuple[str, str] | None = field(default=None, init=False, repr=False, compare=False)

    def component_share(self, component: str) -> Decimal:
        """This award's share of one component (I-9): stated, else all of it when it is the
        award's only component, else (conservatively) the whole amount."""
        if self.component_amounts is not None:
            return self.component_amounts.get(component, Decimal("0"))
        return self.amount_cny

    def describe(self) -> tuple[str, str]:
        """'M06 2026 年 150,000.00 元（编号 X）' / 'M06 2026 CNY 150,000.00 (ref. X)'."""
        if self._described is not None:
            return self._described
        amount = f"{self.amount_cny:,.2f}"
        zh = f"{self.measure} {self.year} 年 {amount} 元"
        en = f"{self.measure} {self.year} CNY {amount}"
        if self.store_id:
            zh += f"，门店 {self.store_id}"
            en += f", store {self.store_id}"
        if self.warehouse_id:
            zh += f"，海外仓 {self.warehouse_id}"
            en += f", warehouse {self.warehouse_id}"
        if self.policy:
            zh += f"，{self.policy}"
            en += f", {self.policy}"
        if self.reference:
            zh += f"（编号 {self.reference}）"
            en += f" (ref. {self.reference})"
        object.__setattr__(self, "_described", (zh, en))
        return zh, en


@dataclass(frozen=True, slots=True)
class Context:
    """`on_date` is the reference date: it selects the policy version (unless `policy` names one),
    the parameter values and decides validity (I-5). `notes` are trace steps the caller adds
    (clause, text_zh, text_en), e.g. a reviewer's reason for a verified fact or another date."""

    on_date: date
    prior_awards: tuple[PriorAward, ...] = ()
    policy: str | None = None
    notes: tuple[tuple[str, str, str], ...] = ()
    # The earlier awards by measure and by year, built once: the rules across applications look
    # up the few that matter instead of scanning them all (an applicant may have many).
    _by_measure: Mapping[str, tuple[PriorAward, ...]] = field(init=False, repr=False, compare=False)
    _by_year: Mapping[int, tuple[PriorAward, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.on_date, datetime) or not isinstance(self.on_date, date):
            raise TypeError("Context.on_date must be a datetime.date")
        by_measure: dict[str, list[PriorAward]] = defaultdict(list)
        by_year: dict[int, list[PriorAward]] = defaultdict(list)
        for award in self.prior_awards:
            by_measure[award.measure].append(award)
            by_year[award.year].append(award)
        object.__setattr__(self, "_by_measure", {k: tuple(v) for k, v in by_measure.items()})
        object.__setattr__(self, "_by_year", {k: tuple(v) for k, v in by_year.items()})

    def awards_of(self, measure: str) -> tuple[PriorAward, ...]:
        """The earlier awards of one measure (or linked policy), in the order given."""
        return self._by_measure.get(measure, ())

    def awards_in(self, year: int) -> tuple[PriorAward, ...]:
        """The earlier awards of one year, in the order given."""
        return self._by_year.get(year, ())
