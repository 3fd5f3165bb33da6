"""The policy catalogue: the policy, its measures, facts, dated parameters and readings, as data.

The catalogue is built from one plain dict (lists, dicts, strings, booleans, dates), validated by
`Catalogue.from_data`. The YAML files in ``policies/catalogue/`` are merged into that dict by
`load_catalogue_dir`; the Django layer builds the same dict from its database rows. Dates may be
`datetime.date` or ISO strings; numbers in parameter values are strings (or `Decimal`), never
floats.

Structure (keys marked * are optional; lists may be empty)::

    policy:               {code, title_zh, title_en, issuer_zh, issuer_en, published_via_zh*,
                           published_via_en*, published_on, valid_from, valid_to,
                           validity_clause, validity_interpretation*, source_file*}
    general_conditions:   {clause: "I", must_be_true: [fact name, ...]}
    sections*:            [{code: "II(1)", roman: "II", number: 1, title_zh, title_en}]
    articles*:            [{clause: "I", section, title_zh, title_en, article_text_en,
                            article_text_zh, article_text_zh_is_translation}]
    entity_types:         [{code, label_zh, label_en}]
    responsible_units:    [{code, name_zh, name_en}]
    evidence_types:       [{code, label_zh, label_en, allows_zip: bool}]
    fund_sources*:        [{code, clause, name_zh, name_en}]
    places*:              [{code, kind, name_zh, name_en}]
    facts:                [{name, kind, required: bool, label_zh, label_en, help_zh*, help_en*,
                            scope*: "general" | "measure", unit_zh*, unit_en*, min*, max*,
                            choices*: [{value, label_zh, label_en}], choices_from*: "entity_types",
                            max_length*}]
    measures:             [{code, clause, section, title_zh, title_en,
                            kind: "computed" | "discretionary" | "external",
                            one_time: bool, one_time_components*: [name], annual_cap: bool,
                            scope_fact*: fact name, waived_general_facts*: [fact name],
                            entity_types: [code], responsible_units: [code],
                            evidence_types: [code], facts: [fact name],
                            components: [{name, label_zh, label_en}],
                            conditions_zh, conditions_en, article_text_en, article_text_zh,
                            article_text_zh_is_translation*}]
    parameters:           [{key, clause, kind: "threshold" | "amount" | "cap" | "rate" | "constant",
                            unit: "cny" | "usd" | "sqm" | "count" | "fraction" | "days",
                            comparison: "gt" | "ge" (thresholds only, required there),
                            interpretation*, label_zh*, label_en*,
                            values: [{value: "500000", effective_from, effective_to: date | null}]}]
    interpretations:      [{code: "I-1", clauses: [clause], title_zh, title_en, text_zh, text_en,
                            applies_to*: [measure code], implemented_by*}]
    overlap_groups:       [{code, clause, interpretation, name_zh*, name_en*, measures: [code],
                            external_policies*: [code | {code, title_zh, title_en}]}]
    external_policies*:   [{code, title_zh, title_en}]

A clause is cited as text ("II(3)5", "II(4)¶1", "I", "III"); the clauses known to the catalogue
are those of the measures and of `articles`; every other clause reference must be one of them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from .errors import CatalogueError
from .facts import FACT_KINDS, NUMERIC_KINDS, FactDef
from .rules import RULES

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


class Catalogue:
    """The validated catalogue. Build it with `Catalogue.from_data(data)`; treat it as read-only."""

    def __init__(self) -> None:  # use from_data
        self.data: dict[str, Any] = {}
        self.policy: dict[str, Any] = {}
        self.policy_code = ""
        self.valid_from = date.min
        self.valid_to = date.max
        self.validity_clause = ""
        self.validity_interpretation: str | None = None
        self.published_on = date.min
        self.first_performance_year = 0
        self.performance_year_interpretation: str | None = None
        self.reference_date_interpretation: str | None = None
        self.one_time_counts_policies: frozenset[str] = frozenset()
        self.general_clause = ""
        self.general_must_be_true: tuple[str, ...] = ()
        self.sections: dict[str, dict[str, Any]] = {}
        self.articles: dict[str, dict[str, Any]] = {}
        self.entity_types: dict[str, dict[str, Any]] = {}
        self.responsible_units: dict[str, dict[str, Any]] = {}
        self.evidence_types: dict[str, dict[str, Any]] = {}
        self.fund_sources: dict[str, dict[str, Any]] = {}
        self.places: dict[str, dict[str, Any]] = {}
        self.external_policies: dict[str, dict[str, Any]] = {}
        self.facts: dict[str, FactDef] = {}
        self.measures: dict[str, Measure] = {}
        self.parameters: dict[str, Parameter] = {}
        self.interpretations: dict[str, Interpretation] = {}
        self.overlap_groups: dict[str, OverlapGroup] = {}
        self.known_award_codes: frozenset[str] = frozenset()
        self.effects: tuple[Effect, ...] = ()
        self._dated: dict[tuple[int, ...], Catalogue] = {}

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Catalogue:
        """Validate `data` (see the module docstring) and build the catalogue.

        Raises `CatalogueError` naming the offending item.
        """
        if not isinstance(data, Mapping):
            raise CatalogueError("catalogue data must be a mapping")
        cat = cls()
        cat.data = dict(data)
        cat._build_policy(_get(data, "policy", "catalogue", Mapping))
        cat.sections = _index(data.get("sections", []), "code", "sections")
        cat.articles = _index(data.get("articles", []), "clause", "articles")
        cat.entity_types = _index(
            _get(data, "entity_types", "catalogue", list), "code", "entity_types"
        )
        cat.responsible_units = _index(
            _get(data, "responsible_units", "catalogue", list), "code", "responsible_units"
        )
        cat.evidence_types = _index(
            _get(data, "evidence_types", "catalogue", list), "code", "evidence_types"
        )
        for code, item in cat.evidence_types.items():
            if not isinstance(item.get("allows_zip"), bool):
                raise CatalogueError(f"evidence type {code}: allows_zip must be true or false")
        cat.fund_sources = _index(data.get("fund_sources", []), "code", "fund_sources")
        cat.places = _index(data.get("places", []), "code", "places")
        cat.external_policies = _index(
            data.get("external_policies", []), "code", "external_policies"
        )
        cat._build_facts(_get(data, "facts", "catalogue", list))
        cat._build_general(_get(data, "general_conditions", "catalogue", Mapping))
        cat._build_measures(_get(data, "measures", "catalogue", list))
        known_clauses = {m.clause for m in cat.measures.values()} | set(cat.articles)
        cat._build_parameters(_get(data, "parameters", "catalogue", list), known_clauses)
        cat._build_interpretations(_get(data, "interpretations", "catalogue", list), known_clauses)
        cat._build_overlap_groups(_get(data, "overlap_groups", "catalogue", list), known_clauses)
        cat._check_references(known_clauses)
        cat._link_measures()
        cat._build_effects(data.get("effects") or [])
        return cat

    # -- interpretation effects, dated --------------------------------------------------------

    def _build_effects(self, items: list[Any]) -> None:
        """Validate the dated effects; each one must leave a valid catalogue from its date."""
        if not isinstance(items, list):
            raise CatalogueError("effects must be a list")
        effects: list[Effect] = []
        for index, item in enumerate(items):
            where = f"effect {index + 1}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            code = _text(item, "interpretation", where)
            interpretation = self.interpretations.get(code)
            if interpretation is None:
                raise CatalogueError(f"{where}: unknown interpretation {code!r}")
            setting = _text(item, "setting", where)
            start = _date(item.get("effective_from"), f"{where} effective_from")
            if not self.valid_from < start <= self.valid_to:
                raise CatalogueError(
                    f"{where}: takes effect on {start}, outside the version's validity after its "
                    f"first day ({self.valid_from} to {self.valid_to})"
                )
            measure = item.get("measure")
            value = item.get("value")
            if setting == "wording":
                if measure is not None or value is not None:
                    raise CatalogueError(f"{where}: a wording change names no measure and value")
            else:
                if setting not in interpretation.governs:
                    raise CatalogueError(
                        f"{where}: {code} does not decide {setting!r} (it decides "
                        f"{', '.join(interpretation.governs) or 'nothing'})"
                    )
                if measure not in self.measures:
                    raise CatalogueError(f"{where}: unknown measure {measure!r}")
                if interpretation.applies_to and measure not in interpretation.applies_to:
                    raise CatalogueError(f"{where}: {code} does not apply to {measure}")
                kind = EFFECT_SETTINGS[setting]
                if not isinstance(value, kind) or (
                    kind is list and not all(isinstance(v, str) for v in value)
                ):
                    raise CatalogueError(f"{where}: {setting} must be a {kind.__name__}")
            effect = Effect(
                interpretation=code,
                setting=setting,
                measure=measure,
                value=list(value) if isinstance(value, list) else value,
                effective_from=start,
                text_zh=_text(item, "text_zh", where),
                text_en=_text(item, "text_en", where),
            )
            previous = self.interpretation_on(code, start - timedelta(days=1), effects)
            if (effect.text_zh, effect.text_en) == (previous.text_zh, previous.text_en):
                raise CatalogueError(
                    f"{where}: restate {code}'s text as it reads from {start}; an unchanged text "
                    "would silently differ from what the engine does"
                )
            later = [e for e in effects if e.effective_from > start]
            if later:
                raise CatalogueError(
                    f"{where}: effects must be added in date order ({later[0].effective_from} "
                    f"is later than {start})"
                )
            effects.append(effect)
            self.effects = tuple(effects)
            self.on(start)  # the catalogue as of that date must be valid

    def interpretation_on(
        self, code: str, on_date: date, effects: list[Effect] | tuple[Effect, ...] | None = None
    ) -> Interpretation:
        """The interpretation `code` with the text in force on `on_date`."""
        base = self.interpretations[code]
        texts = [
            e
            for e in (self.effects if effects is None else effects)
            if e.interpretation == code and e.effective_from <= on_date
        ]
        if not texts:
            return base
        last = texts[-1]
        return Interpretation(
            code=base.code,
            clauses=base.clauses,
            title_zh=base.title_zh,
            title_en=base.title_en,
            text_zh=last.text_zh,
            text_en=last.text_en,
            applies_to=base.applies_to,
            governs=base.governs,
        )

    def on(self, on_date: date) -> Catalogue:
        """The catalogue as the interpretations' effects in force on `on_date` make it."""
        active = tuple(i for i, e in enumerate(self.effects) if e.effective_from <= on_date)
        if not active:
            return self
        found = self._dated.get(active)
        if found is not None:
            return found
        data = copy.deepcopy({k: v for k, v in self.data.items() if k != "effects"})
        measures = {m["code"]: m for m in data["measures"]}
        groups = {g["code"]: g for g in data.get("overlap_groups", [])}
        for index in active:
            effect = self.effects[index]
            if effect.setting == "overlap_groups":
                for code, group in groups.items():
                    members = [m for m in group.get("measures", []) if m != effect.measure]
                    if code in effect.value:
                        members.append(effect.measure)
                    group["measures"] = members
                unknown = set(effect.value) - set(groups)
                if unknown:
                    raise CatalogueError(
                        f"effect of {effect.interpretation} on {effect.measure}: unknown overlap "
                        f"groups {sorted(unknown)}"
                    )
            elif effect.setting != "wording":
                measures[effect.measure][effect.setting] = effect.value
        for item in data["interpretations"]:
            current = self.interpretation_on(item["code"], on_date)
            item["text_zh"], item["text_en"] = current.text_zh, current.text_en
        try:
            dated = Catalogue.from_data(data)
        except CatalogueError as exc:
            raise CatalogueError(f"as of {on_date}: {exc}") from None
        self._dated[active] = dated
        return dated

    def _build_policy(self, policy: Mapping[str, Any]) -> None:
        self.policy = dict(policy)
        self.policy_code = _text(policy, "code", "policy")
        self.valid_from = _date(policy.get("valid_from"), "policy valid_from")
        self.valid_to = _date(policy.get("valid_to"), "policy valid_to")
        if self.valid_to < self.valid_from:
            raise CatalogueError("policy: valid_to is before valid_from")
        self.validity_clause = _text(policy, "validity_clause", "policy")
        self.validity_interpretation = policy.get("validity_interpretation")
        self.published_on = _date(policy.get("published_on"), "policy published_on")
        first = policy.get("first_performance_year", self.valid_from.year)
        if not isinstance(first, int) or isinstance(first, bool) or first > self.valid_to.year:
            raise CatalogueError(
                f"policy: first_performance_year {first!r} must be a year no later than valid_to"
            )
        self.first_performance_year = first
        self.performance_year_interpretation = policy.get("performance_year_interpretation")
        self.reference_date_interpretation = policy.get("reference_date_interpretation")
        counts = policy.get("one_time_counts_policies") or []
        if not isinstance(counts, list) or not all(isinstance(c, str) for c in counts):
            raise CatalogueError("policy: one_time_counts_policies must be a list of codes")
        # I-3 across versions: awards under these earlier versions count as one-time awards too.
        self.one_time_counts_policies = frozenset(counts) | {self.policy_code}

    def _build_general(self, general: Mapping[str, Any]) -> None:
        self.general_clause = _text(general, "clause", "general_conditions")
        names = tuple(_get(general, "must_be_true", "general_conditions", list))
        for name in names:
            fact = self.facts.get(name)
            if fact is None or fact.kind != "bool":
                raise CatalogueError(f"general_conditions: {name!r} is not a boolean fact")
        self.general_must_be_true = names
        for required in ("entity_type", "year"):
            if required not in self.facts:
                raise CatalogueError(f"facts: the general fact {required!r} is missing")

    def _build_facts(self, items: list[Any]) -> None:
        for item in items:
            where = f"fact {item.get('name') if isinstance(item, Mapping) else item!r}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            name = _text(item, "name", where)
            if name in self.facts:
                raise CatalogueError(f"{where}: defined twice")
            kind = _text(item, "kind", where)
            if kind not in FACT_KINDS:
                raise CatalogueError(f"{where}: unknown kind {kind!r}")
            if not isinstance(item.get("required"), bool):
                raise CatalogueError(f"{where}: required must be true or false")
            choices: list[tuple[str, str, str]] = []
            if kind == "choice":
                if item.get("choices_from") == "entity_types":
                    choices = [
                        (code, str(e.get("label_zh", code)), str(e.get("label_en", code)))
                        for code, e in self.entity_types.items()
                    ]
                else:
                    for choice in item.get("choices") or []:
                        value = _text(choice, "value", f"{where} choice")
                        choices.append(
                            (
                                value,
                                str(choice.get("label_zh", value)),
                                str(choice.get("label_en", value)),
                            )
                        )
                if not choices:
                    raise CatalogueError(f"{where}: a choice fact needs choices")
            minimum = _optional_decimal(item.get("min"), f"{where} min")
            maximum = _optional_decimal(item.get("max"), f"{where} max")
            if kind in NUMERIC_KINDS and maximum is None:
                raise CatalogueError(f"{where}: a numeric fact needs a max")
            self.facts[name] = FactDef(
                name=name,
                kind=kind,
                required=item["required"],
                label_zh=_text(item, "label_zh", where),
                label_en=_text(item, "label_en", where),
                scope=str(item.get("scope", "measure")),
                minimum=minimum
                if minimum is not None
                else (Decimal(0) if kind in NUMERIC_KINDS else None),
                maximum=maximum,
                choices=tuple(c[0] for c in choices),
                choice_labels=tuple(choices),
                max_length=int(item.get("max_length", 200)),
                unit_zh=str(item.get("unit_zh", "")),
                unit_en=str(item.get("unit_en", "")),
                unit_en_one=str(item.get("unit_en_one", "")),
                reviewer_only=bool(item.get("reviewer_only", False)),
                answer_required=bool(item.get("answer_required", False)),
            )

    def _build_measures(self, items: list[Any]) -> None:
        for item in items:
            where = f"measure {item.get('code') if isinstance(item, Mapping) else item!r}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            code = _text(item, "code", where)
            if code in self.measures:
                raise CatalogueError(f"{where}: defined twice")
            kind = _text(item, "kind", where)
            if kind not in MEASURE_KINDS:
                raise CatalogueError(f"{where}: unknown kind {kind!r}")
            section = _text(item, "section", where)
            if self.sections and section not in self.sections:
                raise CatalogueError(f"{where}: unknown section {section!r}")
            for flag in ("one_time", "annual_cap"):
                if not isinstance(item.get(flag), bool):
                    raise CatalogueError(f"{where}: {flag} must be true or false")
            entity_types = _codes(item, "entity_types", where, self.entity_types, "entity type")
            units = _codes(
                item, "responsible_units", where, self.responsible_units, "responsible unit"
            )
            evidence = _codes(item, "evidence_types", where, self.evidence_types, "evidence type")
            if not entity_types:
                raise CatalogueError(f"{where}: admits no entity type")
            facts = tuple(_get(item, "facts", where, list))
            for name in facts:
                if name not in self.facts:
                    raise CatalogueError(f"{where}: unknown fact {name!r}")
                if self.facts[name].scope == "general":
                    raise CatalogueError(f"{where}: {name!r} is a general fact, do not list it")
            waived = tuple(item.get("waived_general_facts") or ())
            for name in waived:
                if name not in self.general_must_be_true:
                    raise CatalogueError(f"{where}: waives {name!r}, not a general condition")
            scope_fact = item.get("scope_fact")
            if scope_fact is not None and (
                scope_fact not in facts or scope_fact not in SCOPE_FACTS
            ):
                raise CatalogueError(f"{where}: scope_fact {scope_fact!r} is not a usable fact")
            components = tuple(
                ComponentDef(
                    name=_text(c, "name", f"{where} component"),
                    label_zh=_text(c, "label_zh", f"{where} component"),
                    label_en=_text(c, "label_en", f"{where} component"),
                )
                for c in item.get("components") or ()
            )
            names = {c.name for c in components}
            one_time_components = tuple(item.get("one_time_components") or ())
            for name in one_time_components:
                if name not in names:
                    raise CatalogueError(f"{where}: one-time component {name!r} is not a component")
            component_caps = item.get("component_annual_caps") or {}
            if not isinstance(component_caps, Mapping):
                raise CatalogueError(f"{where}: component_annual_caps must be a mapping")
            for name in component_caps:
                if name not in names:
                    raise CatalogueError(
                        f"{where}: component_annual_caps names {name!r}, not a component"
                    )
            self.measures[code] = Measure(
                code=code,
                clause=_text(item, "clause", where),
                section=section,
                title_zh=_text(item, "title_zh", where),
                title_en=_text(item, "title_en", where),
                kind=kind,
                one_time=item["one_time"],
                one_time_components=one_time_components,
                annual_cap=item["annual_cap"],
                scope_fact=scope_fact,
                waived_general_facts=waived,
                entity_types=entity_types,
                responsible_units=units,
                evidence_types=evidence,
                facts=facts,
                components=components,
                conditions_zh=str(item.get("conditions_zh", "")),
                conditions_en=str(item.get("conditions_en", "")),
                article_text_en=str(item.get("article_text_en", "")),
                article_text_zh=str(item.get("article_text_zh", "")),
                component_annual_caps={str(k): str(v) for k, v in component_caps.items()},
                component_cap_interpretation=item.get("component_cap_interpretation"),
                annual_cap_interpretation=str(item.get("annual_cap_interpretation") or "I-4"),
                same_year_notice=item.get("same_year_notice"),
            )

    def _build_parameters(self, items: list[Any], known_clauses: set[str]) -> None:
        for item in items:
            where = f"parameter {item.get('key') if isinstance(item, Mapping) else item!r}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            key = _text(item, "key", where)
            clause = item.get("clause")
            if not isinstance(clause, str) or not clause.strip():
                raise CatalogueError(f"{where}: has no clause reference")
            if clause not in known_clauses:
                raise CatalogueError(f"{where}: clause {clause!r} is not in the catalogue")
            kind = _text(item, "kind", where)
            if kind not in PARAMETER_KINDS:
                raise CatalogueError(f"{where}: unknown kind {kind!r}")
            unit = _text(item, "unit", where)
            if unit not in PARAMETER_UNITS:
                raise CatalogueError(f"{where}: unknown unit {unit!r}")
            comparison = item.get("comparison")
            if kind == "threshold" and comparison not in COMPARISONS:
                raise CatalogueError(
                    f"{where}: a threshold needs an explicit comparison (gt or ge), "
                    f"got {comparison!r}"
                )
            if kind != "threshold" and comparison is not None:
                raise CatalogueError(f"{where}: only thresholds have a comparison")
            values = tuple(
                sorted(
                    (_parameter_value(v, where) for v in _get(item, "values", where, list)),
                    key=lambda v: v.effective_from,
                )
            )
            if not values:
                raise CatalogueError(f"{where}: has no values")
            for earlier, later in pairwise(values):
                if earlier.effective_to is None or earlier.effective_to >= later.effective_from:
                    raise CatalogueError(
                        f"{where}: effective date ranges overlap "
                        f"({earlier.effective_from}..{earlier.effective_to or 'open'} and "
                        f"{later.effective_from}..{later.effective_to or 'open'})"
                    )
            for item_value in values:
                if unit == "fraction" and item_value.value > 1:
                    raise CatalogueError(f"{where}: a fraction above 1 ({item_value.text})")
                if unit == "days" and item_value.value <= 0:
                    raise CatalogueError(f"{where}: a number of days must be above 0")
            if key in self.parameters:
                raise CatalogueError(f"{where}: defined twice")
            self.parameters[key] = Parameter(
                key=key,
                clause=clause,
                kind=kind,
                unit=unit,
                comparison=comparison,
                interpretation=item.get("interpretation"),
                label_zh=str(item.get("label_zh", key)),
                label_en=str(item.get("label_en", key)),
                values=values,
            )

    def _build_interpretations(self, items: list[Any], known_clauses: set[str]) -> None:
        for item in items:
            where = f"interpretation {item.get('code') if isinstance(item, Mapping) else item!r}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            code = _text(item, "code", where)
            clauses = tuple(_get(item, "clauses", where, list))
            if not clauses:
                raise CatalogueError(f"{where}: reads no clause")
            for clause in clauses:
                if clause not in known_clauses:
                    raise CatalogueError(f"{where}: clause {clause!r} is not in the catalogue")
            applies_to = tuple(item.get("applies_to") or ())
            for measure in applies_to:
                if measure not in self.measures:
                    raise CatalogueError(f"{where}: applies to unknown measure {measure!r}")
            self.interpretations[code] = Interpretation(
                code=code,
                clauses=clauses,
                title_zh=_text(item, "title_zh", where),
                title_en=_text(item, "title_en", where),
                text_zh=_text(item, "text_zh", where),
                text_en=_text(item, "text_en", where),
                applies_to=applies_to,
                governs=tuple(item.get("governs") or ()),
            )
            for setting in self.interpretations[code].governs:
                if setting not in EFFECT_SETTINGS:
                    raise CatalogueError(f"{where}: governs unknown setting {setting!r}")

    def _build_overlap_groups(self, items: list[Any], known_clauses: set[str]) -> None:
        for item in items:
            where = f"overlap group {item.get('code') if isinstance(item, Mapping) else item!r}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            code = _text(item, "code", where)
            clause = _text(item, "clause", where)
            if clause not in known_clauses:
                raise CatalogueError(f"{where}: clause {clause!r} is not in the catalogue")
            measures = tuple(_get(item, "measures", where, list))
            for measure in measures:
                if measure not in self.measures:
                    raise CatalogueError(f"{where}: unknown measure {measure!r}")
            externals: list[str] = []
            for ref in item.get("external_policies") or ():
                if isinstance(ref, Mapping):  # defined inline
                    ext = _text(ref, "code", f"{where} external policy")
                    self.external_policies.setdefault(ext, dict(ref))
                elif isinstance(ref, str):
                    ext = ref
                    if ext not in self.external_policies:
                        raise CatalogueError(f"{where}: unknown external policy {ext!r}")
                else:
                    raise CatalogueError(f"{where}: bad external policy {ref!r}")
                if ext in self.measures:
                    raise CatalogueError(f"{where}: external policy {ext!r} clashes with a measure")
                externals.append(ext)
            self.overlap_groups[code] = OverlapGroup(
                code=code,
                clause=clause,
                interpretation=item.get("interpretation"),
                name_zh=str(item.get("name_zh", code)),
                name_en=str(item.get("name_en", code)),
                measures=measures,
                external_policies=tuple(externals),
            )

    def _check_references(self, known_clauses: set[str]) -> None:
        for code, source in self.fund_sources.items():
            if source.get("clause") not in known_clauses:
                raise CatalogueError(f"fund source {code}: clause {source.get('clause')!r} unknown")
        if self.validity_clause not in known_clauses:
            raise CatalogueError(f"policy: validity clause {self.validity_clause!r} is not known")
        if self.general_clause not in known_clauses:
            raise CatalogueError(f"general_conditions: clause {self.general_clause!r} is not known")
        refs = [("policy", self.validity_interpretation)]
        refs += [(f"parameter {p.key}", p.interpretation) for p in self.parameters.values()]
        refs += [
            (f"overlap group {g.code}", g.interpretation) for g in self.overlap_groups.values()
        ]
        refs.append(("policy", self.performance_year_interpretation))
        refs.append(("policy", self.reference_date_interpretation))
        for m in self.measures.values():
            refs += [
                (f"measure {m.code}", m.component_cap_interpretation),
                (f"measure {m.code}", m.same_year_notice),
            ]
            if m.annual_cap:
                refs.append((f"measure {m.code}", m.annual_cap_interpretation))
        for where, ref in refs:
            if ref is not None and ref not in self.interpretations:
                raise CatalogueError(f"{where}: unknown interpretation {ref!r}")

    def _link_measures(self) -> None:
        """Check each measure against its rule and precompute what assessments need."""
        general = [f for f in self.facts.values() if f.scope == "general"]
        for code, measure in list(self.measures.items()):
            rule = RULES.get(code)
            where = f"measure {code}"
            if rule is None:
                raise CatalogueError(f"{where}: the engine has no rule for this code")
            if rule.kind != measure.kind:
                raise CatalogueError(f"{where}: kind {measure.kind!r}, the rule is {rule.kind!r}")
            for key in rule.parameters:
                if key not in self.parameters:
                    raise CatalogueError(f"{where}: parameter {key!r} is missing")
            for component, key in measure.component_annual_caps.items():
                if key not in self.parameters:
                    raise CatalogueError(f"{where}: {component} cap parameter {key!r} is missing")
            if measure.annual_cap and f"{code}.annual_cap_cny" not in self.parameters:
                raise CatalogueError(f"{where}: annual cap needs parameter {code}.annual_cap_cny")
            for name in rule.facts:
                if name not in measure.facts:
                    raise CatalogueError(f"{where}: the rule reads fact {name!r}, not listed")
            names = {c.name for c in measure.components}
            if set(rule.components) != names:
                raise CatalogueError(
                    f"{where}: components {sorted(names)} differ from the rule's "
                    f"{sorted(rule.components)}"
                )
            fact_defs = [
                (f, f.required and f.name not in measure.waived_general_facts) for f in general
            ]
            fact_defs += [(self.facts[n], self.facts[n].required) for n in measure.facts]
            groups = tuple(g for g in self.overlap_groups.values() if code in g.measures)
            digest_source = {
                "policy": [
                    self.policy_code,
                    str(self.valid_from),
                    str(self.valid_to),
                    self.first_performance_year,
                    sorted(self.one_time_counts_policies),
                ],
                "general": list(self.general_must_be_true),
                "measure": [
                    code,
                    measure.kind,
                    measure.one_time,
                    list(measure.one_time_components),
                    measure.annual_cap,
                    measure.scope_fact,
                    list(measure.waived_general_facts),
                    list(measure.entity_types),
                    list(measure.facts),
                    dict(measure.component_annual_caps),
                    measure.annual_cap_interpretation,
                    measure.same_year_notice,
                ],
                "groups": [[g.code, list(g.measures), list(g.external_policies)] for g in groups],
            }
            digest = hashlib.sha256(json.dumps(digest_source, sort_keys=True).encode()).hexdigest()
            self.measures[code] = _replace_measure(
                measure,
                fact_defs=tuple(fact_defs),
                fact_names=frozenset(f.name for f, _ in fact_defs),
                overlap_groups=groups,
                component_defs={c.name: c for c in measure.components},
                digest=digest,
            )
        self.known_award_codes = frozenset(self.measures) | frozenset(self.external_policies)

    # -- reading -----------------------------------------------------------------------------------

    def clauses(self) -> set[str]:
        """Every clause the catalogue cites anywhere (for coverage checks and admin pages)."""
        found = {m.clause for m in self.measures.values()}
        found |= {p.clause for p in self.parameters.values()}
        for interpretation in self.interpretations.values():
            found |= set(interpretation.clauses)
        found |= {str(s["clause"]) for s in self.fund_sources.values()}
        found |= {g.clause for g in self.overlap_groups.values()}
        found |= {self.validity_clause, self.general_clause}
        return found


