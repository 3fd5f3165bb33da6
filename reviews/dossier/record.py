"""The record of one application as plain values: what the summary PDF prints and record.json holds.

Values are strings as an official reads them (Chinese first, the English beside it where the portal
shows both); amounts keep their exact two decimals. Every person is named with their unit.
"""

from __future__ import annotations

from typing import Any

from django.utils import translation

from applications.models import Application, Evidence
from applications.services import application_catalogue
from applications.workflow import State
from hengyang_cbec import formatting

from ..models import (
    Assessment,
    Award,
    CoReviewRequest,
    DisbursementLine,
    Notice,
    Objection,
    PublicNoticeItem,
    ReviewDecision,
    Stage,
)


def both(label) -> dict[str, str]:
    """A translatable label in Chinese and in English."""
    with translation.override("zh-hans"):
        zh = str(label)
    with translation.override("en"):
        en = str(label)
    return {"zh": zh, "en": en}


def both_of(function, *args) -> dict[str, str]:
    """What a formatting function says, in Chinese and in English."""
    with translation.override("zh-hans"):
        zh = str(function(*args))
    with translation.override("en"):
        en = str(function(*args))
    return {"zh": zh, "en": en}


def _choice(choices, value: str) -> dict[str, str]:
    try:
        return both(choices(value).label)
    except ValueError:
        return {"zh": str(value), "en": str(value)}


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}"


def _person(user, fallback: str = "") -> str:
    with translation.override("zh-hans"):
        return formatting.person(user, fallback=fallback)


def _when(value) -> str:
    return formatting.when(value) if value else ""


def _fact_value(name: str, value: Any) -> str:
    with translation.override("zh-hans"):
        return formatting.fact_value(name, value)


def _verifications(assessments: list[Assessment]) -> dict[str, tuple[Any, Assessment]]:
    """For each fact: its last verified value and the assessment that first set that value."""
    found: dict[str, tuple[Any, Assessment]] = {}
    for assessment in assessments:  # oldest first
        for name, value in (assessment.verified_facts or {}).items():
            if name not in found or str(found[name][0]) != str(value):
                found[name] = (value, assessment)
    return found


def _facts(application: Application, assessments: list[Assessment]) -> list[dict[str, str]]:
    catalogue = application_catalogue(application)
    measure = catalogue.measures.get(application.measure.code)
    definitions = [fact for fact, _required in measure.fact_defs] if measure else []
    verified = _verifications(assessments)
    rows = []
    for fact in definitions:
        declared = application.declared_facts.get(fact.name)
        value, by = verified.get(fact.name, (None, None))
        rows.append(
            {
                "name": fact.name,
                "label_zh": fact.label_zh,
                "label_en": fact.label_en,
                "declared": _fact_value(fact.name, declared),
                "verified": _fact_value(fact.name, value) if by else "",
                "changed": bool(by)
                and _fact_value(fact.name, declared) != _fact_value(fact.name, value),
                "verified_by": _person(by.created_by) if by else "",
                "verified_at": _when(by.created_at) if by else "",
            }
        )
    return rows


def _assessment(assessment: Assessment) -> dict[str, Any]:
    result = assessment.result_zh or {}
    return {
        "id": assessment.pk,
        "at": _when(assessment.created_at),
        "by": _person(assessment.created_by),
        "on_date": assessment.on_date.isoformat(),
        "rules_version": assessment.rules_version,
        "policy_version": str(result.get("policy", "")),
        "eligible": assessment.eligible,
        "cap_cny": _money(assessment.cap_cny),
        "amount_cny": _money(assessment.amount_cny),
        "reason": assessment.reason,
        "reasons": [str(text) for text in result.get("reasons", [])],
        "trace": [
            {
                "clause": str(step.get("clause", "")),
                "interpretation": str(step.get("interpretation") or ""),
                "text_zh": str(step.get("text_zh") or step.get("text") or ""),
                "text_en": str(step.get("text_en") or ""),
            }
            for step in result.get("trace", [])
        ],
        "parameters": [[str(part) for part in row] for row in assessment.parameters_used or []],
    }


