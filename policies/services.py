"""Loading the catalogue into the database, reading it back for the engine, and assessing.

The catalogue is a set of policy versions (one folder per version in ``policies/catalogue/``).
The database is the catalogue of record once loaded: the engine always sees `current_versions()`,
built from the tables and validated by `Catalogue.from_data` per version, so a value a policy
administrator adds in the admin takes effect exactly like one from the files.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from .engine import (
    Catalogue,
    CatalogueError,
    Context,
    PolicyVersions,
    PriorAward,
    Result,
    assess,
    load_catalogue_tree,
)
from .models import (
    ExternalPolicy,
    FundSource,
    Interpretation,
    InterpretationEffect,
    Measure,
    OverlapGroup,
    Parameter,
    ParameterValue,
    Place,
    Policy,
)

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
SOURCE_DIR = Path(__file__).resolve().parent / "source"
# Items kept in their own tables; everything else of the catalogue lives in Policy.data.
_RELATIONAL_KEYS = frozenset(
    {
        "measures",
        "parameters",
        "interpretations",
        "overlap_groups",
        "external_policies",
        "fund_sources",
        "places",
        "effects",
    }
)
_VERSION_KEY = "policies:catalogue-version"


class PolicyNotLoaded(Exception):
    """The database holds no catalogue yet: run `manage.py load_policy`."""


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        created = ", ".join(f"{n} {kind}" for kind, n in sorted(self.created.items())) or "nothing"
        updated = ", ".join(f"{n} {kind}" for kind, n in sorted(self.updated.items())) or "nothing"
        return f"created {created}; updated {updated}"


# --- Loading the files --------------------------------------------------------------------------


def read_catalogue_files(directory: Path = CATALOGUE_DIR) -> list[dict[str, Any]]:
    """Every version in `directory` (one folder per version), oldest first."""
    return load_catalogue_tree(directory)


@transaction.atomic
def load_catalogue(data: Mapping[str, Any] | list[Mapping[str, Any]]) -> LoadReport:
    """Write validated policy versions into the database (idempotent).

    `data` is one version's dict or a list of them (as `read_catalogue_files` returns). Raises
    CatalogueError when any version is invalid, when versions overlap, or when the data would
    change a dated parameter value that is already stored: values are never overwritten, a change
    is a new dated value. Nothing is written unless everything is valid.
    """
    items = [data] if isinstance(data, Mapping) else list(data)
    stored = {p.code for p in Policy.objects.all()}
    # Refuse invalid data, and versions that would overlap those already stored, before writing.
    PolicyVersions(
        [Catalogue.from_data(item) for item in items]
        + [
            Catalogue.from_data(catalogue_data_from_db(code))
            for code in stored - {item["policy"]["code"] for item in items}
        ]
    )
    report = LoadReport()
    for item in items:
        _load_version(item, report)
    # What is now stored (files plus values added in the admin) must still be valid versions.
    current_versions_from_db()
    transaction.on_commit(bump_catalogue_version)
    return report


def _load_version(data: Mapping[str, Any], report: LoadReport) -> None:
    policy_data = dict(data["policy"])
    shared = {key: value for key, value in data.items() if key not in _RELATIONAL_KEYS}
    source_file = SOURCE_DIR / str(policy_data.get("source_file", ""))
    source_text = source_file.read_text(encoding="utf-8") if source_file.is_file() else ""
    policy, created = Policy.objects.update_or_create(
        code=policy_data["code"],
        defaults={
            "title_zh": policy_data["title_zh"],
            "title_en": policy_data["title_en"],
            "issuer_zh": policy_data["issuer_zh"],
            "issuer_en": policy_data["issuer_en"],
            "published_on": policy_data["published_on"],
            "valid_from": policy_data["valid_from"],
            "valid_to": policy_data["valid_to"],
            "source_text": source_text,
            "data": shared,
        },
    )
    report.count(report.created if created else report.updated, "policy")

    measures = {}
    for position, item in enumerate(data["measures"]):
        measure, created = Measure.objects.update_or_create(
            policy=policy,
            code=item["code"],
            defaults={
                "clause": item["clause"],
                "section": item["section"],
                "position": position,
                "title_zh": item["title_zh"],
                "title_en": item["title_en"],
                "kind": item["kind"],
                "one_time": item.get("one_time", False),
                "annual_cap": item.get("annual_cap", False),
                "entity_types": list(item.get("entity_types", [])),
                "responsible_units": list(item.get("responsible_units", [])),
                "evidence_types": list(item.get("evidence_types", [])),
                "article_text_zh": item.get("article_text_zh", ""),
                "article_text_en": item.get("article_text_en", ""),
                "conditions_zh": item.get("conditions_zh", ""),
                "conditions_en": item.get("conditions_en", ""),
                "data": dict(item),
            },
        )
        measures[measure.code] = measure
        report.count(report.created if created else report.updated, "measures")

    for item in data["parameters"]:
        _load_parameter(policy, item, measures, report)

    for item in data.get("interpretations", []):
        existing = Interpretation.objects.filter(policy=policy, code=item["code"]).first()
        if existing is not None and existing.edited_in_admin:
            report.kept.append(
                f"interpretation {policy.code} {existing.code} (edited in the admin)"
            )
            continue
        _, created = Interpretation.objects.update_or_create(
            policy=policy,
            code=item["code"],
            defaults={
                "clauses": list(item.get("clauses", [])),
                "title_zh": item["title_zh"],
                "title_en": item["title_en"],
                "text_zh": item["text_zh"],
                "text_en": item["text_en"],
                "applies_to": list(item.get("applies_to", [])),
                "implemented_by": item.get("implemented_by", ""),
                "governs": list(item.get("governs", [])),
            },
        )
        report.count(report.created if created else report.updated, "interpretations")

    externals = {}
    for item in _external_policy_items(data):
        external, created = ExternalPolicy.objects.update_or_create(
            code=item["code"],
            defaults={"title_zh": item.get("title_zh", ""), "title_en": item.get("title_en", "")},
        )
        externals[external.code] = external
        if created:
            report.count(report.created, "external policies")

    for item in data.get("overlap_groups", []):
        group, created = OverlapGroup.objects.update_or_create(
            policy=policy,
            code=item["code"],
            defaults={
                "clause": item["clause"],
                "interpretation": item.get("interpretation") or "",
                "name_zh": item.get("name_zh", ""),
                "name_en": item.get("name_en", ""),
            },
        )
        group.measures.set([measures[code] for code in item.get("measures", [])])
        linked = [_code_of(entry) for entry in item.get("external_policies", [])]
        # Links an administrator added in the admin stay; the files only add.
        group.external_policies.add(*[externals[code] for code in linked])
        report.count(report.created if created else report.updated, "overlap groups")

    interpretations = {i.code: i for i in Interpretation.objects.filter(policy=policy)}
    for item in data.get("effects", []):
        _, created = InterpretationEffect.objects.get_or_create(
            interpretation=interpretations[item["interpretation"]],
            setting=item["setting"],
            measure=item.get("measure") or "",
            effective_from=_as_date(item["effective_from"]),
            defaults={
                "value": item.get("value"),
                "text_zh": item["text_zh"],
                "text_en": item["text_en"],
                "note": "policies/catalogue",
            },
        )
        if created:
            report.count(report.created, "interpretation effects")

    for item in data.get("fund_sources", []):
        _, created = FundSource.objects.update_or_create(
            code=item["code"],
            defaults={
                "clause": item["clause"],
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
            },
        )
        report.count(report.created if created else report.updated, "fund sources")

    for position, item in enumerate(data.get("places", [])):
        _, created = Place.objects.update_or_create(
            code=item["code"],
            defaults={
                "kind": item.get("kind", ""),
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "position": position,
            },
        )
        report.count(report.created if created else report.updated, "places")


def _code_of(entry: Any) -> str:
    return entry["code"] if isinstance(entry, Mapping) else str(entry)


def _external_policy_items(data: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    seen: dict[str, Mapping[str, Any]] = {}
    for item in data.get("external_policies", []):
        seen[item["code"]] = item
    for group in data.get("overlap_groups", []):
        for entry in group.get("external_policies", []):
            if isinstance(entry, Mapping):
                seen.setdefault(entry["code"], entry)
    return seen.values()


def _load_parameter(
    policy: Policy, item: Mapping[str, Any], measures: dict[str, Measure], report
) -> None:
    prefix = item["key"].split(".", 1)[0]
    parameter, created = Parameter.objects.update_or_create(
        policy=policy,
        key=item["key"],
        defaults={
            "measure": measures.get(prefix),
            "clause": item["clause"],
            "kind": item.get("kind", ""),
            "unit": item.get("unit", ""),
            "comparison": item.get("comparison") or "",
            "interpretation": item.get("interpretation") or "",
            "label_zh": item.get("label_zh", ""),
            "label_en": item.get("label_en", ""),
        },
    )
    report.count(report.created if created else report.updated, "parameters")
    stored = {value.effective_from: value for value in parameter.values.all()}
    for value in item["values"]:
        start = _as_date(value["effective_from"])
        end = _as_date(value["effective_to"]) if value.get("effective_to") else None
        text = str(value["value"])
        existing = stored.get(start)
        if existing is None:
            ParameterValue.objects.create(
                parameter=parameter,
                value=Decimal(text),
                text=text,
                effective_from=start,
                effective_to=end,
                note="policies/catalogue",
            )
            report.count(report.created, "parameter values")
        elif Decimal(existing.text) != Decimal(text):
            raise CatalogueError(
                f"parameter {policy.code} {parameter.key}: the files give {text} from {start}, but "
                f"{existing.text} is stored for that date; stored values are never overwritten, "
                "add a new value with a later effective date instead"
            )
        elif existing.effective_to != end and end is not None and existing.effective_to is None:
            # Closing an open-ended value the files now end is not an overwrite of the value.
            existing.effective_to = end
            existing.save(update_fields=["effective_to"])


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- Reading the catalogue back -----------------------------------------------------------------


def catalogue_data_from_db(code: str | None = None) -> dict[str, Any]:
    """One version's catalogue dict (policies.engine.catalogue's structure) as the database
    holds it: the version `code`, by default the latest."""
    policies = Policy.objects.order_by("-valid_from")
    policy = policies.filter(code=code).first() if code else policies.first()
    if policy is None:
        raise PolicyNotLoaded(
            f"policy version {code} is not loaded"
            if code
            else "no policy is loaded: run `python manage.py load_policy`"
        )
    data = dict(policy.data)
    data["measures"] = [dict(m.data) for m in Measure.objects.filter(policy=policy)]
    values_by_parameter: dict[int, list[dict[str, Any]]] = {}
    for value in ParameterValue.objects.filter(parameter__policy=policy).order_by("effective_from"):
        values_by_parameter.setdefault(value.parameter_id, []).append(
            {
                "value": value.text,
                "effective_from": value.effective_from,
                "effective_to": value.effective_to,
            }
        )
    data["parameters"] = [
        {
            "key": p.key,
            "clause": p.clause,
            "kind": p.kind,
            "unit": p.unit,
            **({"comparison": p.comparison} if p.comparison else {}),
            **({"interpretation": p.interpretation} if p.interpretation else {}),
            "label_zh": p.label_zh,
            "label_en": p.label_en,
            "values": values_by_parameter.get(p.pk, []),
        }
        for p in Parameter.objects.filter(policy=policy).order_by("pk")
    ]
    data["interpretations"] = [
        {
            "code": i.code,
            "clauses": list(i.clauses),
            "title_zh": i.title_zh,
            "title_en": i.title_en,
            "text_zh": i.text_zh,
            "text_en": i.text_en,
            "applies_to": list(i.applies_to),
            "implemented_by": i.implemented_by,
            "governs": list(i.governs),
        }
        for i in Interpretation.objects.filter(policy=policy).order_by("pk")
    ]
    data["effects"] = [_effect_item(e) for e in _effects_of(policy)]
    data["external_policies"] = [
        {"code": e.code, "title_zh": e.title_zh, "title_en": e.title_en}
        for e in ExternalPolicy.objects.all()
    ]
    data["overlap_groups"] = [
        {
            "code": g.code,
            "clause": g.clause,
            "interpretation": g.interpretation or None,
            "name_zh": g.name_zh,
            "name_en": g.name_en,
            "measures": [m.code for m in g.measures.all()],
            "external_policies": [e.code for e in g.external_policies.all()],
        }
        for g in OverlapGroup.objects.filter(policy=policy).prefetch_related(
            "measures", "external_policies"
        )
    ]
    data["fund_sources"] = [
        {"code": f.code, "clause": f.clause, "name_zh": f.name_zh, "name_en": f.name_en}
        for f in FundSource.objects.all()
    ]
    data["places"] = [
        {"code": p.code, "kind": p.kind, "name_zh": p.name_zh, "name_en": p.name_en}
        for p in Place.objects.all()
    ]
    return data


def _effects_of(policy: Policy):
    return InterpretationEffect.objects.filter(interpretation__policy=policy).select_related(
        "interpretation"
    )


def _effect_item(effect: InterpretationEffect) -> dict[str, Any]:
    return {
        "interpretation": effect.interpretation.code,
        "setting": effect.setting,
        "measure": effect.measure or None,
        "value": effect.value,
        "effective_from": effect.effective_from,
        "text_zh": effect.text_zh,
        "text_en": effect.text_en,
    }


def current_versions_from_db() -> PolicyVersions:
    """Every stored version, validated (no cache)."""
    codes = list(Policy.objects.order_by("valid_from").values_list("code", flat=True))
    if not codes:
        raise PolicyNotLoaded("no policy is loaded: run `python manage.py load_policy`")
    return PolicyVersions(Catalogue.from_data(catalogue_data_from_db(code)) for code in codes)


_memo_lock = threading.Lock()
_memo: dict[str, PolicyVersions] = {}


def policy_years() -> range:
    """The years a year picker offers: from the first policy's start to the last one's end.

    The current year is always included, so that a picker still works after the policy's end.
    """
    bounds = Policy.objects.aggregate(first=Min("valid_from"), last=Max("valid_to"))
    this_year = timezone.localdate().year
    first = bounds["first"].year if bounds["first"] else this_year
    last = max(bounds["last"].year if bounds["last"] else this_year, this_year)
    return range(first, last + 1)


def bump_catalogue_version() -> None:
    """Tell every process that the stored catalogue changed."""
    cache.set(_VERSION_KEY, timezone.now().isoformat(), timeout=None)
    _request_local.version = None


# Inside a request the catalogue's version is read from the cache once, not at every value a page
# formats (a review page formats dozens); a change shows from the next request on.
_request_local = threading.local()


def request_started(**kwargs) -> None:
    _request_local.in_request = True
    _request_local.version = None


def request_finished(**kwargs) -> None:
    _request_local.in_request = False
    _request_local.version = None


def _catalogue_version() -> str:
    version = getattr(_request_local, "version", None)
    if version is not None:
        return version
    version = cache.get(_VERSION_KEY)
    if version is None:
        version = timezone.now().isoformat()
        cache.add(_VERSION_KEY, version, timeout=None)
        version = cache.get(_VERSION_KEY) or version
    if getattr(_request_local, "in_request", False):
        _request_local.version = version
    return version


def current_versions() -> PolicyVersions:
    """Every stored version, validated, rebuilt only after a change (one cache read per request,
    or per call outside a request)."""
    version = _catalogue_version()
    with _memo_lock:
        versions = _memo.get(version)
    if versions is None:
        versions = current_versions_from_db()
        with _memo_lock:
            _memo.clear()
            _memo[version] = versions
    return versions


def current_catalogue(on_date: date | None = None) -> Catalogue:
    """The version in force on `on_date` (default today); when none is, the nearest one."""
    return current_versions().choose(on_date or timezone.localdate()).catalogue


def catalogue_for(code: str) -> Catalogue:
    """The stored version `code` (an application's own version)."""
    found = current_versions().get(code)
    if found is None:
        raise PolicyNotLoaded(f"policy version {code} is not loaded")
    return found


def version_in_force(on_date: date | None = None) -> Catalogue | None:
    """The version in force on `on_date` (default today), or None between versions."""
    return current_versions().in_force(on_date or timezone.localdate())


def file_versions() -> PolicyVersions:
    """The versions straight from the files (for a database that has not been loaded)."""
    return PolicyVersions.from_data(read_catalogue_files())


# --- Assessing ----------------------------------------------------------------------------------


def assess_measure(
    code: str,
    facts: Mapping[str, Any],
    *,
    on_date: date | None = None,
    prior_awards: Iterable[PriorAward] = (),
    catalogue: Catalogue | None = None,
    policy: str | None = None,
    notes: Iterable[tuple[str, str, str]] = (),
) -> Result:
    """Assess one measure against the stored versions (the pages' and other apps' entry point).

    `policy` names the version (an application's own, fixed at submission); absent, the version
    in force on `on_date` (default today) assesses. `notes` are extra trace steps.
    """
    source: Catalogue | PolicyVersions = catalogue or current_versions()
    context = Context(
        on_date=on_date or timezone.localdate(),
        prior_awards=tuple(prior_awards),
        policy=policy,
        notes=tuple(notes),
    )
    return assess(source, code, facts, context)
