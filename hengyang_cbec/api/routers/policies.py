"""Public: the policy versions and, per version, measures, facts, dated parameters with their
clauses, and interpretations with their dated effects. Read from the stored catalogue (the one
the engine assesses with), never from the files."""

from datetime import date
from typing import Any

from django.utils import timezone
from ninja import Router, Schema

from policies.engine import Catalogue
from policies.services import current_versions

from ..access import limited
from ..errors import ApiError

router = Router(tags=["policies · 政策"])


class PolicyVersionOut(Schema):
    code: str
    title_zh: str
    title_en: str
    issuer_zh: str
    issuer_en: str
    published_on: date
    valid_from: date
    valid_to: date
    in_force: bool
    archived: bool


class FactOut(Schema):
    name: str
    kind: str
    required: bool
    scope: str
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str
    minimum: str | None
    maximum: str | None
    choices: list[str]
    reviewer_only: bool


class ParameterValueOut(Schema):
    value: str
    effective_from: date
    effective_to: date | None


class ParameterOut(Schema):
    key: str
    clause: str
    kind: str
    unit: str
    comparison: str | None
    interpretation: str | None
    label_zh: str
    label_en: str
    value_today: str | None
    values: list[ParameterValueOut]


class MeasureOut(Schema):
    code: str
    clause: str
    section: str
    title_zh: str
    title_en: str
    kind: str
    one_time: bool
    annual_cap: bool
    entity_types: list[str]
    responsible_units: list[str]
    evidence_types: list[str]
    facts: list[str]
    conditions_zh: str
    conditions_en: str


class MeasureDetailOut(MeasureOut):
    article_text_zh: str
    article_text_en: str
    fact_definitions: list[FactOut]
    parameters: list[ParameterOut]
    interpretations: list[str]


class EffectOut(Schema):
    setting: str
    measure: str | None
    value: Any
    effective_from: date


class InterpretationOut(Schema):
    code: str
    clauses: list[str]
    title_zh: str
    title_en: str
    text_zh: str
    text_en: str
    applies_to: list[str]
    effects: list[EffectOut]


def _version(code: str) -> Catalogue:
    found = current_versions().get(code)
    if found is None:
        raise ApiError(
            404, "unknown_policy", ("没有这个政策版本。", "There is no such policy version.")
        )
    return found


def _policy(catalogue: Catalogue, today: date) -> dict[str, Any]:
    policy = catalogue.policy
    return {
        "code": catalogue.policy_code,
        "title_zh": policy.get("title_zh", ""),
        "title_en": policy.get("title_en", ""),
        "issuer_zh": policy.get("issuer_zh", ""),
        "issuer_en": policy.get("issuer_en", ""),
        "published_on": catalogue.published_on,
        "valid_from": catalogue.valid_from,
        "valid_to": catalogue.valid_to,
        "in_force": catalogue.valid_from <= today <= catalogue.valid_to,
        "archived": catalogue.valid_to < today,
    }


def _measure(measure) -> dict[str, Any]:
    return {
        "code": measure.code,
        "clause": measure.clause,
        "section": measure.section,
        "title_zh": measure.title_zh,
        "title_en": measure.title_en,
        "kind": measure.kind,
        "one_time": measure.one_time,
        "annual_cap": measure.annual_cap,
        "entity_types": list(measure.entity_types),
        "responsible_units": list(measure.responsible_units),
        "evidence_types": list(measure.evidence_types),
        "facts": list(measure.facts),
        "conditions_zh": measure.conditions_zh,
        "conditions_en": measure.conditions_en,
    }


def _number(value) -> str | None:
    return None if value is None else f"{value:f}"


def _fact(fact) -> dict[str, Any]:
    return {
        "name": fact.name,
        "kind": fact.kind,
        "required": fact.required,
        "scope": fact.scope,
        "label_zh": fact.label_zh,
        "label_en": fact.label_en,
        "unit_zh": fact.unit_zh,
        "unit_en": fact.unit_en,
        "minimum": _number(fact.minimum),
        "maximum": _number(fact.maximum),
        "choices": list(fact.choices),
        "reviewer_only": fact.reviewer_only,
    }