def _decision(decision: ReviewDecision) -> dict[str, Any]:
    return {
        "at": _when(decision.created_at),
        "stage": _choice(Stage, decision.stage),
        "action": both_of(formatting.action_label, decision.action),
        "action_code": decision.action,
        "by": _person(decision.actor),
        "amount_cny": _money(decision.amount_cny),
        "reason": decision.message,
    }


def _opinion(request: CoReviewRequest) -> dict[str, Any]:
    opinion = getattr(request, "opinion", None)
    return {
        "unit": request.unit,
        "asked_at": _when(request.requested_at),
        "asked_by": _person(request.requested_by),
        "question": request.message,
        "answered_at": _when(opinion.created_at) if opinion else "",
        "by": _person(opinion.author) if opinion else "",
        "opinion": _choice(type(opinion).Decision, opinion.decision) if opinion else {},
        "text": opinion.text if opinion else "",
    }


def _public_notice(item: PublicNoticeItem) -> dict[str, Any]:
    batch = item.batch
    return {
        "published_at": _when(batch.published_at),
        "published_by": _person(batch.published_by),
        "period_days": batch.period_days,
        "ends_at": _when(batch.ends_at),
        "closed_at": _when(batch.closed_at),
        "amount_cny": _money(item.amount_cny),
        "status": _choice(PublicNoticeItem.Status, item.status),
    }


def _objection(objection: Objection) -> dict[str, Any]:
    return {
        "lodged_at": _when(objection.created_at),
        "by": objection.real_name,
        "text": objection.text,
        "file": objection.file_name,
        "status": _choice(Objection.Status, objection.status),
        "resolution": objection.resolution,
        "resolved_by": _person(objection.resolved_by) if objection.resolved_by_id else "",
        "resolved_at": _when(objection.resolved_at),
    }


def _award(award: Award) -> dict[str, Any]:
    batch = award.approval_batch
    fund = award.fund_source
    return {
        "status": _choice(Award.Status, award.status),
        "amount_cny": _money(award.amount_cny),
        "cap_cny": _money(award.cap_cny),
        "reason": award.reason,
        "fund_source": fund.name_zh if fund else "",
        "assessment_id": award.assessment_id,
        "commerce_reviewer": _person(award.commerce_reviewer),
        "finance_reviewer": _person(award.finance_reviewer),
        "registrar": _person(award.registrar) if award.registrar_id else "",
        "approval_number": batch.document_number if batch else "",
        "approval_date": batch.document_date.isoformat() if batch else "",
        "approval_recorded_by": _person(batch.recorded_by) if batch else "",
        "approval_recorded_at": _when(batch.recorded_at) if batch else "",
    }


def _notice(notice: Notice) -> dict[str, Any]:
    return {
        "number": notice.number,
        "version": notice.version,
        "issued_on": notice.issued_on.isoformat(),
        "status": _choice(Notice.Status, notice.status),
        "amount_cny": _money(notice.amount_cny),
        "verification_code": notice.code,
        "sha256_zh": notice.sha256_zh,
        "sha256_en": notice.sha256_en,
        "superseded": bool(notice.superseded_by_id),
    }


def _payment(line: DisbursementLine) -> dict[str, Any]:
    batch = line.batch
    return {
        "batch": batch.number,
        "line_reference": line.line_reference,
        "prepared_by": _person(batch.prepared_by),
        "prepared_at": _when(batch.prepared_at),
        "confirmed_by": _person(batch.confirmed_by) if batch.confirmed_by_id else "",
        "confirmed_at": _when(batch.confirmed_at),
        "payee": line.payee_name,
        "bank": line.bank_name,
        "account": line.bank_account,
        "amount_cny": _money(line.amount_cny),
        "status": _choice(DisbursementLine.State, line.state),
        "paid_on": line.paid_on.isoformat() if line.paid_on else "",
        "bank_reference": line.bank_reference,
        "failure_reason": line.failure_reason,
        "recorded_by": _person(line.recorded_by) if line.recorded_by_id else "",
    }


