"""Public pages of the policy: overview, measures, a calculator per measure, interpretations."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from hengyang_cbec.i18n import english_active

from .engine import FactError
from .forms import FactsForm, calculator_initial
from .models import Interpretation, Measure, Policy
from .services import assess_measure, current_versions


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


class Version:
    """The version a public page shows: `?version=CODE`, by default the one in force today (or,
    between versions, the nearest). Earlier versions stay readable, marked archived."""

    def __init__(self, request: HttpRequest) -> None:
        today = timezone.localdate()
        versions = current_versions()
        code = request.GET.get("version")
        if code:
            catalogue = versions.get(code)
            if catalogue is None:
                raise Http404("no such policy version")
        else:
            catalogue = versions.choose(today).catalogue
        self.catalogue = catalogue
        self.code = catalogue.policy_code
        self.in_force = catalogue.valid_from <= today <= catalogue.valid_to
        self.archived = catalogue.valid_to < today
        self.upcoming = catalogue.valid_from > today
        self.explicit = bool(code)
        rows = {p.code: p for p in Policy.objects.all()}
        self.policy = rows[self.code]
        current = versions.in_force(today)
        self.current = rows[current.policy_code] if current is not None else None
        self.others = [rows[c.policy_code] for c in versions if c.policy_code != self.code]
        self.all = [rows[c.policy_code] for c in reversed(versions.ordered)]
        self.today = today

    @property
    def query(self) -> str:
        """`?version=CODE` for links that must stay on a version other than today's."""
        return f"?version={self.code}" if self.explicit else ""


def _sections(catalogue) -> list[dict]:
    english = english_active()
    return [
        {"code": code, "title": item.get("title_en" if english else "title_zh", code)}
        for code, item in catalogue.sections.items()
    ]


@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    version = Version(request)
    policy = version.policy
    catalogue = version.catalogue
    english = english_active()
    fund_sources = [
        item.get("name_en" if english else "name_zh") for item in catalogue.fund_sources.values()
    ]
    return render(
        request,
        "policies/overview.html",
        {
            "version": version,
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
    version = Version(request)
    catalogue = version.catalogue
    english = english_active()
    by_section: dict[str, list[Measure]] = defaultdict(list)
    for measure in Measure.objects.filter(policy=version.policy):
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
    return render(request, "policies/measure_list.html", {"groups": groups, "version": version})


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
            applicant=True,
        )
        return form, None
    form = FactsForm(request.GET, catalogue=catalogue, measure_code=measure.code, applicant=True)
    if not form.is_valid():
        return form, None
    try:
        result = assess_measure(measure.code, form.engine_facts(), catalogue=catalogue)
    except FactError as exc:
        form.add_error(exc.fact if exc.fact in form.fields else None, str(exc))
        return form, None
    return form, result.to_dict("en" if english_active() else "zh-hans")


@require_safe
@vary_on_headers("HX-Request")
def measure_detail(request: HttpRequest, code: str) -> HttpResponse:
    version = Version(request)
    catalogue = version.catalogue
    measure = catalogue.measures.get(code)
    if measure is None:
        raise Http404("no such measure")
    row = Measure.objects.get(policy=version.policy, code=code)
    # The calculator uses the version in force today; other versions are for reading.
    form, result = _calculate(request, catalogue, measure) if version.in_force else (None, None)
    if request.htmx:
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
        "version": version,
        "parameters": _parameter_rows(
            catalogue,
            code,
            timezone.localdate() if version.in_force else min(catalogue.valid_to, version.today),
        ),
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
    version = Version(request)
    english = english_active()
    catalogue = version.catalogue
    # The text in force today (or, for an archived version, on its last day), with the dated
    # changes of what each reading does.
    on_date = min(max(version.today, catalogue.valid_from), catalogue.valid_to)
    items = []
    for row in Interpretation.objects.filter(policy=version.policy):
        current = catalogue.interpretation_on(row.code, on_date)
        items.append(
            {
                "code": row.code,
                "title": row.title,
                "clauses": row.clauses,
                "applies_to": row.applies_to,
                "text": current.text_en if english else current.text_zh,
                "changes": [
                    {
                        "effective_from": e.effective_from,
                        "setting": e.setting,
                        "measure": e.measure,
                        "value": e.value,
                        "future": e.effective_from > on_date,
                    }
                    for e in catalogue.effects
                    if e.interpretation == row.code
                ],
            }
        )
    return render(
        request,
        "policies/interpretations.html",
        {"interpretations": items, "policy": version.policy, "version": version},
    )
