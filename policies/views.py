"""Public pages of the policy: overview, measures, a calculator per measure, interpretations."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from hengyang_cbec.i18n import english_active

from .engine import FactError
from .forms import FactsForm, calculator_initial
from .models import Interpretation, Measure, Policy
from .services import assess_measure, current_catalogue


def format_parameter(value: Decimal, unit: str, english: bool) -> str:
    """A parameter value as a reader expects it: 50%, 100,000.00 元, USD 1,000,000.00."""
    if unit == "fraction":
        return f"{(value * 100).normalize():f}%"
    if unit in {"cny", "usd", "sqm"}:
        number = f"{value:,.2f}"
        zh, en = {"cny": ("元", "CNY"), "usd": ("美元", "USD"), "sqm": ("平方米", "sqm")}[unit]
        if unit == "sqm":
            return f"{number} {en}" if english else f"{number} {zh}"
        return f"{en} {number}" if english else f"{number} {zh}"
    number = f"{value.normalize():f}"
    if unit == "days":
        return f"{number} days" if english else f"{number} 天"
    return number


def _loaded_policy() -> Policy:
    policy = Policy.objects.order_by("-published_on").first()
    if policy is None:
        raise Http404("no policy is loaded")
    return policy


def _sections(catalogue) -> list[dict]:
    english = english_active()
    return [
        {"code": code, "title": item.get("title_en" if english else "title_zh", code)}
        for code, item in catalogue.sections.items()
    ]


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    policy = _loaded_policy()
    catalogue = current_catalogue()
    english = english_active()
    fund_sources = [
        item.get("name_en" if english else "name_zh") for item in catalogue.fund_sources.values()
    ]
    return render(
        request,
        "policies/overview.html",
        {
            "policy": policy,
            "measure_count": len(catalogue.measures),
            "fund_sources": fund_sources,
            "published_via": policy.data.get("policy", {}).get(
                "published_via_en" if english else "published_via_zh", ""
            ),
        },
    )


@require_safe
def measure_list(request: HttpRequest) -> HttpResponse:
    catalogue = current_catalogue()
    english = english_active()
    by_section: dict[str, list[Measure]] = defaultdict(list)
    for measure in Measure.objects.all():
        by_section[measure.section].append(measure)
    entity_labels = {
        code: item.get("label_en" if english else "label_zh", code)
        for code, item in catalogue.entity_types.items()
    }
    groups = [
        {
            **section,
            "measures": [
                {
                    "measure": measure,
                    "entity_types": [entity_labels.get(c, c) for c in measure.entity_types],
                }
                for measure in by_section[section["code"]]
            ],
        }
        for section in _sections(catalogue)
        if by_section.get(section["code"])
    ]
    return render(request, "policies/measure_list.html", {"groups": groups})


def _parameter_rows(catalogue, code: str, on_date) -> list[dict]:
    english = english_active()
    rows = []
    for key, parameter in catalogue.parameters.items():
        if not key.startswith(f"{code}."):
            continue
        current = parameter.value_on(on_date)
        rows.append(
            {
                "key": key,
                "label": (parameter.label_en if english else parameter.label_zh) or key,
                "value": "—"
                if current is None
                else format_parameter(current.value, parameter.unit, english),
                "comparison": parameter.comparison,
                "clause": parameter.clause,
                "interpretation": parameter.interpretation,
                "history": [
                    {
                        "value": format_parameter(v.value, parameter.unit, english),
                        "effective_from": v.effective_from,
                        "effective_to": v.effective_to,
                    }
                    for v in parameter.values
                ],
            }
        )
    return rows


def _labels(items: dict, codes, field_stem: str) -> list[str]:
    suffix = "_en" if english_active() else "_zh"
    return [items.get(code, {}).get(f"{field_stem}{suffix}", code) for code in codes]


def _calculate(request: HttpRequest, catalogue, measure):
    """The bound calculator form and, when it validates, the engine's result."""
    today = timezone.localdate()
    submitted = any(name in request.GET for name in ("calculate", *measure.facts, "year"))
    if not submitted:
        form = FactsForm(
            catalogue=catalogue,
            measure_code=measure.code,
            initial=calculator_initial(catalogue, measure.code, year=today.year),
        )
        return form, None
    form = FactsForm(request.GET, catalogue=catalogue, measure_code=measure.code)
    if not form.is_valid():
        return form, None
    try:
        result = assess_measure(measure.code, form.engine_facts(), catalogue=catalogue)
    except FactError as exc:
        form.add_error(exc.fact if exc.fact in form.fields else None, str(exc))
        return form, None
    return form, result.to_dict("en" if english_active() else "zh-hans")


@require_safe
def measure_detail(request: HttpRequest, code: str) -> HttpResponse:
    catalogue = current_catalogue()
    measure = catalogue.measures.get(code)
    if measure is None:
        raise Http404("no such measure")
    row = Measure.objects.get(code=code)
    form, result = _calculate(request, catalogue, measure)
    if request.headers.get("HX-Request") == "true":
        return render(
            request,
            "policies/_calculator_result.html",
            {"result": result, "form": form, "measure": row},
        )
    english = english_active()
    section = catalogue.sections.get(measure.section, {})
    context = {
        "measure": row,
        "engine_measure": measure,
        "section_title": section.get("title_en" if english else "title_zh", measure.section),
        "entity_types": _labels(catalogue.entity_types, measure.entity_types, "label"),
        "responsible_units": _labels(
            catalogue.responsible_units, measure.responsible_units, "name"
        ),
        "evidence_types": _labels(catalogue.evidence_types, measure.evidence_types, "label"),
        "parameters": _parameter_rows(catalogue, code, timezone.localdate()),
        "interpretations": [
            {
                "code": item.code,
                "title": item.title_en if english else item.title_zh,
                "clauses": item.clauses,
            }
            for item in catalogue.interpretations.values()
            if code in item.applies_to
        ],
        "form": form,
        "result": result,
        "zh_is_translation": measure_article_is_translation(row),
    }
    return render(request, "policies/measure_detail.html", context)


def measure_article_is_translation(measure: Measure) -> bool:
    return bool(measure.data.get("article_text_zh_is_translation"))


@require_safe
def interpretations(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "policies/interpretations.html",
        {"interpretations": Interpretation.objects.all(), "policy": _loaded_policy()},
    )