def evidence_of(application: Application):
    """Every clean evidence file of the application (withdrawn ones stay in the record)."""
    return (
        Evidence.objects.filter(application=application, scan_state=Evidence.ScanState.CLEAN)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def objection_files_of(application: Application):
    """The objections' supporting files that the virus scanner passed."""
    from ..models.publicity import ScanState

    return (
        Objection.objects.filter(application=application, scan_state=ScanState.CLEAN)
        .exclude(file="")
        .order_by("created_at", "pk")
    )


def notices_of(application: Application):
    return Notice.objects.filter(application=application).order_by("created_at", "pk")


def application_record(application: Application, *, evidence_names: dict[int, str]) -> dict:
    """The whole record of one application. `evidence_names`: evidence id → its path in the ZIP."""
    enterprise = application.enterprise
    assessments = list(
        application.assessments.select_related("created_by").order_by("created_at", "id")
    )
    decisions = application.review_decisions.select_related("actor").order_by("created_at", "id")
    coreviews = application.coreview_requests.select_related(
        "requested_by", "opinion", "opinion__author"
    )
    items = PublicNoticeItem.objects.filter(application=application).select_related(
        "batch", "batch__published_by"
    )
    objections = Objection.objects.filter(application=application).select_related("resolved_by")
    awards = application.awards.select_related(
        "fund_source",
        "approval_batch",
        "approval_batch__recorded_by",
        "commerce_reviewer",
        "finance_reviewer",
        "registrar",
    ).order_by("created_at", "pk")
    lines = DisbursementLine.objects.filter(award__application=application).select_related(
        "batch", "batch__prepared_by", "batch__confirmed_by", "recorded_by"
    )
    measure = application.measure
    policy = application.policy or measure.policy
    return {
        "application": {
            "id": application.pk,
            "reference": application.reference or "",
            "state": _choice(State, application.state),
            "measure": measure.code,
            "measure_title_zh": measure.title_zh,
            "measure_title_en": measure.title_en,
            "clause": getattr(measure, "clause", ""),
            "year": application.year,
            "scope_key": application.scope_key,
            "policy_version": policy.code,
            "reference_date": application.reference_date.isoformat()
            if application.reference_date
            else "",
            "declared_by": application.signer_name,
            "declared_at": _when(application.declared_at),
            "submitted_at": _when(application.submitted_at),
            "submitted_by": _person(application.submitted_by),
            "estimate_cny": _money(application.estimate_cny),
            "approved_amount_cny": _money(application.approved_amount_cny),
            "resubmissions": application.resubmission_count,
        },
        "enterprise": {
            "name": enterprise.name,
            "uscc": enterprise.uscc,
            "entity_type": both_of(formatting.entity_type, enterprise.entity_type)["zh"],
            "district": enterprise.district.name_zh if enterprise.district_id else "",
            "registered_address": enterprise.registered_address,
            "legal_representative": enterprise.legal_representative,
            "bank_name": enterprise.bank_name,
            "bank_account": enterprise.bank_account,
        },
        "facts": _facts(application, assessments),
        "assessments": [_assessment(a) for a in reversed(assessments)],
        "decisions": [_decision(d) for d in decisions],
        "coreview": [_opinion(r) for r in coreviews],
        "public_notice": [_public_notice(item) for item in items],
        "objections": [_objection(o) for o in objections],
        "awards": [_award(a) for a in awards],
        "notices": [_notice(n) for n in notices_of(application)],
        "payments": [_payment(line) for line in lines],
        "evidence": [
            {
                "path": evidence_names.get(e.pk, ""),
                "document_type": _document_type(e.document_type),
                "original_name": e.original_name,
                "sha256": e.sha256,
                "size": e.size,
                "uploaded_by": _person(e.uploaded_by),
                "uploaded_at": _when(e.uploaded_at),
                "withdrawn_at": _when(e.withdrawn_at),
            }
            for e in evidence_of(application)
        ],
    }


def _document_type(code: str) -> str:
    with translation.override("zh-hans"):
        return formatting._document_label(code)
