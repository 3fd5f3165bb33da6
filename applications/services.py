"""The applicant's actions: enterprise, members, drafts, evidence, submission, withdrawal.

Each write is one function: lock the row, re-check state and permission, do the work, write the
audit event, all in one transaction; e-mail and tasks only after commit.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record, record_action
from hengyang_cbec.errors import PortalError, StaleVersion
from hengyang_cbec.notifications.services import notify
from hengyang_cbec.numbering.services import APPLICATION_REFERENCE, next_number
from hengyang_cbec.queueing import publish
from policies.engine import Catalogue, FactError, PriorAward, Result
from policies.engine.primitives import reduce_components
from policies.forms import FactsForm
from policies.models import Measure
from policies.services import (
    assess_measure,
    catalogue_for,
    current_versions,
    version_in_force,
)

from .models import Application, Enterprise, Evidence, Membership
from .workflow import (
    APPLICANT,
    EDITABLE_STATES,
    Action,
    State,
    move_application,
    transition_for,
)

logger = logging.getLogger(__name__)


class ApplicationError(PortalError):
    """A refused applicant action; the message is shown to the user as it is."""


class DuplicateApplication(ApplicationError):
    def __init__(self, existing: Application):
        self.existing = existing
        super().__init__(
            _("Your enterprise already has an open application for this measure and year.")
        )


# --- Who the applicant is ---------------------------------------------------------------------


def active_membership(user) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("enterprise")
        .filter(user=user, status=Membership.Status.ACTIVE)
        .first()
    )


def is_member(user, enterprise_id: int) -> bool:
    return Membership.objects.filter(
        user=user, enterprise_id=enterprise_id, status=Membership.Status.ACTIVE
    ).exists()


def _locked(application: Application) -> Application:
    return Application.objects.select_for_update().get(pk=application.pk)


def _check_member(user, application: Application) -> None:
    if not is_member(user, application.enterprise_id):
        raise ApplicationError(_("Only members of the applicant enterprise may do this."))


# --- Prior awards for the rules ------------------------------------------------------------------


def prior_awards_for(
    enterprise_id: int, *, exclude_application_id: int | None = None
) -> list[PriorAward]:
    """The enterprise's awards the engine must know about (I-3, I-4, I-6): approved and paid.

    Read as values (the measure's scope fact from its JSON in the database), not as model objects
    with their measure's whole definition: a dashboard and a review page read them every time."""
    rows = (
        Application.objects.filter(
            enterprise_id=enterprise_id,
            state__in=[State.APPROVED, State.DISBURSED],
            approved_amount_cny__isnull=False,
        )
        .exclude(pk=exclude_application_id)
        .values_list(
            "measure__code",
            "measure__data__scope_fact",
            "scope_key",
            "approved_components",
            "estimate__components",
            "year",
            "reference",
            "approved_amount_cny",
            "policy__code",
            "measure__policy__code",
        )
    )
    return [
        prior_award_of(
            code=code,
            scope=scope,
            scope_key=scope_key,
            components=approved or {c["name"]: c["amount_cny"] for c in (estimated or [])},
            year=year,
            reference=reference,
            amount_cny=amount,
            policy=policy or measure_policy,
        )
        for (
            code,
            scope,
            scope_key,
            approved,
            estimated,
            year,
            reference,
            amount,
            policy,
            measure_policy,
        ) in rows
    ]


def prior_award(
    application: Application,
    amount_cny: Decimal,
    components: Mapping[str, Any] | None = None,
) -> PriorAward:
    """An award on `application` as the engine counts it: its store or warehouse, its version
    and the amount of each component (I-9).

    `components` ({name: amount}) are those of the assessment the award rests on; by default the
    ones stored at approval, else the submitted estimate's. They are scaled down to `amount_cny`
    the way the engine reduces components (the last ones first).
    """
    if components is None:
        components = application.approved_components or {
            c["name"]: c["amount_cny"] for c in application.estimate.get("components", [])
        }
    policy = application.policy or application.measure.policy
    return prior_award_of(
        code=application.measure.code,
        scope=application.measure.data.get("scope_fact"),
        scope_key=application.scope_key,
        components=components,
        year=application.year,
        reference=application.reference,
        amount_cny=amount_cny,
        policy=policy.code,
    )


def prior_award_of(
    *,
    code: str,
    scope: str | None,
    scope_key: str,
    components: Mapping[str, Any],
    year: int,
    reference: str | None,
    amount_cny: Decimal,
    policy: str,
) -> PriorAward:
    key = scope_key or None
    parts = [(str(name), Decimal(str(value))) for name, value in components.items()]
    if parts and sum((a for _, a in parts), Decimal(0)) > amount_cny:
        parts = reduce_components(parts, amount_cny)
    return PriorAward(
        measure=code,
        year=year,
        amount_cny=amount_cny,
        store_id=key if scope == "store_id" else None,
        warehouse_id=key if scope == "warehouse_id" else None,
        reference=reference,
        components=tuple(name for name, _ in parts) if parts else None,
        component_amounts=dict(parts) if parts else None,
        policy=policy,
    )


# --- Enterprise and members ---------------------------------------------------------------------

PROFILE_FIELDS = (
    "name",
    "entity_type",
    "district",
    "registered_address",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "bank_name",
    "bank_account",
    "customs_code",
    *Enterprise.GENERAL_FACTS,
)
# Changing these asks for the password again and is audited (SECURITY.md row 10).
SENSITIVE_FIELDS = ("bank_name", "bank_account", "contact_phone")


def submission_blocker(enterprise: Enterprise) -> str | None:
    """Why nothing can be submitted for `enterprise` yet, or None once the bureau verified it."""
    if enterprise.verification == Enterprise.Verification.VERIFIED:
        return None
    if enterprise.verification == Enterprise.Verification.RETURNED:
        return _(
            "The Bureau of Commerce returned your enterprise's documents: upload new ones on the "
            "enterprise verification page. Nothing can be submitted until the enterprise is "
            "verified."
        )
    if enterprise.verification == Enterprise.Verification.REJECTED:
        return _(
            "The Bureau of Commerce did not verify your enterprise, so nothing can be submitted "
            "for it. The reason is on the enterprise verification page."
        )
    return _(
        "Your enterprise is waiting for the Bureau of Commerce to verify its business licence and "
        "authorisation letter. You can prepare applications now; they can be submitted once the "
        "enterprise is verified."
    )


@transaction.atomic
def enterprise_update(*, user, enterprise: Enterprise, data: Mapping[str, Any], ip=None) -> list:
    """Change the profile; the caller has re-checked the password when sensitive fields change."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    membership = Membership.objects.filter(
        user=user, enterprise=enterprise, status=Membership.Status.ACTIVE
    ).first()
    if membership is None or membership.role != Membership.Role.ADMINISTRATOR:
        raise ApplicationError(_("Only the enterprise's administrator may change its profile."))
    changed = []
    for name in PROFILE_FIELDS:
        if name in data and getattr(enterprise, name) != data[name]:
            changed.append(name)
            setattr(enterprise, name, data[name])
    if not changed:
        return []
    enterprise.full_clean()
    enterprise.save(update_fields=[*changed, "updated_at"])
    audit_data = {"changed": changed}
    if "bank_account" in changed:
        audit_data["bank_account"] = enterprise.masked_bank_account  # never in full
    record(
        action="enterprise.update",
        actor=user,
        actor_role=APPLICANT,
        ip=ip,
        obj=enterprise,
        data=audit_data,
    )
    return changed


@transaction.atomic
def membership_request(*, user, enterprise: Enterprise, ip=None) -> Membership:
    if active_membership(user) is not None:
        raise ApplicationError(_("Your account already belongs to an enterprise."))
    membership, created = Membership.objects.get_or_create(
        user=user, enterprise=enterprise, defaults={"status": Membership.Status.PENDING}
    )
    if not created and membership.status == Membership.Status.DECLINED:
        membership.status = Membership.Status.PENDING
        membership.save(update_fields=["status"])
    record(action="membership.request", actor=user, actor_role=APPLICANT, ip=ip, obj=membership)
    return membership


@transaction.atomic
def membership_decide(*, user, membership: Membership, accept: bool, ip=None) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    admin = Membership.objects.filter(
        user=user,
        enterprise_id=membership.enterprise_id,
        status=Membership.Status.ACTIVE,
        role=Membership.Role.ADMINISTRATOR,
    ).exists()
    if not admin:
        raise ApplicationError(_("Only the enterprise's administrator may decide on members."))
    if membership.status != Membership.Status.PENDING:
        raise ApplicationError(_("This request has been decided already."))
    if accept and active_membership(membership.user) is not None:
        raise ApplicationError(_("This person already belongs to another enterprise."))
    membership.status = Membership.Status.ACTIVE if accept else Membership.Status.DECLINED
    membership.decided_at = timezone.now()
    membership.decided_by = user
    membership.save(update_fields=["status", "decided_at", "decided_by"])
    if accept:
        from hengyang_cbec.accounts.roles import Role, grant_role

        grant_role(membership.user, Role.APPLICANT)
    record(
        action="membership.accept" if accept else "membership.decline",
        actor=user,
        actor_role=APPLICANT,
        ip=ip,
        obj=membership,
    )
    return membership


# --- Drafts -------------------------------------------------------------------------------------


def version_for_new_applications(on_date: date | None = None) -> Catalogue:
    """The policy version in force today (I-7); between versions nothing can be filed."""
    today = on_date or timezone.localdate()
    found = version_in_force(today)
    if found is None:
        raise ApplicationError(between_versions_message(today))
    return found


def between_versions_message(on_date: date) -> str:
    choice = current_versions().choose(on_date)
    parts = [_("No policy version is in force on %(date)s.") % {"date": on_date}]
    if choice.before is not None:
        parts.append(
            _("%(code)s ended on %(date)s.")
            % {"code": choice.before.policy_code, "date": choice.before.valid_to}
        )
    if choice.after is not None:
        parts.append(
            _("%(code)s takes effect on %(date)s.")
            % {"code": choice.after.policy_code, "date": choice.after.valid_from}
        )
    return " ".join(parts)


def covered_years(on_date: date | None = None) -> list[int]:
    """The performance years a new application may name (I-8): from the version's first year to
    the current year; none between versions."""
    today = on_date or timezone.localdate()
    catalogue = version_in_force(today)
    if catalogue is None:
        return []
    last = min(today.year, catalogue.valid_to.year)
    return list(range(catalogue.first_performance_year, last + 1))


def application_catalogue(application: Application) -> Catalogue:
    """The version of `application`: fixed at submission, else the one its draft was opened in."""
    policy = application.policy or application.measure.policy
    return catalogue_for(policy.code)


@transaction.atomic
def application_start(
    *, user, enterprise: Enterprise, measure_code: str, year: int, scope_key: str = "", ip=None
) -> Application:
    """Open a draft; a second open one for the same measure and year points to the first."""
    if not is_member(user, enterprise.pk):
        raise ApplicationError(_("Only members of the applicant enterprise may do this."))
    catalogue = version_for_new_applications()
    engine_measure = catalogue.measures.get(measure_code)
    if engine_measure is None:
        raise ApplicationError(_("There is no such measure."))
    if enterprise.entity_type not in engine_measure.entity_types:
        raise ApplicationError(_("This measure does not admit your type of applicant."))
    if year not in covered_years():
        raise ApplicationError(_("Choose a year the policy covers."))
    scope_fact = engine_measure.scope_fact
    scope_key = scope_key.strip()[:100]
    if scope_fact and not scope_key:
        raise ApplicationError(_("Name the store or warehouse this application is for."))
    existing = _open_application(enterprise, measure_code, year, scope_key)
    if existing is not None:
        raise DuplicateApplication(existing)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                enterprise=enterprise,
                measure=Measure.objects.get(policy__code=catalogue.policy_code, code=measure_code),
                year=year,
                scope_key=scope_key if scope_fact else "",
                created_by=user,
                draft_facts={"year": str(year), **({scope_fact: scope_key} if scope_fact else {})},
            )
    except IntegrityError:
        # Another request opened the same application a moment ago.
        raise DuplicateApplication(
            _open_application(enterprise, measure_code, year, scope_key)
        ) from None
    record_action(application, "application.start", user, APPLICANT, ip=ip, visible=True)
    return application


def _open_application(enterprise, measure_code, year, scope_key) -> Application | None:
    from .workflow import OPEN_STATES

    return Application.objects.filter(
        enterprise=enterprise,
        measure__code=measure_code,
        year=year,
        scope_key=scope_key,
        state__in=OPEN_STATES,
    ).first()


def editable_fields(application: Application, form_fields: Iterable[str]) -> set[str]:
    """The fact fields the applicant may change now: all in a draft, the named ones if returned."""
    # Facts taken from official statistics are verified at their source: never typed over.
    names = set(form_fields) - set(application.sourced_facts or {})
    if application.state == State.DRAFT:
        # The year and the store or warehouse identify the application; they are fixed at start.
        return names - {"year", application.measure.data.get("scope_fact")}
    if application.state == State.RETURNED:
        return names & set(application.return_fields)
    return set()


def without_control_characters(text: str) -> str:
    """What was typed, minus NUL and other control characters (JSON in PostgreSQL refuses NUL)."""
    return "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc")


@transaction.atomic
def application_autosave(
    *, user, application: Application, values: Mapping[str, Any]
) -> Application:
    """Keep what was typed, as typed, for the fields that are editable now (nothing is lost)."""
    application = _locked(application)
    _check_member(user, application)
    if application.state not in EDITABLE_STATES:
        raise ApplicationError(_("This application can no longer be changed."))
    from .forms import application_form

    form = application_form(application)
    allowed = editable_fields(application, form.fields)
    draft = dict(application.draft_facts)
    for name in allowed:
        field = form.fields[name]
        if isinstance(field, forms.BooleanField):
            draft[name] = "on" if values.get(name) in ("on", "true", "1", True) else ""
        elif name in values:
            draft[name] = without_control_characters(str(values[name]))[:200]
    application.draft_facts = draft
    application.draft_saved_at = timezone.now()
    application.version += 1
    application.save(update_fields=["draft_facts", "draft_saved_at", "version", "updated_at"])
    return application


# --- Evidence -----------------------------------------------------------------------------------


def required_documents(application: Application) -> list[str]:
    documents = list(application.measure.evidence_types)
    if application.sourced_facts:
        # The official record identifies the enterprise and proves the sourced figures.
        from reviews.services.entitlements import replaced_documents

        replaced = set(replaced_documents(application.measure.code))
        documents = [code for code in documents if code not in replaced]
    return documents


def evidence_allowed(application: Application, document_type: str) -> bool:
    if application.state == State.DRAFT:
        return document_type in required_documents(application)
    if application.state == State.RETURNED:
        return document_type in application.return_documents
    return False


@transaction.atomic
def evidence_add(
    *, user, application: Application, document_type: str, upload: UploadedFile, ip=None
) -> Evidence:
    from .tasks import scan_evidence
    from .uploads import inspect_upload, safe_display_name, storage_name

    application = _locked(application)
    _check_member(user, application)
    if not evidence_allowed(application, document_type):
        raise ApplicationError(_("Files of this kind cannot be added to this application now."))
    catalogue = application_catalogue(application)
    allows_zip = bool(catalogue.evidence_types.get(document_type, {}).get("allows_zip"))
    checked = inspect_upload(upload, allow_zip=allows_zip)
    evidence = Evidence(
        application=application,
        document_type=document_type,
        original_name=safe_display_name(upload.name or ""),
        kind=checked.kind,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=user,
    )
    upload.seek(0)
    evidence.file.save(storage_name(prefix="evidence", kind=checked.kind), upload, save=False)
    evidence.save()
    # Left pending when the broker is down: rescan_pending_evidence sends it again.
    transaction.on_commit(lambda: publish(scan_evidence, evidence.pk))
    record_action(
        application,
        "application.evidence_add",
        user,
        APPLICANT,
        ip=ip,
        data={"document_type": document_type, "sha256": checked.sha256, "size": checked.size},
        visible=True,
    )
    return evidence


@transaction.atomic
def evidence_remove(*, user, evidence: Evidence, ip=None, replaced_by: Evidence | None = None):
    """Remove a file from the application. A file of an earlier submission (frozen) can only be
    removed in a slot a return reopened, and is then withdrawn: kept in the record, not deleted."""
    application = _locked(evidence.application)
    _check_member(user, application)
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if evidence.withdrawn_at or not evidence_allowed(application, evidence.document_type):
        raise ApplicationError(_("This file is part of a submission and cannot be removed."))
    data = {
        "sha256": evidence.sha256,
        "document_type": evidence.document_type,
        "name": evidence.original_name,
    }
    if evidence.frozen:
        evidence.withdrawn_at = timezone.now()
        evidence.save(update_fields=["withdrawn_at"])
        if replaced_by is not None:
            data["replaced_by"] = {"id": replaced_by.pk, "name": replaced_by.original_name}
        record_action(
            application,
            "application.evidence_replace"
            if replaced_by is not None
            else "application.evidence_withdraw",
            user,
            APPLICANT,
            ip=ip,
            data=data,
            visible=True,
        )
        return
    name = evidence.file.name
    evidence.delete()
    transaction.on_commit(lambda: evidence.file.storage.delete(name))
    record_action(
        application, "application.evidence_remove", user, APPLICANT, ip=ip, data=data, visible=True
    )


@transaction.atomic
def evidence_replace(*, user, evidence: Evidence, upload: UploadedFile, ip=None) -> Evidence:
    """Upload a file in place of another of the same kind; the old one is withdrawn (kept in the
    record when it was part of a submission, deleted when it was only a draft's)."""
    new = evidence_add(
        user=user,
        application=evidence.application,
        document_type=evidence.document_type,
        upload=upload,
        ip=ip,
    )
    evidence_remove(user=user, evidence=evidence, ip=ip, replaced_by=new)
    return new


# --- Checking and submitting --------------------------------------------------------------------


@dataclass
class Check:
    """Everything the "check your answers" page shows and submission requires."""

    form: FactsForm
    result: Result | None
    missing_documents: list[str]
    infected_documents: list[str]
    problems: list[str]

    @property
    def ready(self) -> bool:
        return not self.problems


def reference_for(application: Application, on_date: date | None = None) -> tuple[date, str | None]:
    """(reference date, version code) of an assessment of `application` now (I-7).

    Once submitted, both are fixed on the application; a draft is assessed on `on_date` (today)
    by the version in force that day (None between versions).
    """
    if application.reference_date is not None and application.policy_id is not None:
        return application.reference_date, application.policy.code
    if application.submitted_at is not None:
        # Submitted without the fields (rows from before they existed): the first submission
        # day and the measure's version, as the data migration sets them.
        return timezone.localdate(application.submitted_at), application.measure.policy.code
    today = on_date or timezone.localdate()
    found = version_in_force(today)
    return today, (found.policy_code if found is not None else None)


def application_check(application: Application, *, on_date: date | None = None) -> Check:
    from .forms import application_form

    form = application_form(application, data=application.draft_facts)
    for field in form.fields.values():
        field.disabled = False  # validate every value, editable or not
    problems: list[str] = []
    blocker = submission_blocker(application.enterprise)
    if blocker:
        problems.append(blocker)
    result = None
    reference_date, policy = reference_for(application, on_date)
    version = current_versions().get(policy) if policy else None
    if policy is None:
        problems.append(between_versions_message(reference_date))
    elif application.measure.code not in version.measures:
        problems.append(
            _("Measure %(code)s is not part of the policy version in force, %(policy)s.")
            % {"code": application.measure.code, "policy": policy}
        )
    elif not form.is_valid():
        problems.append(_("Some figures are missing or not valid."))
    else:
        facts = {**application.enterprise.general_facts(), **form.engine_facts()}
        try:
            result = assess_measure(
                application.measure.code,
                facts,
                on_date=reference_date,
                policy=policy,
                prior_awards=prior_awards_for(
                    application.enterprise_id, exclude_application_id=application.pk
                ),
            )
        except FactError as exc:  # a fact the form let through but the engine did not
            problems.append(str(exc))
        else:
            if not result.eligible:
                problems.append(_("According to the rules, this application is not eligible."))
    files = [e for e in application.evidence.all() if e.withdrawn_at is None]
    present = {e.document_type for e in files if e.scan_state != Evidence.ScanState.INFECTED}
    missing = [code for code in required_documents(application) if code not in present]
    infected = [e.original_name for e in files if e.scan_state == Evidence.ScanState.INFECTED]
    if missing:
        problems.append(_("Some required documents are missing."))
    if infected:
        problems.append(_("Remove the quarantined files before submitting."))
    return Check(form, result, missing, infected, problems)


def _next_reference(year: int) -> str:
    return f"HY-CBEC-{year}-{next_number(APPLICATION_REFERENCE, year):06d}"


def _freeze(application: Application, check: Check) -> None:
    assert check.result is not None
    facts = {**application.enterprise.general_facts(), **check.form.engine_facts()}
    application.declared_facts = {
        name: (str(value) if isinstance(value, Decimal | date) else value)
        for name, value in facts.items()
    }
    result = check.result
    if application.reference_date is None:
        # I-7: the first submission fixes the reference date and the version in force that day
        # (a draft opened under an earlier version moves to the same measure of this one).
        reference_date, policy = reference_for(application)
        application.reference_date = reference_date
        application.measure = Measure.objects.get(
            policy__code=policy, code=application.measure.code
        )
        application.policy = application.measure.policy
    application.estimate = (
        result.to_dict("zh-hans")
        | {"trace_en": result.to_dict("en")["trace"]}
        | {"parameters_used": [list(p) for p in result.parameters_used]}
    )
    application.estimate_cny = (
        result.amount_cny if result.amount_cny is not None else result.cap_cny
    )
    application.evidence.filter(frozen=False).update(frozen=True)


@transaction.atomic
def application_submit(
    *, user, application: Application, signer_name: str, declared: bool, version: int, ip=None
) -> Application:
    """Declare and submit: the figures and evidence freeze and a reference number is assigned."""
    application = _locked(application)
    _check_member(user, application)
    action = Action.RESUBMIT if application.state == State.RETURNED else Action.SUBMIT
    transition = transition_for(application.state, action, APPLICANT)
    if version != application.version:
        raise StaleVersion()
    if not declared or not signer_name.strip():
        raise ApplicationError(_("Tick the declaration and type the signer's name."))
    # The enterprise row is read under lock: a decision of the bureau cannot slip in between.
    enterprise = Enterprise.objects.select_for_update().get(pk=application.enterprise_id)
    blocker = submission_blocker(enterprise)
    if blocker:
        raise ApplicationError(blocker)
    check = application_check(application)
    if not check.ready:
        raise ApplicationError(" ".join(str(p) for p in check.problems))
    now = timezone.now()
    before = dict(application.declared_facts)
    _freeze(application, check)
    if application.reference is None:
        application.reference = _next_reference(timezone.localtime(now).year)
    application.signer_name = signer_name.strip()[:100]
    application.declared_at = now
    application.submitted_at = application.submitted_at or now
    application.submitted_by = user
    fields = [
        "declared_facts",
        "estimate",
        "estimate_cny",
        "reference_date",
        "policy",
        "measure",
        "reference",
        "signer_name",
        "declared_at",
        "submitted_at",
        "submitted_by",
    ]
    if action == Action.RESUBMIT:
        application.resubmission_count += 1
        application.return_fields = []
        application.return_documents = []
        fields += ["resubmission_count", "return_fields", "return_documents"]
    move_application(application, transition, *fields)
    again = action == Action.RESUBMIT
    data = {
        "estimate_cny": application.estimate_cny,
        "signer": application.signer_name,
        "policy": application.policy.code,
        "reference_date": application.reference_date.isoformat(),
    }
    if again:
        # What the correction changed, kept in the record for the reviewer's comparison.
        data["changed_facts"] = {
            name: [before.get(name), value]
            for name, value in application.declared_facts.items()
            if _comparable(before.get(name)) != _comparable(value)
        }
    record_action(
        application, f"application.{action.value}", user, APPLICANT, ip=ip, data=data, visible=True
    )
    notify(application, "application_resubmitted" if again else "application_submitted")
    return application


def _comparable(value):
    """600000 and "600000.00" are the same figure."""
    try:
        return Decimal(str(value)).normalize() if not isinstance(value, bool) else value
    except (InvalidOperation, ValueError):
        return value


def changes_since_return(application: Application) -> dict | None:
    """What the applicant changed when answering the last return: the figures (before, after) and
    the documents added since the return. None when the application was never resubmitted."""
    events = AuditEvent.objects.filter(application_id=application.pk)
    resubmitted = events.filter(action="application.resubmit").order_by("-id").first()
    if resubmitted is None:
        return None
    returned = events.filter(action="review.return", id__lt=resubmitted.id).order_by("-id").first()
    documents = application.evidence.filter(uploaded_at__lte=resubmitted.created_at)
    if returned is not None:
        documents = documents.filter(uploaded_at__gt=returned.created_at)
    changed = resubmitted.data.get("changed_facts") or {}
    return {
        "returned_at": returned.created_at if returned else None,
        "resubmitted_at": resubmitted.created_at,
        "message": returned.public_message if returned else "",
        "facts": [
            {"name": name, "before": pair[0], "after": pair[1]} for name, pair in changed.items()
        ],
        "documents": list(documents),
    }


@transaction.atomic
def application_withdraw(
    *, user, application: Application, reason: str = "", ip=None
) -> Application:
    application = _locked(application)
    _check_member(user, application)
    transition = transition_for(application.state, Action.WITHDRAW, APPLICANT)
    move_application(application, transition)
    record_action(
        application,
        "application.withdraw",
        user,
        APPLICANT,
        ip=ip,
        data={"reason": reason[:500]},
        visible=True,
    )
    notify(application, "application_withdrawn")
    return application


@transaction.atomic
def draft_discard(*, user, application: Application, ip=None) -> None:
    """A draft that was never submitted may be deleted with its files."""
    application = _locked(application)
    _check_member(user, application)
    if application.state != State.DRAFT or application.reference:
        raise ApplicationError(_("Only an unsubmitted draft can be deleted."))
    names = [e.file.name for e in application.evidence.all()]
    record_action(application, "application.discard", user, APPLICANT, ip=ip, visible=True)
    application.delete()
    from django.core.files.storage import default_storage

    transaction.on_commit(lambda: [default_storage.delete(n) for n in names])


def lapse_overdue_returns(today: date | None = None) -> int:
    """Applications whose correction deadline has passed lapse (a periodic task runs this)."""
    today = today or timezone.localdate()
    count = 0
    for pk in Application.objects.filter(
        state=State.RETURNED, return_deadline__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            application = Application.objects.select_for_update().get(pk=pk)
            if application.state != State.RETURNED or not application.return_deadline:
                continue
            if application.return_deadline >= today:
                continue
            transition = transition_for(application.state, Action.LAPSE, "system")
            move_application(application, transition)
            record(
                action="application.lapse",
                actor_role="system",
                obj=application,
                application_id=application.pk,
                visible_to_applicant=True,
            )
            notify(application, "application_lapsed")
            count += 1
    return count
