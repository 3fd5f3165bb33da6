"""Matching (免申即享): the rules engine run on the imported statistics, for every enterprise and
every measure whose figures the sources hold, giving the entitlement list (可享清单).

`COVERAGE` says, per measure, which sources must hold a record, how each fact is read from them,
which facts the enterprise still answers itself (`open_facts`, assumed for the offer and named in
its trace) and which documents the source record replaces. `match` is idempotent: an entitlement
is written only when what the engine read or found changed, so running it twice changes nothing,
and a correction re-assesses exactly the (credit code, year) pairs it touched.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Enterprise
from applications.services import prior_award
from applications.workflow import State
from hengyang_cbec.audit.services import record
from hengyang_cbec.notifications.services import notify_enterprises
from policies.engine import AssessInputError, Context, PriorAward
from policies.engine import assess as engine_assess
from policies.models import Measure
from policies.services import current_versions

from ..models import Award, Entitlement, StatisticsRecord, StatisticsSource

CUSTOMS = StatisticsSource.CUSTOMS
SOCIAL = StatisticsSource.SOCIAL_SECURITY
SOURCE_NAMES = {
    CUSTOMS: ("海关统计", "customs statistics"),
    SOCIAL: ("社保缴费记录", "social-security records"),
}
# The credit code found in an official record identifies the enterprise: no business licence.
IDENTITY_DOCUMENTS = ("business_licence",)


@dataclass(frozen=True)
class Coverage:
    sources: tuple[str, ...]
    # (records by source, earlier customs records of the enterprise) -> {fact: (value, record)}
    read: Callable[[Mapping[str, StatisticsRecord], list[StatisticsRecord]], dict]
    documents: tuple[str, ...]
    open_facts: Mapping[str, Any] = field(default_factory=dict)


def _m05(records, earlier):
    customs = records[CUSTOMS]
    facts = {"cbec_export_volume_usd": (customs.export_usd or Decimal(0), customs)}
    before = next((r for r in earlier if r.export_usd and r.export_usd > 0), None)
    if before is not None:  # the source answers I-12 itself
        facts["had_cbec_exports_before"] = (True, before)
    return facts


def _m08(records, earlier):
    customs = records[CUSTOMS]
    volume = (customs.export_usd or Decimal(0)) + (customs.import_usd or Decimal(0))
    return {"cbec_volume_usd": (volume, customs)}


def _m16(records, earlier):
    social = records[SOCIAL]
    return {"social_security_paid_cny": (social.contributions_cny or Decimal(0), social)}


COVERAGE: dict[str, Coverage] = {
    # I-12: an earlier year's record answers "had exports before"; without one the offer
    # assumes a first export year, and the enterprise answers it when it applies.
    "M05": Coverage(
        (CUSTOMS,), _m05, ("customs_export_certificate",), {"had_cbec_exports_before": False}
    ),
    "M08": Coverage(
        (CUSTOMS,), _m08, ("customs_volume_statistics",), {"introduced_this_year": True}
    ),
    "M16": Coverage((SOCIAL,), _m16, ("social_security_certificate",)),
}
# What an enterprise not yet registered is assumed to be (it confirms it when it registers).
UNREGISTERED_FACTS = {
    "registered_in_hengyang": True,
    "pays_taxes": True,
    "independent_legal_person": True,
    "entity_type": "enterprise",
}
# Applications that already claim a measure and year: no offer beside them.
_CLAIMING = [
    s for s in State if s not in (State.DRAFT, State.WITHDRAWN, State.REJECTED, State.LAPSED)
]


def replaced_documents(measure_code: str) -> tuple[str, ...]:
    coverage = COVERAGE.get(measure_code)
    return (*IDENTITY_DOCUMENTS, *coverage.documents) if coverage else ()


@dataclass
class MatchReport:
    assessed: int = 0
    offered: int = 0
    updated: int = 0
    expired: int = 0
    unchanged: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def provenance(rec: StatisticsRecord) -> dict[str, Any]:
    """Where a fact came from: source, record, import, line, date and approver (kept on the
    record object for the rest of the run: one record serves several facts and measures)."""
    cached = getattr(rec, "_provenance", None)
    if cached is not None:
        return cached
    imp = rec.statistics_import
    approver = imp.approved_by
    rec._provenance = {
        "source": rec.source,
        "record": rec.pk,
        "import": imp.pk,
        "line": rec.line,
        "imported_at": timezone.localdate(imp.approved_at or imp.imported_at).isoformat(),
        "approved_by": str(approver) if approver else "",
    }
    return rec._provenance


def _note(fact, value: Any, rec: StatisticsRecord, clause: str) -> tuple:
    """The trace step naming the source record a fact was read from."""
    p = provenance(rec)
    zh_source, en_source = SOURCE_NAMES[rec.source]
    shown_zh, shown_en = fact.show(value) if fact is not None else (str(value), str(value))
    label_zh, label_en = (fact.label_zh, fact.label_en) if fact is not None else ("", "")
    return (
        clause,
        f"{label_zh} {shown_zh} 来自{zh_source}：导入第 {p['import']} 号第 {p['line']} 行"
        f"（{rec.year} 年，{p['imported_at']} 由 {p['approved_by']} 核准）",
        f"{label_en} {shown_en} from {en_source}: import no. {p['import']}, line {p['line']} "
        f"({rec.year}, approved on {p['imported_at']} by {p['approved_by']})",
    )


def _load_records(keys: set[tuple[str, int]] | None) -> dict[str, list[StatisticsRecord]]:
    rows = StatisticsRecord.objects.filter(current=True).select_related(
        "statistics_import__approved_by"
    )
    by_uscc: dict[str, list[StatisticsRecord]] = defaultdict(list)
    if keys is None:
        for rec in rows.iterator(chunk_size=2000):
            by_uscc[rec.uscc].append(rec)
        return by_uscc
    usccs = sorted({uscc for uscc, _year in keys})
    for start in range(0, len(usccs), 500):
        for rec in rows.filter(uscc__in=usccs[start : start + 500]):
            by_uscc[rec.uscc].append(rec)
    return by_uscc


def _priors(enterprise_ids: list[int]) -> dict[int, list[PriorAward]]:
    """What the engine counts for each enterprise (I-3, I-4, I-6): approved and paid awards, and
    awards committed to a budget (as the review page counts them)."""
    priors: dict[int, list[PriorAward]] = defaultdict(list)
    for start in range(0, len(enterprise_ids), 500):
        chunk = enterprise_ids[start : start + 500]
        for row in Application.objects.filter(
            enterprise_id__in=chunk,
            state__in=[State.APPROVED, State.DISBURSED],
            approved_amount_cny__isnull=False,
        ).select_related("measure__policy", "policy"):
            priors[row.enterprise_id].append(prior_award(row, row.approved_amount_cny))
        for award in Award.objects.filter(
            application__enterprise_id__in=chunk, status=Award.Status.COMMITTED
        ).select_related("application__measure__policy", "application__policy", "assessment"):
            components = {
                c["name"]: c["amount_cny"]
                for c in (award.assessment.result_zh or {}).get("components", [])
            }
            priors[award.application.enterprise_id].append(
                prior_award(award.application, award.amount_cny, components)
            )
    return priors


def _fingerprint(facts: dict, open_facts: list, priors: list[PriorAward], result) -> str:
    data = {
        "facts": facts,
        "open": open_facts,
        "priors": sorted(p.describe()[1] for p in priors),
        "eligible": result.eligible,
        "amount": str(result.amount_cny),
        "rules": result.rules_version,
        "reasons": [r.text_en for r in result.reasons],
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def match(
    keys: Iterable[tuple[str, int]] | None = None, *, today: date | None = None
) -> MatchReport:
    """Assess every covered measure for the (credit code, year) pairs in `keys` (all when None)
    and bring the entitlement list up to date. Idempotent."""
    today = today or timezone.localdate()
    versions = current_versions()
    catalogue = versions.in_force(today)
    report = MatchReport()
    if catalogue is None:
        return report
    wanted = None if keys is None else {(str(u), int(y)) for u, y in keys}
    records = _load_records(wanted)
    enterprises = {
        e.uscc: e
        for start in range(0, len(records), 500)
        for e in Enterprise.objects.filter(uscc__in=list(records)[start : start + 500])
    }
    priors = _priors(sorted(e.pk for e in enterprises.values()))
    measures = {
        m.code: m
        for m in Measure.objects.filter(policy__code=catalogue.policy_code, code__in=COVERAGE)
    }
    claimed = set(
        Application.objects.filter(
            enterprise__in=list(enterprises.values()), state__in=_CLAIMING
        ).values_list("enterprise__uscc", "measure__code", "year")
    )
    existing = {
        (e.uscc, e.measure.code, e.year): e
        # What decides whether to write is the fingerprint: the stored texts are not read.
        for e in Entitlement.objects.filter(
            uscc__in=list(records), measure__policy__code=catalogue.policy_code
        )
        .select_related("measure")
        .defer("result_zh", "result_en", "sourced_facts", "open_facts")
    }
    now = timezone.now()
    created, changed, to_notify, confirmed = [], [], [], []
    for uscc, recs in records.items():
        by_year: dict[int, dict[str, StatisticsRecord]] = defaultdict(dict)
        for rec in recs:
            by_year[rec.year][rec.source] = rec
        enterprise = enterprises.get(uscc)
        general = enterprise.general_facts() if enterprise else dict(UNREGISTERED_FACTS)
        for year, found in by_year.items():
            if wanted is not None and (uscc, year) not in wanted:
                continue
            earlier = sorted(
                (r for r in recs if r.source == CUSTOMS and r.year < year), key=lambda r: r.year
            )
            outcomes: dict[str, tuple] = {}
            for code, coverage in COVERAGE.items():
                if code not in measures or not all(s in found for s in coverage.sources):
                    continue
                if (uscc, code, year) in claimed:
                    report.skipped += 1
                    continue
                outcome = _assess_one(
                    catalogue=versions,
                    code=code,
                    coverage=coverage,
                    found=found,
                    earlier=earlier,
                    general=general,
                    registered=enterprise is not None,
                    year=year,
                    today=today,
                    priors=priors.get(enterprise.pk, []) if enterprise else [],
                    in_force=catalogue,
                )
                if outcome is None:
                    continue
                report.assessed += 1
                outcomes[code] = outcome
            beaten = _beaten_in_overlap(catalogue, outcomes)
            for code, (result, sourced, fingerprint, open_facts) in outcomes.items():
                entry = existing.get((uscc, code, year))
                offer = result.eligible and (result.amount_cny or 0) > 0 and code not in beaten
                if code in beaten:
                    fingerprint = hashlib.sha256(f"{fingerprint}:beaten".encode()).hexdigest()
                if entry is None:
                    if not offer:
                        continue
                    entry = Entitlement(
                        uscc=uscc,
                        measure=measures[code],
                        year=year,
                        enterprise=enterprise,
                        assessed_at=now,
                    )
                    _fill(entry, result, sourced, open_facts, fingerprint, found)
                    created.append(entry)
                    report.offered += 1
                    if enterprise is not None:
                        to_notify.append(entry)
                    continue
                if entry.fingerprint == fingerprint and entry.enterprise_id == (
                    enterprise.pk if enterprise else None
                ):
                    report.unchanged += 1
                    continue
                amount_before = entry.amount_cny
                newly_bound = entry.enterprise_id is None and enterprise is not None
                _fill(entry, result, sourced, open_facts, fingerprint, found)
                entry.enterprise = enterprise
                entry.assessed_at = now
                entry.reassessed += 1
                if entry.status in (Entitlement.Status.OFFERED, Entitlement.Status.EXPIRED):
                    if offer:
                        news = (
                            newly_bound
                            or entry.status == Entitlement.Status.EXPIRED
                            or amount_before != entry.amount_cny
                        )
                        if news and enterprise is not None:
                            to_notify.append(entry)
                        entry.status = Entitlement.Status.OFFERED
                        report.updated += 1
                    else:
                        entry.status = Entitlement.Status.EXPIRED
                        report.expired += 1
                else:
                    report.updated += 1
                    if entry.application_id is not None:
                        confirmed.append(entry)
                changed.append(entry)
    with transaction.atomic():
        Entitlement.objects.bulk_create(created, batch_size=1000)
        Entitlement.objects.bulk_update(
            changed,
            [
                "amount_cny",
                "sourced_facts",
                "open_facts",
                "result_zh",
                "result_en",
                "rules_version",
                "fingerprint",
                "status",
                "enterprise",
                "name",
                "assessed_at",
                "reassessed",
            ],
            batch_size=1000,
        )
        notify_enterprises(_offer_message(entry) for entry in to_notify)
        for entry in confirmed:
            _source_changed(entry)
        record(
            action="entitlements.match",
            actor_role="system",
            object_type="reviews.entitlement",
            data={
                "pairs": "all" if wanted is None else len(wanted),
                "on_date": today,
                **report.as_dict(),
            },
        )
    return report


def _assess_one(
    *, catalogue, code, coverage, found, earlier, general, registered, year, today, priors, in_force
):
    read = coverage.read(found, earlier)
    facts: dict[str, Any] = {**general, "year": year}
    notes = []
    sourced: dict[str, Any] = {}
    # Presence in the customs statistics answers the general facts of Art. I (I-1) for it.
    customs = found.get(CUSTOMS)
    if customs is not None:
        volume = (customs.export_usd or 0) + (customs.import_usd or 0)
        read.setdefault("in_customs_cbec_statistics", (True, customs))
        if volume > 0:
            read.setdefault("has_cbec_performance", (True, customs))
    measure_clause = in_force.measures[code].clause
    general_facts = set(in_force.general_must_be_true)
    for name, (value, rec) in read.items():
        facts[name] = str(value) if isinstance(value, Decimal) else value
        sourced[name] = {"value": facts[name], **provenance(rec)}
        clause = in_force.general_clause if name in general_facts else measure_clause
        notes.append(_note(in_force.facts.get(name), value, rec, clause))
    open_facts = sorted(name for name in coverage.open_facts if name not in read)
    for name in open_facts:
        facts[name] = assumed = coverage.open_facts[name]
        fact = in_force.facts.get(name)
        shown_zh, shown_en = ("是", "yes") if assumed else ("否", "no")
        notes.append(
            (
                measure_clause,
                f"{fact.label_zh if fact else name}：统计数据不含此项，按“{shown_zh}”测算，"
                "申请时由企业确认",
                f"{fact.label_en if fact else name}: not in the statistics; assumed “{shown_en}”, "
                "the enterprise confirms it when it applies",
            )
        )
    if not registered:
        notes.append(
            (
                in_force.general_clause,
                "企业尚未在本平台注册：一般条件按“符合”测算，注册后以企业信息为准",
                "The enterprise has not registered on the portal: the general conditions are "
                "assumed met until it registers",
            )
        )
    context = Context(on_date=today, prior_awards=tuple(priors), notes=tuple(notes))
    try:
        result = engine_assess(catalogue, code, facts, context)
    except AssessInputError:
        return None
    fingerprint = _fingerprint(facts, open_facts, priors, result)
    return result, sourced, fingerprint, open_facts


def _source_changed(entry: Entitlement) -> None:
    """A confirmed entitlement's source changed (a correction): a draft takes the new figures;
    a submitted application keeps what was declared, and the record says what changed, for the
    reviewer (who may flag the source or return the application)."""
    application = Application.objects.select_for_update().get(pk=entry.application_id)
    fields = set(application.sourced_facts or {})
    new = {name: item for name, item in entry.sourced_facts.items() if name in fields}
    changes = {
        name: [application.sourced_facts[name]["value"], item["value"]]
        for name, item in new.items()
        if application.sourced_facts[name]["value"] != item["value"]
    }
    if not changes:
        return
    if application.state == State.DRAFT:
        application.sourced_facts = {**application.sourced_facts, **new}
        application.draft_facts = {
            **application.draft_facts,
            **{name: str(item["value"]) for name, item in new.items()},
        }
        application.version += 1
        application.save(update_fields=["sourced_facts", "draft_facts", "version", "updated_at"])
    record(
        action="entitlement.source_changed",
        actor_role="system",
        obj=entry,
        application_id=application.pk,
        data={"changes": changes, "draft_updated": application.state == State.DRAFT},
    )


def _beaten_in_overlap(catalogue, outcomes: Mapping[str, tuple]) -> set[str]:
    """I-6 "support the better one": of the measures of one overlap group found for the same
    enterprise and year, only the largest is offered (the engine counts awards, not offers)."""
    beaten: set[str] = set()
    for code in outcomes:
        for group in catalogue.measures[code].overlap_groups:
            rivals = [c for c in outcomes if c in group.members and outcomes[c][0].eligible]
            if len(rivals) < 2:
                continue
            best = max(rivals, key=lambda c: (outcomes[c][0].amount_cny or 0, c))
            beaten.update(c for c in rivals if c != best)
    return beaten


def _fill(entry: Entitlement, result, sourced, open_facts, fingerprint, found) -> None:
    entry.amount_cny = (result.amount_cny or Decimal("0.00")) if result.eligible else Decimal(0)
    entry.sourced_facts = sourced
    entry.open_facts = open_facts
    entry.result_zh = result.to_dict("zh-hans")
    entry.result_en = result.to_dict("en")
    entry.rules_version = result.rules_version
    entry.fingerprint = fingerprint
    names = [r.name for r in found.values() if r.name]
    entry.name = names[0] if names else entry.name


def _offer_message(entry: Entitlement) -> tuple:
    source = next(iter(entry.sourced_facts.values()), {}).get("source", CUSTOMS)
    zh, en = SOURCE_NAMES.get(source, SOURCE_NAMES[CUSTOMS])
    key = (source, entry.measure.code, entry.year, entry.amount_cny)
    context = {"entitlement": entry, "source_zh": zh, "source_en": en}
    return entry.enterprise_id, "entitlement_offered", context, key


def request_matching(keys: Iterable[tuple[str, int]] | None = None) -> bool:
    """Start the matching job (in-process in the embedded setup)."""
    from hengyang_cbec.queueing import publish

    from ..tasks import match_entitlements

    payload = None if keys is None else [[u, y] for u, y in keys]
    return publish(match_entitlements, payload)


def matching_request(*, user, ip=None) -> bool:
    """A commerce reviewer runs the matching on demand over every record in use: audited (the
    object is the whole entitlement list), then started; False when the queue is not reachable."""
    from hengyang_cbec.accounts.roles import Role

    record(
        action="entitlements.match_requested",
        actor=user,
        actor_role=Role.COMMERCE_REVIEWER,
        ip=ip,
        object_type="reviews.entitlement",
        object_id="all",
        data={"pairs": "all"},
    )
    return request_matching(None)


def entitlements_for(enterprise: Enterprise):
    return (
        Entitlement.objects.filter(enterprise=enterprise)
        .select_related("measure", "application")
        .order_by("-year", "measure__code")
    )


@transaction.atomic
def source_dispute(*, user, application: Application, reason: str, ip=None) -> Entitlement:
    """A commerce reviewer doubts a source record of a 免申即享 application: flagged and audited
    (the bureau checks it with the source; a correction import re-assesses it)."""
    from hengyang_cbec.accounts.roles import Role, has_role

    from .steps import ReviewError

    if not has_role(user, Role.COMMERCE_REVIEWER):
        raise ReviewError(_("Only commerce reviewers may flag a source."))
    entitlement = Entitlement.objects.select_for_update().filter(application=application).first()
    if entitlement is None:
        raise ReviewError(_("This application has no figures from official statistics."))
    reason = (reason or "").strip()[:300]
    if not reason:
        raise ReviewError(_("Give the reason for the dispute."))
    entitlement.disputed_at = timezone.now()
    entitlement.disputed_by = user
    entitlement.dispute_reason = reason
    entitlement.save(update_fields=["disputed_at", "disputed_by", "dispute_reason"])
    record(
        action="entitlement.dispute_source",
        actor=user,
        actor_role=Role.COMMERCE_REVIEWER,
        ip=ip,
        obj=entitlement,
        application_id=application.pk,
        data={
            "reason": reason,
            "records": sorted({item["record"] for item in entitlement.sourced_facts.values()}),
        },
    )
    return entitlement


def match_registered(uscc: str) -> bool:
    """An enterprise registered with this credit code: bind what was found for it and assess it
    again with its own profile (the invitation link brings it here)."""
    years = StatisticsRecord.objects.filter(uscc=uscc, current=True).values_list("year", flat=True)
    keys = sorted({(uscc, year) for year in years})
    return request_matching(keys) if keys else False