def _parameter(parameter, today: date) -> dict[str, Any]:
    current = parameter.value_on(today)
    return {
        "key": parameter.key,
        "clause": parameter.clause,
        "kind": parameter.kind,
        "unit": parameter.unit,
        "comparison": parameter.comparison,
        "interpretation": parameter.interpretation,
        "label_zh": parameter.label_zh,
        "label_en": parameter.label_en,
        "value_today": None if current is None else f"{current.value:f}",
        "values": [
            {
                "value": f"{value.value:f}",
                "effective_from": value.effective_from,
                "effective_to": value.effective_to,
            }
            for value in parameter.values
        ],
    }


@router.get(
    "/policies",
    response=list[PolicyVersionOut],
    summary="政策版本 · Policy versions",
    description="所有政策版本，最新在前，标明是否现行或已废止。\n\n"
    "Every policy version, newest first, marked in force or archived.",
)
@limited("api_public")
def policy_versions(request):
    today = timezone.localdate()
    return [_policy(c, today) for c in reversed(current_versions().ordered)]


@router.get(
    "/policies/{code}",
    response=PolicyVersionOut,
    summary="一个政策版本 · One policy version",
)
@limited("api_public")
def policy_version(request, code: str):
    return _policy(_version(code), timezone.localdate())


@router.get(
    "/policies/{code}/measures",
    response=list[MeasureOut],
    summary="措施 · Measures",
    description="该版本的全部措施及其条款、适用主体、所需事实与材料。\n\n"
    "The version's measures with their clause, admitted entity types, facts and evidence.",
)
@limited("api_public")
def measures(request, code: str):
    return [_measure(m) for m in _version(code).measures.values()]


@router.get(
    "/policies/{code}/measures/{measure}",
    response=MeasureDetailOut,
    summary="一项措施 · One measure",
    description="措施的条文、事实定义、带生效日期和条款的参数及相关解读。\n\n"
    "A measure's text, fact definitions, dated parameters with their clauses, and readings.",
)
@limited("api_public")
def measure_detail(request, code: str, measure: str):
    catalogue = _version(code)
    found = catalogue.measures.get(measure)
    if found is None:
        raise ApiError(404, "unknown_measure", ("没有这项措施。", "There is no such measure."))
    today = timezone.localdate()
    return {
        **_measure(found),
        "article_text_zh": found.article_text_zh,
        "article_text_en": found.article_text_en,
        "fact_definitions": [_fact(catalogue.facts[name]) for name in found.facts],
        "parameters": [
            _parameter(p, today)
            for key, p in catalogue.parameters.items()
            if key.startswith(f"{measure}.")
        ],
        "interpretations": [
            item.code for item in catalogue.interpretations.values() if measure in item.applies_to
        ],
    }


@router.get(
    "/policies/{code}/facts",
    response=list[FactOut],
    summary="事实 · Facts",
    description="申报和测算所用的全部事实及其类型、单位和取值范围。\n\n"
    "Every fact a request may carry, with its kind, unit and bounds.",
)
@limited("api_public")
def facts(request, code: str):
    return [_fact(f) for f in _version(code).facts.values()]


@router.get(
    "/policies/{code}/parameters",
    response=list[ParameterOut],
    summary="参数 · Parameters",
    description="全部参数及其各时段取值、生效日期和条款；金额和比例以字符串给出。\n\n"
    "Every parameter with its dated values and clause; numbers are strings.",
)
@limited("api_public")
def parameters(request, code: str):
    today = timezone.localdate()
    return [_parameter(p, today) for p in _version(code).parameters.values()]


@router.get(
    "/policies/{code}/interpretations",
    response=list[InterpretationOut],
    summary="解读 · Interpretations",
    description="解读 I-1 至 I-12：今日有效的文本及其带日期的效力变更。\n\n"
    "The readings with the text in force today and their dated effects.",
)
@limited("api_public")
def interpretations(request, code: str):
    catalogue = _version(code)
    on_date = min(max(timezone.localdate(), catalogue.valid_from), catalogue.valid_to)
    items = []
    for item in catalogue.interpretations.values():
        current = catalogue.interpretation_on(item.code, on_date)
        items.append(
            {
                "code": item.code,
                "clauses": list(item.clauses),
                "title_zh": item.title_zh,
                "title_en": item.title_en,
                "text_zh": current.text_zh,
                "text_en": current.text_en,
                "applies_to": list(item.applies_to),
                "effects": [
                    {
                        "setting": e.setting,
                        "measure": e.measure,
                        "value": e.value,
                        "effective_from": e.effective_from,
                    }
                    for e in catalogue.effects
                    if e.interpretation == item.code
                ],
            }
        )
    return items
