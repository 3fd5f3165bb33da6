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

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from .dated import DatedEffects
from .definitions import (
    COMPARISONS,
    EFFECT_SETTINGS,
    MEASURE_KINDS,
    PARAMETER_KINDS,
    PARAMETER_UNITS,
    SCOPE_FACTS,
    ComponentDef,
    Effect,
    Interpretation,
    Measure,
    OverlapGroup,
    Parameter,
)
from .errors import CatalogueError
from .facts import FACT_KINDS, NUMERIC_KINDS, FactDef
from .reading import (
    _codes,
    _date,
    _get,
    _index,
    _optional_decimal,
    _parameter_value,
    _text,
)
from .rules import RULES


class Catalogue(DatedEffects):
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


def _replace_measure(measure: Measure, **changes: Any) -> Measure:
    values = {name: getattr(measure, name) for name in Measure.__dataclass_fields__}
    values.update(changes)
    return Measure(**values)