def load_catalogue_tree(path: str | Path) -> list[dict[str, Any]]:
    """Every policy version under `path`: one folder per version, oldest first.

    ``*.yaml`` files directly in `path` hold what all versions share (the places); a version's
    own files may not define the same keys. A folder without ``*.yaml`` files is an error.
    """
    root = Path(path)
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    if not folders:
        raise CatalogueError(f"no policy version folders in {path}")
    shared = _merge_yaml(sorted(root.glob("*.yaml")))
    versions = []
    for folder in folders:
        data = load_catalogue_dir(folder)
        for key, value in shared.items():
            if key in data:
                raise CatalogueError(f"{folder.name}: key {key!r} is also defined in {root.name}/")
            data[key] = value
        code = data.get("policy", {}).get("code") if isinstance(data.get("policy"), dict) else None
        if code != folder.name:
            raise CatalogueError(
                f"{folder.name}: the folder must be named after its policy code, not {code!r}"
            )
        versions.append(data)
    versions.sort(key=lambda d: str(d["policy"].get("valid_from")))
    return versions


def load_catalogue_dir(path: str | Path) -> dict[str, Any]:
    """Merge the top-level keys of every ``*.yaml`` file in `path` (one version) into one dict.

    A key defined in two files is an error: each list lives in exactly one file.
    """
    files = sorted(Path(path).glob("*.yaml"))
    if not files:
        raise CatalogueError(f"no *.yaml files in {path}")
    return _merge_yaml(files)


