"""The parts of a policy catalogue as frozen records: parameters and their dated values,
measures and their components, interpretations, overlap groups, dated effects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .facts import FactDef

MEASURE_KINDS = frozenset({"computed", "discretionary", "external"})
PARAMETER_KINDS = frozenset({"threshold", "amount", "cap", "rate", "constant"})
PARAMETER_UNITS = frozenset({"cny", "usd", "sqm", "count", "fraction", "days"})
COMPARISONS = frozenset({"gt", "ge"})
SCOPE_FACTS = frozenset({"store_id", "warehouse_id"})  # the PriorAward fields that can scope


@dataclass(frozen=True, slots=True)
class ParameterValue:
    """One dated value of a parameter; both ends inclusive, `effective_to` None = open."""

    value: Decimal
    text: str
    effective_from: date
    effective_to: date | None


@dataclass(frozen=True, slots=True)
class Parameter:
    key: str
    clause: str
    kind: str
    unit: str
    comparison: str | None
    interpretation: str | None
    label_zh: str
    label_en: str
    values: tuple[ParameterValue, ...]

    def value_on(self, on_date: date) -> ParameterValue | None:
        for item in self.values:
            if item.effective_from <= on_date and (
                item.effective_to is None or on_date <= item.effective_to
            ):
                return item
        return None


@dataclass(frozen=True, slots=True)
class ComponentDef:
    name: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class OverlapGroup:
    code: str
    clause: str
    interpretation: str | None
    name_zh: str
    name_en: str
    measures: tuple[str, ...]
    external_policies: tuple[str, ...]

    @property
    def members(self) -> frozenset[str]:
        return frozenset(self.measures) | frozenset(self.external_policies)


@dataclass(frozen=True, slots=True)
class Measure:
    code: str
    clause: str
    section: str
    title_zh: str
    title_en: str
    kind: str
    one_time: bool
    one_time_components: tuple[str, ...]
    annual_cap: bool
    scope_fact: str | None
    waived_general_facts: tuple[str, ...]
    entity_types: tuple[str, ...]
    responsible_units: tuple[str, ...]
    evidence_types: tuple[str, ...]
    facts: tuple[str, ...]
    components: tuple[ComponentDef, ...]
    conditions_zh: str
    conditions_en: str
    article_text_en: str
    article_text_zh: str
    # I-9: a component capped per applicant and year across applications: {component: cap key}.
    component_annual_caps: Mapping[str, str] = field(default_factory=dict)
    component_cap_interpretation: str | None = None
    # The interpretation the annual-cap step cites (I-4 unless the measure names another, I-10).
    annual_cap_interpretation: str = "I-4"
    # I-11: a same-year award of this measure is named in the trace, not deducted.
    same_year_notice: str | None = None
    # Precomputed by the catalogue so that an assessment does no lookups it can avoid.
    fact_defs: tuple[tuple[FactDef, bool], ...] = ()  # (definition, required for this measure)
    fact_names: frozenset[str] = frozenset()
    overlap_groups: tuple[OverlapGroup, ...] = ()
    component_defs: Mapping[str, ComponentDef] = field(default_factory=dict)
    digest: str = ""


@dataclass(frozen=True, slots=True)
class Interpretation:
    code: str
    clauses: tuple[str, ...]
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    applies_to: tuple[str, ...]
    # The measure settings this reading decides (EFFECT_SETTINGS); an administrator changes them
    # from a date onwards as `effects`, each restating the reading's text.
    governs: tuple[str, ...] = ()


# What an interpretation may decide about a measure, and the type of each value.
EFFECT_SETTINGS = {
    "one_time": bool,
    "one_time_components": list,
    "annual_cap": bool,
    "waived_general_facts": list,
    "overlap_groups": list,
}


@dataclass(frozen=True, slots=True)
class Effect:
    """A change of what an interpretation does, in force from `effective_from` (inclusive).

    `setting` is one of EFFECT_SETTINGS (applied to `measure`) or "wording" (the text alone);
    `text_zh`/`text_en` are the interpretation's full text from that date, so the text and what
    the engine does never part.
    """

    interpretation: str
    setting: str
    measure: str | None
    value: Any
    effective_from: date
    text_zh: str
    text_en: str