def _merge_yaml(files: list[Path]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for file in files:
        with file.open(encoding="utf-8") as handle:
            content = yaml.safe_load(handle) or {}
        if not isinstance(content, dict):
            raise CatalogueError(f"{file.name}: the top level must be a mapping")
        for key, value in content.items():
            if key in merged:
                raise CatalogueError(f"{file.name}: key {key!r} is also defined in another file")
            merged[key] = value
    return merged


# -- helpers ---------------------------------------------------------------------------------------


def _replace_measure(measure: Measure, **changes: Any) -> Measure:
    values = {name: getattr(measure, name) for name in Measure.__dataclass_fields__}
    values.update(changes)
    return Measure(**values)


def _get(item: Mapping[str, Any], key: str, where: str, kind: type) -> Any:
    value = item.get(key)
    if not isinstance(value, kind):
        raise CatalogueError(f"{where}: {key!r} is missing or not a {kind.__name__}")
    return value


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key) if isinstance(item, Mapping) else None
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: {key!r} is missing or empty")
    return value


def _index(items: Any, key: str, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(items, list):
        raise CatalogueError(f"{where} must be a list")
    result: dict[str, dict[str, Any]] = {}
    for item in items:
        code = _text(item, key, where)
        if code in result:
            raise CatalogueError(f"{where}: {code!r} is defined twice")
        result[code] = dict(item)
    return result


def _codes(
    item: Mapping[str, Any], key: str, where: str, known: Mapping[str, Any], what: str
) -> tuple[str, ...]:
    codes = tuple(_get(item, key, where, list))
    for code in codes:
        if code not in known:
            raise CatalogueError(f"{where}: unknown {what} {code!r}")
    return codes


def _date(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CatalogueError(f"{where}: {value!r} is not a date")


def _optional_decimal(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise CatalogueError(f"{where}: {value!r} must be an integer or a string")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise CatalogueError(f"{where}: {value!r} is not a number") from None


def _parameter_value(item: Any, where: str) -> ParameterValue:
    if not isinstance(item, Mapping):
        raise CatalogueError(f"{where}: a value must be a mapping")
    raw = item.get("value")
    if not isinstance(raw, (str, Decimal)) or isinstance(raw, bool):
        raise CatalogueError(f'{where}: value {raw!r} must be a string such as "500000"')
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise CatalogueError(f"{where}: value {raw!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise CatalogueError(f"{where}: value {raw!r} must be a finite non-negative number")
    start = _date(item.get("effective_from"), f"{where} effective_from")
    end_raw = item.get("effective_to")
    end = None if end_raw is None else _date(end_raw, f"{where} effective_to")
    if end is not None and end < start:
        raise CatalogueError(f"{where}: effective_to {end} is before effective_from {start}")
    return ParameterValue(value=value, text=str(raw), effective_from=start, effective_to=end)
