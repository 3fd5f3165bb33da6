"""The bureau's actions on an application, one function per transition of applications.workflow.

Every function: lock the application row (`select_for_update`), re-check the state through
`transition_for`, the actor's role (from groups only: is_superuser grants nothing), four eyes and
the version the page was drawn at; do the work with `save(update_fields=...)`; write the audit
event; tell the applicant; leave e-mail and tasks to `transaction.on_commit`.

Locks are always taken in the same order, so concurrent requests queue instead of deadlocking:
applications (by id) → four-eyes row → award → enterprise → budget allocation → audit chain head.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Enterprise, Evidence
from applications.services import notify, prior_award, prior_awards_for
from applications.workflow import (
    SYSTEM,
    TRANSITIONS,
    Action,
    State,
    Transition,
    TransitionRefused,
    transition_for,
)
from hengyang_cbec.accounts.roles import Role, has_role, roles_of
from hengyang_cbec.audit.services import record
from policies.engine import AssessInputError, PriorAward
from policies.services import assess_measure, current_catalogue

from .models import (
    ApplicationActors,
    ApprovalBatch,
    Assessment,
    Assignment,
    Award,
    BudgetAllocation,
    CoReviewRequest,
    Objection,
    PublicNoticeBatch,
    PublicNoticeItem,
    ReviewDecision,
    ReviewOpinion,
    Stage,
)

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
FOUR_EYES_SLOTS = ("submitter", "commerce_reviewer", "finance_reviewer", "registrar")
# Measures whose amount the reviewer sets within the engine's cap: an amount and a reason needed.
DISCRETIONARY = "discretionary"
EXTERNAL = "external"


class ReviewError(Exception):
    """A refused reviewer action; the message is shown to the user as it is."""


class StaleVersion(ReviewError):
    """The application changed since the page was drawn."""


class FourEyesViolation(ReviewError):
    pass


class BudgetExceeded(ReviewError):
    pass


# --- Small helpers --------------------------------------------------------------------------------


def _lock(application: Application | int) -> Application:
    pk = application if isinstance(application, int) else application.pk
    return Application.objects.select_for_update().get(pk=pk)


def _lock_many(ids: Iterable[int]) -> list[Application]:
    """Lock several applications in id order (the order every batch action uses)."""
    wanted = sorted({int(i) for i in ids})
    rows = list(Application.objects.select_for_update().filter(pk__in=wanted).order_by("pk"))
    if len(rows) != len(wanted):
        raise ReviewError(_("Some of the chosen applications do not exist."))
    return rows


def _transition(application: Application, action: Action, user) -> tuple[Transition, str]:
    """The allowed transition and the role the user takes in it, or TransitionRefused."""
    held = roles_of(user) if user is not None else frozenset({SYSTEM})
    candidate = TRANSITIONS.get((State(application.state), Action(action)))
    actor = ""
    if candidate is not None:
        actor = next((a for a in sorted(candidate.actors) if a in held), "")
    return transition_for(application.state, action, actor or "-"), actor


def _check_version(application: Application, version: int | None) -> None:
    if version is not None and int(version) != application.version:
        raise StaleVersion(
            _(
                "This application changed since your page was loaded (someone else acted on it). "
                "Nothing was saved: reload the page and check it again."
            )
        )


def _require_role(user, *roles: Role) -> str:
    for role in roles:
        if has_role(user, role):
            return role.value
    raise TransitionRefused(_("Your role may not do this."))


def _actors(application: Application) -> ApplicationActors:
    actors, _created = ApplicationActors.objects.select_for_update().get_or_create(
        application=application, defaults={"submitter_id": application.submitted_by_id}
    )
    if application.submitted_by_id and actors.submitter_id != application.submitted_by_id:
        actors.submitter_id = application.submitted_by_id
        actors.save(update_fields=["submitter"])
    return actors


# The four-eyes capacity in which a reviewer acted at each stage.
_STAGE_SLOTS = {
    Stage.COMMERCE: "commerce_reviewer",
    Stage.FINANCE: "finance_reviewer",
    Stage.REGISTRAR: "registrar",
}


def _four_eyes(application: Application, user, slot: str) -> ApplicationActors:
    """Refuse when the user already acted on this application in another capacity.

    The slots hold the current actor of each capacity; the decisions hold everyone who ever
    acted, so a colleague taking over a stage does not wipe out who acted before.
    """
    actors = _actors(application)
    capacities = {other for other in FOUR_EYES_SLOTS if getattr(actors, f"{other}_id") == user.pk}
    capacities |= {
        _STAGE_SLOTS[stage]
        for stage in ReviewDecision.objects.filter(application=application, actor=user)
        .values_list("stage", flat=True)
        .distinct()
        if stage in _STAGE_SLOTS
    }
    for other in FOUR_EYES_SLOTS:
        if other != slot and other in capacities:
            raise FourEyesViolation(
                _(
                    "Four eyes: you already acted on this application as %(capacity)s; another "
                    "colleague must take this step."
                )
                % {"capacity": _capacity_label(other)}
            )
    return actors


def _capacity_label(slot: str) -> str:
    return {
        "submitter": _("its submitter"),
        "commerce_reviewer": _("its commerce reviewer"),
        "finance_reviewer": _("its finance reviewer"),
        "registrar": _("its approval registrar"),
    }[slot]


def _set_actor(actors: ApplicationActors, slot: str, user) -> None:
    if getattr(actors, f"{slot}_id") != user.pk:
        setattr(actors, slot, user)
        actors.save(update_fields=[slot])


def _move(application: Application, transition: Transition, *extra_fields: str) -> None:
    application.state = transition.target
    application.version += 1
    application.save(update_fields=["state", "version", "updated_at", *extra_fields])


def _audit(
    application: Application,
    action: str,
    user,
    role: str,
    *,
    ip=None,
    data=None,
    public_message: str = "",
    visible: bool = True,
) -> None:
    record(
        action=f"review.{action}",
        actor=user,
        actor_role=role,
        ip=ip,
        obj=application,
        application_id=application.pk,
        data=data or {},
        public_message=public_message,
        visible_to_applicant=visible,
    )


def _decision(application, stage, action, user, *, assessment=None, amount=None, message=""):
    ReviewDecision.objects.create(
        application=application,
        stage=stage,
        action=str(action),
        actor=user,
        declared_facts=application.declared_facts,
        verified_facts=assessment.verified_facts if assessment else {},
        assessment=assessment,
        amount_cny=amount,
        message=message,
    )


def parse_amount(value: Any) -> Decimal:
    """A CNY amount to the fen (ROUND_HALF_UP); refuses text, NaN, infinities and negatives."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ReviewError(_("Enter the amount as a number, e.g. 100000.00.")) from None
    if not amount.is_finite():
        raise ReviewError(_("Enter the amount as a number, e.g. 100000.00."))
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount <= 0:
        raise ReviewError(_("The amount must be more than zero."))
    if amount >= Decimal("1e12"):
        raise ReviewError(_("The amount is too large."))
    return amount


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


# --- Working days ---------------------------------------------------------------------------------


def _dates(values: Iterable[str]) -> set[date]:
    return {date.fromisoformat(str(v)) for v in values}


def is_working_day(day: date) -> bool:
    """Monday to Friday, minus REVIEW_HOLIDAYS, plus REVIEW_EXTRA_WORKING_DAYS (调休 weekends)."""
    if day in _dates(settings.REVIEW_EXTRA_WORKING_DAYS):
        return True
    if day in _dates(settings.REVIEW_HOLIDAYS):
        return False
    return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


# --- Prior awards and assessment ------------------------------------------------------------------


def prior_awards(application: Application) -> list[PriorAward]:
    """What the engine must count against this application, read from the database now.

    Approved and paid awards (the applications app's view) plus awards already committed to a
    budget but not yet fixed: those are promised money too, and caps must see them.
    """
    awards = prior_awards_for(application.enterprise_id, exclude_application_id=application.pk)
    committed = (
        Award.objects.filter(
            application__enterprise_id=application.enterprise_id, status=Award.Status.COMMITTED
        )
        .exclude(application_id=application.pk)
        .select_related("application__measure")
    )
    awards.extend(prior_award(award.application, award.amount_cny) for award in committed)
    return awards


def _serialisable(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: (str(value) if isinstance(value, Decimal | date) else value)
        for name, value in facts.items()
    }


def current_verified_facts(application: Application) -> dict[str, Any]:
    latest = application.assessments.order_by("-created_at", "-id").first()
    return dict(latest.verified_facts) if latest else dict(application.declared_facts)


def assess(application: Application, facts: Mapping[str, Any], user) -> Assessment:
    """Run the engine on verified facts (+ the enterprise's general facts) and store a snapshot."""
    facts = _serialisable({**application.enterprise.general_facts(), **facts})
    facts["year"] = facts.get("year", application.year)
    priors = prior_awards(application)
    on_date = timezone.localdate()
    try:
        result = assess_measure(
            application.measure.code, facts, on_date=on_date, prior_awards=priors
        )
    except Exception as exc:  # FactError: a figure the engine cannot read
        raise ReviewError(_("The rules engine cannot read these figures: %s") % exc) from None
    zh = result.to_dict("zh-hans")
    en = result.to_dict("en")
    return Assessment.objects.create(
        application=application,
        created_by=user,
        on_date=on_date,
        verified_facts=facts,
        prior_awards=[
            {
                "measure": p.measure,
                "year": p.year,
                "amount_cny": _money(p.amount_cny),
                "reference": p.reference,
            }
            for p in priors
        ],
        result_zh=zh,
        result_en=en,
        parameters_used=[list(p) for p in result.parameters_used],
        rules_version=result.rules_version,
        eligible=result.eligible,
        cap_cny=result.cap_cny,
        amount_cny=result.amount_cny,
    )


def preview_assessment(
    application: Application,
    *,
    verified: Mapping[str, Any] | None = None,
    priors: list[PriorAward] | None = None,
) -> dict[str, Any] | None:
    """The engine's result on the current verified figures, computed now and not stored.

    A page that already read the verified figures or the prior awards passes them in.
    """
    if verified is None:
        verified = current_verified_facts(application)
    facts = _serialisable({**application.enterprise.general_facts(), **verified})
    try:
        result = assess_measure(
            application.measure.code,
            facts,
            prior_awards=prior_awards(application) if priors is None else priors,
        )
    except AssessInputError:
        return None
    return {"result": result, "zh": result.to_dict("zh-hans"), "en": result.to_dict("en")}


# --- Warnings the reviewer must see ---------------------------------------------------------------


@dataclass
class ReviewWarning:
    code: str
    text: str


def review_warnings(
    application: Application, result=None, *, priors: list[PriorAward] | None = None
) -> list[ReviewWarning]:
    """Annual cap nearly used, one-time awarded, overlap, shared evidence or bank account."""
    warnings: list[ReviewWarning] = []
    catalogue = current_catalogue()
    measure = catalogue.measures.get(application.measure.code)
    if priors is None:
        priors = prior_awards(application)
    if measure is not None and measure.annual_cap:
        parameter = catalogue.parameters.get(f"{measure.code}.annual_cap_cny")
        value = parameter.value_on(timezone.localdate()) if parameter else None
        used = sum(
            (
                p.amount_cny
                for p in priors
                if p.measure == measure.code and p.year == application.year
            ),
            Decimal(0),
        )
        if value is not None and used >= value.value * Decimal("0.8"):
            warnings.append(
                ReviewWarning(
                    "annual_cap",
                    _(
                        "Annual cap nearly used: CNY %(used)s of CNY %(cap)s already awarded "
                        "under %(measure)s for %(year)s."
                    )
                    % {
                        "used": f"{used:,.2f}",
                        "cap": f"{value.value:,.2f}",
                        "measure": measure.code,
                        "year": application.year,
                    },
                )
            )
    if measure is not None and measure.one_time:
        earlier = [p for p in priors if p.measure == measure.code]
        for p in earlier:
            warnings.append(
                ReviewWarning(
                    "one_time",
                    _("One-time measure already awarded: %(award)s.") % {"award": p.describe()[1]},
                )
            )
    if measure is not None:
        for group in measure.overlap_groups:
            others = [
                p
                for p in priors
                if p.measure in group.members
                and p.measure != measure.code
                and p.year == application.year
            ]
            if not others:
                continue
            other_total = sum((p.amount_cny for p in others), Decimal(0))
            own = Decimal(0)
            if result is not None and result.cap_cny is not None:
                own = result.cap_cny + other_total
            better = max(other_total, own)
            warnings.append(
                ReviewWarning(
                    "overlap",
                    _(
                        "Overlap group %(group)s: CNY %(other)s already awarded (%(awards)s) in "
                        "%(year)s; only the better one is supported, at most CNY %(better)s in "
                        "total."
                    )
                    % {
                        "group": group.name_en or group.code,
                        "other": f"{other_total:,.2f}",
                        "awards": "; ".join(p.describe()[1] for p in others),
                        "year": application.year,
                        "better": f"{better:,.2f}",
                    },
                )
            )
    hashes = list(application.evidence.values_list("sha256", flat=True))
    if hashes:
        shared = (
            Evidence.objects.filter(sha256__in=hashes)
            .exclude(application__enterprise_id=application.enterprise_id)
            .select_related("application__enterprise")[:20]
        )
        for evidence in shared:
            warnings.append(
                ReviewWarning(
                    "same_evidence",
                    _(
                        "The same file (SHA-256 %(sha)s…) is in application %(reference)s of "
                        "another enterprise, %(enterprise)s."
                    )
                    % {
                        "sha": evidence.sha256[:12],
                        "reference": evidence.application.reference or evidence.application_id,
                        "enterprise": evidence.application.enterprise.name,
                    },
                )
            )
    account = application.enterprise.bank_account
    if account:
        for other in Enterprise.objects.filter(bank_account=account).exclude(
            pk=application.enterprise_id
        )[:20]:
            warnings.append(
                ReviewWarning(
                    "same_bank_account",
                    _("The same bank account is registered for another enterprise, %(name)s.")
                    % {"name": other.name},
                )
            )
    return warnings


# --- Commerce review ------------------------------------------------------------------------------


@transaction.atomic
def application_take(*, user, application: Application, version: int, ip=None) -> Application:
    """A commerce reviewer takes a submitted application (SUBMITTED → COMMERCE_REVIEW)."""
    application = _lock(application)
    transition, role = _transition(application, Action.TAKE, user)
    _check_version(application, version)
    actors = _four_eyes(application, user, "commerce_reviewer")
    _set_actor(actors, "commerce_reviewer", user)
    _hold(application, Stage.COMMERCE, assignee=user, by=user)
    _move(application, transition)
    _decision(application, Stage.COMMERCE, Action.TAKE, user)
    _audit(application, Action.TAKE.value, user, role, ip=ip)
    notify(
        application,
        message_zh=f"申报 {application.reference} 已由商务局受理审核。",
        message_en=f"The Bureau of Commerce has started reviewing application "
        f"{application.reference}.",
    )
    return application


def _hold(application: Application, stage: Stage, *, assignee, by) -> None:
    Assignment.objects.update_or_create(
        application=application,
        stage=stage,
        defaults={"assignee": assignee, "assigned_by": by, "assigned_at": timezone.now()},
    )


_STAGE_OF_STATE = {
    State.SUBMITTED: (Stage.COMMERCE, Role.COMMERCE_REVIEWER, "commerce_reviewer"),
    State.COMMERCE_REVIEW: (Stage.COMMERCE, Role.COMMERCE_REVIEWER, "commerce_reviewer"),
    State.FINANCE_REVIEW: (Stage.FINANCE, Role.FINANCE_REVIEWER, "finance_reviewer"),
    State.GOVERNMENT_APPROVAL: (Stage.REGISTRAR, Role.APPROVAL_REGISTRAR, "registrar"),
}


@transaction.atomic
def application_assign(
    *, user, application: Application, assignee, version: int, ip=None
) -> Application:
    """Give the application to a colleague of the same stage (a submitted one is taken for them)."""
    application = _lock(application)
    entry = _STAGE_OF_STATE.get(State(application.state))
    if entry is None:
        raise ReviewError(_("Nobody can be assigned to an application in this state."))
    stage, role, slot = entry
    _require_role(user, role)
    if assignee is None or not has_role(assignee, role):
        raise ReviewError(_("The assignee must hold the role of this stage."))
    _check_version(application, version)
    _four_eyes(application, user, slot)
    _four_eyes(application, assignee, slot)
    if application.state == State.SUBMITTED:
        transition = transition_for(application.state, Action.TAKE, role.value)
        actors = _actors(application)
        _set_actor(actors, slot, assignee)
        _hold(application, stage, assignee=assignee, by=user)
        _move(application, transition)
        _decision(application, stage, Action.TAKE, user, message=f"→ {assignee.username}")
        _audit(
            application, Action.TAKE.value, user, role.value, ip=ip,
            data={"assigned_to": assignee.username},
        )  # fmt: skip
        notify(
            application,
            message_zh=f"申报 {application.reference} 已由商务局受理审核。",
            message_en=f"The Bureau of Commerce has started reviewing application "
            f"{application.reference}.",
        )
        return application
    before = (
        Assignment.objects.filter(application=application, stage=stage)
        .values_list("assignee__username", flat=True)
        .first()
    )
    _hold(application, stage, assignee=assignee, by=user)
    application.version += 1
    application.save(update_fields=["version", "updated_at"])
    _audit(
        application,
        "assign",
        user,
        role.value,
        ip=ip,
        data={"stage": stage.value, "before": before, "after": assignee.username},
        visible=False,
    )
    return application


@transaction.atomic
def review_save_facts(
    *, user, application: Application, facts: Mapping[str, Any], version: int, ip=None
) -> Assessment:
    """Store the verified figures and recompute the cap on them (commerce review only)."""
    application = _lock(application)
    role = _require_role(user, Role.COMMERCE_REVIEWER)
    if application.state != State.COMMERCE_REVIEW:
        raise TransitionRefused(
            _("Verified figures can be entered only during the commerce review.")
        )
    _check_version(application, version)
    actors = _four_eyes(application, user, "commerce_reviewer")
    _set_actor(actors, "commerce_reviewer", user)
    before_facts = current_verified_facts(application)
    previous = application.assessments.order_by("-created_at", "-id").first()
    assessment = assess(application, {**before_facts, **_serialisable(facts)}, user)
    application.version += 1
    application.save(update_fields=["version", "updated_at"])
    changed = {
        name: {"declared": application.declared_facts.get(name), "verified": value}
        for name, value in assessment.verified_facts.items()
        if application.declared_facts.get(name) != value
    }
    _decision(application, Stage.COMMERCE, "verify", user, assessment=assessment)
    _audit(
        application,
        "verify",
        user,
        role,
        ip=ip,
        data={
            "changed": changed,
            "cap_before": _money(previous.cap_cny)
            if previous
            else application.estimate.get("cap_cny"),
            "cap_after": _money(assessment.cap_cny),
            "rules_version": assessment.rules_version,
        },
        visible=False,
    )
    return assessment


@transaction.atomic
def coreview_request(
    *, user, application: Application, units: Iterable[str], message: str = "", version: int,
    ip=None,
) -> list[CoReviewRequest]:  # fmt: skip
    """Ask the measure's responsible units for a written opinion (during commerce review)."""
    application = _lock(application)
    role = _require_role(user, Role.COMMERCE_REVIEWER)
    if application.state != State.COMMERCE_REVIEW:
        raise TransitionRefused(_("Opinions can be requested only during the commerce review."))
    _check_version(application, version)
    _four_eyes(application, user, "commerce_reviewer")
    allowed = set(application.measure.responsible_units) - {"commerce_bureau"}
    units = [u for u in dict.fromkeys(units) if u]
    if not units:
        raise ReviewError(_("Choose at least one responsible unit."))
    if not set(units) <= allowed:
        raise ReviewError(_("Only the units responsible for this measure can be asked."))
    open_units = set(
        application.coreview_requests.filter(status=CoReviewRequest.Status.OPEN).values_list(
            "unit", flat=True
        )
    )
    created = [
        CoReviewRequest.objects.create(
            application=application, unit=unit, message=message[:2000], requested_by=user
        )
        for unit in units
        if unit not in open_units
    ]
    _audit(
        application,
        "coreview_request",
        user,
        role,
        ip=ip,
        data={"units": [r.unit for r in created]},
        visible=False,
    )
    return created


@transaction.atomic
def coreview_answer(
    *, user, request: CoReviewRequest, decision: str, text: str, ip=None
) -> ReviewOpinion:
    """A co-reviewer answers a request routed to their unit."""
    request = CoReviewRequest.objects.select_for_update().get(pk=request.pk)
    role = _require_role(user, Role.CO_REVIEWER)
    if not user.unit or user.unit != request.unit:
        raise ReviewError(_("This request is not routed to your unit."))
    if request.status != CoReviewRequest.Status.OPEN:
        raise ReviewError(_("This request has been answered already."))
    if decision not in ReviewOpinion.Decision.values:
        raise ReviewError(_("Choose your opinion."))
    if not text.strip():
        raise ReviewError(_("Write your opinion."))
    opinion = ReviewOpinion.objects.create(
        request=request, author=user, unit=request.unit, decision=decision, text=text.strip()
    )
    request.status = CoReviewRequest.Status.ANSWERED
    request.save(update_fields=["status"])
    record(
        action="review.coreview_answer",
        actor=user,
        actor_role=role,
        ip=ip,
        obj=opinion,
        application_id=request.application_id,
        data={"unit": request.unit, "decision": decision},
    )
    return opinion


@transaction.atomic
def application_return(
    *,
    user,
    application: Application,
    fields: Iterable[str],
    documents: Iterable[str],
    message: str,
    working_days: int | None = None,
    version: int,
    ip=None,
) -> Application:
    """Return for correction: reopen exactly the named facts and documents until a deadline."""
    application = _lock(application)
    transition, role = _transition(application, Action.RETURN, user)
    _check_version(application, version)
    actors = _four_eyes(application, user, "commerce_reviewer")
    catalogue = current_catalogue()
    measure = catalogue.measures[application.measure.code]
    fields = [f for f in dict.fromkeys(fields) if f]
    documents = [d for d in dict.fromkeys(documents) if d]
    fact_names = {fact.name for fact, _required in measure.fact_defs} - {"year"}
    if not set(fields) <= fact_names:
        raise ReviewError(_("Only this measure's figures can be reopened."))
    if not set(documents) <= set(measure.evidence_types):
        raise ReviewError(_("Only this measure's documents can be reopened."))
    if not fields and not documents:
        raise ReviewError(_("Name at least one figure or document the applicant must correct."))
    message = (message or "").strip()
    if not message:
        raise ReviewError(_("Write a message telling the applicant what to correct."))
    days = settings.RETURN_DEADLINE_WORKING_DAYS if working_days is None else int(working_days)
    if not 1 <= days <= 60:
        raise ReviewError(_("The deadline must be between 1 and 60 working days."))
    _set_actor(actors, "commerce_reviewer", user)
    deadline = add_working_days(timezone.localdate(), days)
    application.return_message = message[:4000]
    application.return_fields = fields
    application.return_documents = documents
    application.return_deadline = deadline
    _move(
        application,
        transition,
        "return_message",
        "return_fields",
        "return_documents",
        "return_deadline",
    )
    _decision(application, Stage.COMMERCE, Action.RETURN, user, message=message)
    _audit(
        application,
        Action.RETURN.value,
        user,
        role,
        ip=ip,
        data={"fields": fields, "documents": documents, "deadline": deadline.isoformat()},
        public_message=message,
    )
    notify(
        application,
        message_zh=f"申报 {application.reference} 被退回补正，请于 {deadline:%Y-%m-%d} 前修改后"
        f"重新提交。审核意见：{message}",
        message_en=f"Application {application.reference} was returned for correction; please "
        f"correct it and resubmit by {deadline:%Y-%m-%d}. Reviewer's message: {message}",
    )
    return application


def _cancel_live_award(application: Application, *, release: bool) -> Award | None:
    award = (
        Award.objects.select_for_update()
        .filter(application=application)
        .exclude(status__in=[Award.Status.CANCELLED, Award.Status.FIXED])
        .first()
    )
    if award is None:
        return None
    if award.status == Award.Status.COMMITTED and release:
        allocation = BudgetAllocation.objects.select_for_update().get(pk=award.allocation_id)
        allocation.committed_cny -= award.amount_cny
        allocation.save(update_fields=["committed_cny", "updated_at"])
    award.status = Award.Status.CANCELLED
    award.save(update_fields=["status"])
    return award


@transaction.atomic
def application_reject(
    *, user, application: Application, reason: str, version: int, ip=None
) -> Application:
    """Reject at commerce or finance review; the applicant reads the reason."""
    application = _lock(application)
    transition, role = _transition(application, Action.REJECT, user)
    _check_version(application, version)
    slot = "finance_reviewer" if role == Role.FINANCE_REVIEWER else "commerce_reviewer"
    actors = _four_eyes(application, user, slot)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("A rejection needs a reason the applicant can read."))
    _set_actor(actors, slot, user)
    _cancel_live_award(application, release=True)
    _move(application, transition)
    stage = Stage.FINANCE if slot == "finance_reviewer" else Stage.COMMERCE
    _decision(application, stage, Action.REJECT, user, message=reason)
    _audit(application, Action.REJECT.value, user, role, ip=ip, public_message=reason)
    notify(
        application,
        message_zh=f"申报 {application.reference} 未获通过。理由：{reason}",
        message_en=f"Application {application.reference} was rejected. Reason: {reason}",
    )
    return application


@transaction.atomic
def application_recommend(
    *, user, application: Application, amount: Any, reason: str = "", version: int, ip=None
) -> Award:
    """Commerce approves an amount ≤ the cap computed now on the verified figures.

    A lower amount needs a written reason; a discretionary measure (M03, M11) always needs an
    amount and a reason; an external measure (M15) is awarded by its own policy, not here.
    """
    application = _lock(application)
    transition, role = _transition(application, Action.RECOMMEND, user)
    _check_version(application, version)
    actors = _four_eyes(application, user, "commerce_reviewer")
    measure = application.measure
    if measure.kind == EXTERNAL:
        raise ReviewError(
            _("%(code)s is funded under another policy and cannot be awarded here; reject it with "
              "a pointer to that policy.") % {"code": measure.code}
        )  # fmt: skip
    amount = parse_amount(amount)
    reason = (reason or "").strip()
    assessment = assess(application, current_verified_facts(application), user)
    limit = assessment.award_limit
    if not assessment.eligible or limit is None or limit <= 0:
        raise ReviewError(
            _("According to the rules on the verified figures this application is not eligible.")
        )
    if amount > limit:
        raise ReviewError(
            _("The amount exceeds the computed cap of CNY %(cap)s.") % {"cap": f"{limit:,.2f}"}
        )
    if measure.kind == DISCRETIONARY and not reason:
        raise ReviewError(_("A discretionary measure needs a written reason for the amount."))
    if amount < limit and not reason:
        raise ReviewError(_("An amount lower than the cap needs a written reason."))
    _set_actor(actors, "commerce_reviewer", user)
    _cancel_live_award(application, release=True)
    award = Award.objects.create(
        application=application,
        assessment=assessment,
        amount_cny=amount,
        cap_cny=limit,
        reason=reason,
        submitter_id=actors.submitter_id,
        commerce_reviewer=user,
    )
    _move(application, transition)
    _decision(
        application, Stage.COMMERCE, Action.RECOMMEND, user, assessment=assessment, amount=amount,
        message=reason,
    )  # fmt: skip
    _audit(
        application,
        Action.RECOMMEND.value,
        user,
        role,
        ip=ip,
        data={
            "amount_cny": _money(amount),
            "cap_cny": _money(limit),
            "reason": reason,
            "rules_version": assessment.rules_version,
            "verified_facts": assessment.verified_facts,
        },
    )
    notify(
        application,
        message_zh=f"申报 {application.reference} 已通过商务局初审，转财政局复核。",
        message_en=f"Application {application.reference} passed the Bureau of Commerce's review "
        "and goes to the Bureau of Finance.",
    )
    return award


# --- Finance review -------------------------------------------------------------------------------


@transaction.atomic
def application_return_to_commerce(
    *, user, application: Application, message: str, version: int, ip=None
) -> Application:
    application = _lock(application)
    transition, role = _transition(application, Action.RETURN_TO_COMMERCE, user)
    _check_version(application, version)
    actors = _four_eyes(application, user, "finance_reviewer")
    message = (message or "").strip()
    if not message:
        raise ReviewError(_("Tell the commerce reviewer why the application comes back."))
    _set_actor(actors, "finance_reviewer", user)
    award = _cancel_live_award(application, release=True)
    _move(application, transition)
    _decision(application, Stage.FINANCE, Action.RETURN_TO_COMMERCE, user, message=message)
    _audit(
        application,
        Action.RETURN_TO_COMMERCE.value,
        user,
        role,
        ip=ip,
        data={"message": message, "amount_cny": _money(award.amount_cny) if award else None},
    )
    return application


@transaction.atomic
def application_commit(
    *, user, application: Application, allocation: BudgetAllocation | int, version: int, ip=None
) -> Award:
    """Finance approves: the award is committed to a budget allocation under row locks.

    Annual caps, one-time and overlap are re-checked here from the awards in the database, with
    the enterprise row locked so that two commits for one enterprise see each other.
    """
    application = _lock(application)
    transition, role = _transition(application, Action.COMMIT, user)
    _check_version(application, version)
    actors = _four_eyes(application, user, "finance_reviewer")
    award = (
        Award.objects.select_for_update()
        .filter(application=application, status=Award.Status.RECOMMENDED)
        .first()
    )
    if award is None:
        raise ReviewError(_("There is no recommended amount to commit."))
    list(
        Enterprise.objects.select_for_update()
        .filter(pk=application.enterprise_id)
        .values_list("pk", flat=True)
    )
    assessment = assess(application, award.assessment.verified_facts, user)
    limit = assessment.award_limit
    if not assessment.eligible or limit is None or award.amount_cny > limit:
        raise ReviewError(
            _(
                "Awards made since the recommendation leave at most CNY %(limit)s for this "
                "application (annual cap, one-time or overlap rule); return it to commerce."
            )
            % {"limit": f"{(limit or 0):,.2f}" if assessment.eligible else "0.00"}
        )
    allocation_id = allocation if isinstance(allocation, int) else allocation.pk
    budget = (
        BudgetAllocation.objects.select_for_update().filter(pk=allocation_id).order_by().first()
    )
    if budget is None:
        raise ReviewError(_("Choose a budget allocation."))
    if budget.measure_id is not None and budget.measure_id != application.measure_id:
        raise ReviewError(_("This allocation is reserved for another measure."))
    before = budget.committed_cny
    if before + award.amount_cny > budget.amount_cny:
        raise BudgetExceeded(
            _(
                "The budget would be overspent: CNY %(remaining)s remain in %(budget)s, the award "
                "is CNY %(amount)s."
            )
            % {
                "remaining": f"{budget.remaining_cny:,.2f}",
                "budget": str(budget),
                "amount": f"{award.amount_cny:,.2f}",
            }
        )
    budget.committed_cny = before + award.amount_cny
    budget.save(update_fields=["committed_cny", "updated_at"])
    _set_actor(actors, "finance_reviewer", user)
    award.status = Award.Status.COMMITTED
    award.fund_source_id = budget.fund_source_id
    award.allocation = budget
    award.finance_reviewer = user
    award.committed_at = timezone.now()
    award.save(
        update_fields=["status", "fund_source", "allocation", "finance_reviewer", "committed_at"]
    )
    _move(application, transition)
    _decision(
        application, Stage.FINANCE, Action.COMMIT, user, assessment=assessment,
        amount=award.amount_cny,
    )  # fmt: skip
    _audit(
        application,
        Action.COMMIT.value,
        user,
        role,
        ip=ip,
        data={
            "amount_cny": _money(award.amount_cny),
            "allocation": budget.pk,
            "fund_source": budget.fund_source.code,
            "committed_before": _money(before),
            "committed_after": _money(budget.committed_cny),
            "rules_version": assessment.rules_version,
        },
    )
    notify(
        application,
        message_zh=f"申报 {application.reference} 已通过财政局复核，拟安排资金 "
        f"{award.amount_cny:,.2f} 元，待公示。",
        message_en=f"Application {application.reference} passed the Bureau of Finance's review: "
        f"CNY {award.amount_cny:,.2f} is earmarked and goes to public notice.",
    )
    return award


# --- Public notice and objections -----------------------------------------------------------------


@transaction.atomic
def notice_publish(*, user, application_ids: Iterable[int], ip=None) -> PublicNoticeBatch:
    """Publish a notice batch (all or nothing); with PUBLIC_NOTICE_DAYS = 0 it closes at once."""
    role = _require_role(user, Role.APPROVAL_REGISTRAR)
    applications = _lock_many(application_ids)
    if not applications:
        raise ReviewError(_("Choose at least one application."))
    items = []
    for application in applications:
        if application.state != State.PUBLIC_NOTICE:
            raise TransitionRefused(
                _("%(ref)s is not waiting for public notice.") % {"ref": application.reference}
            )
        _four_eyes(application, user, "registrar")
        if PublicNoticeItem.objects.filter(
            application=application, status=PublicNoticeItem.Status.LISTED
        ).exists():
            raise ReviewError(
                _("%(ref)s is on public notice already.") % {"ref": application.reference}
            )
        award = Award.objects.get(application=application, status=Award.Status.COMMITTED)
        items.append((application, award))
    now = timezone.now()
    days = settings.PUBLIC_NOTICE_DAYS
    batch = PublicNoticeBatch.objects.create(
        published_by=user, published_at=now, period_days=days, ends_at=now + timedelta(days=days)
    )
    PublicNoticeItem.objects.bulk_create(
        PublicNoticeItem(
            batch=batch,
            application=application,
            award=award,
            enterprise_name=application.enterprise.name,
            measure_code=application.measure.code,
            measure_title_zh=application.measure.title_zh,
            measure_title_en=application.measure.title_en,
            amount_cny=award.amount_cny,
        )
        for application, award in items
    )
    for application, award in items:
        application.version += 1
        application.save(update_fields=["version", "updated_at"])
        _audit(
            application,
            "notice_publish",
            user,
            role,
            ip=ip,
            data={
                "batch": batch.pk,
                "ends_at": batch.ends_at,
                "amount_cny": _money(award.amount_cny),
            },
        )
        if days:
            notify(
                application,
                message_zh=f"申报 {application.reference} 拟获资助，进入公示期，至 "
                f"{timezone.localtime(batch.ends_at):%Y-%m-%d %H:%M} 止。",
                message_en=f"Application {application.reference} is on public notice until "
                f"{timezone.localtime(batch.ends_at):%Y-%m-%d %H:%M}.",
            )
    if days == 0:
        for application, _award in items:
            _close_notice(application, user, role, ip=ip)
        batch.closed_at = now
        batch.save(update_fields=["closed_at"])
    return batch


def _close_notice(application: Application, user, role: str, *, ip=None) -> None:
    """CLOSE_NOTICE on a locked application (caller holds the lock and checked the role)."""
    transition = transition_for(application.state, Action.CLOSE_NOTICE, role)
    item = (
        PublicNoticeItem.objects.select_for_update(of=("self",))
        .filter(application=application, status=PublicNoticeItem.Status.LISTED)
        .select_related("batch")
        .order_by("pk")
        .first()
    )
    if item is None:
        raise ReviewError(_("This application has not been published for public notice."))
    if item.batch.ends_at > timezone.now():
        raise ReviewError(_("The public notice period is not over yet."))
    if application.objections.filter(status=Objection.Status.OPEN).exists():
        raise ReviewError(_("An open objection holds this application until it is resolved."))
    item.status = PublicNoticeItem.Status.CLOSED
    item.save(update_fields=["status"])
    _move(application, transition)
    _audit(application, Action.CLOSE_NOTICE.value, user, role, ip=ip, data={"batch": item.batch_id})
    notify(
        application,
        message_zh=f"申报 {application.reference} 公示期满，报市人民政府审批。",
        message_en=f"The public notice of application {application.reference} is over; it goes "
        "to the Municipal People's Government for approval.",
    )


@transaction.atomic
def notice_close(*, user, application: Application, version: int | None = None, ip=None):
    """Close one application's notice whose period is over (registrar, or the system: user None)."""
    application = _lock(application)
    _transition_obj, role = _transition(application, Action.CLOSE_NOTICE, user)
    _check_version(application, version)
    if user is not None:
        _four_eyes(application, user, "registrar")
    _close_notice(application, user, role, ip=ip)
    return application


def close_due_notices(*, user=None) -> int:
    """Close every notice whose period is over and that no open objection holds (beat task)."""
    now = timezone.now()
    ids = list(
        PublicNoticeItem.objects.filter(
            status=PublicNoticeItem.Status.LISTED, batch__ends_at__lte=now
        )
        .exclude(application__objections__status=Objection.Status.OPEN)
        .values_list("application_id", flat=True)
    )
    closed = 0
    for pk in ids:
        try:
            notice_close(user=user, application=pk)
        except (ReviewError, TransitionRefused) as exc:
            logger.info("notice of application %s not closed: %s", pk, exc)
            continue
        closed += 1
    PublicNoticeBatch.objects.filter(closed_at__isnull=True, ends_at__lte=now).exclude(
        items__status=PublicNoticeItem.Status.LISTED
    ).update(closed_at=now)
    return closed


def open_notice_items():
    return (
        PublicNoticeItem.objects.filter(
            status=PublicNoticeItem.Status.LISTED, batch__ends_at__gt=timezone.now()
        )
        .select_related("batch")
        .order_by("batch__ends_at", "id")
    )


@transaction.atomic
def objection_lodge(
    *, user, item: PublicNoticeItem | int, real_name: str, contact: str, text: str, upload=None,
    ip=None,
) -> Objection:  # fmt: skip
    """A logged-in person objects, under their real name, to an award on public notice."""
    from applications.uploads import UploadRejected, inspect_upload, storage_name

    if not getattr(user, "is_authenticated", False):
        raise ReviewError(_("Log in to lodge an objection."))
    item_id = item if isinstance(item, int) else item.pk
    item = PublicNoticeItem.objects.select_related("batch").filter(pk=item_id).first()
    if item is None:
        raise ReviewError(_("This notice does not exist."))
    application = _lock(item.application_id)
    item = (
        PublicNoticeItem.objects.select_for_update(of=("self",))
        .select_related("batch")
        .get(pk=item.pk)
    )
    if item.status != PublicNoticeItem.Status.LISTED or item.batch.ends_at <= timezone.now():
        raise ReviewError(_("The public notice period of this award is over."))
    real_name, contact, text = real_name.strip(), contact.strip(), text.strip()
    if not real_name or not contact or not text:
        raise ReviewError(_("Give your real name, a phone number or e-mail, and your objection."))
    objection = Objection(
        item=item,
        application=application,
        author=user,
        real_name=real_name[:100],
        contact=contact[:100],
        text=text[:5000],
    )
    if upload is not None:
        try:
            checked = inspect_upload(upload, allow_zip=False)
        except UploadRejected as exc:
            raise ReviewError(str(getattr(exc, "message", exc))) from None
        upload.seek(0)
        name = default_storage.save(storage_name(prefix="objections", kind=checked.kind), upload)
        objection.file.name = name
        objection.file_name = checked.original_name[:200]
        objection.file_type = checked.content_type[:100]
        transaction.on_commit(lambda: None)  # the file is kept whatever happens to the row
    objection.save()
    record(
        action="review.objection_lodge",
        actor=user,
        ip=ip,
        obj=objection,
        application_id=application.pk,
        data={"item": item.pk, "file": bool(objection.file)},
        visible_to_applicant=True,
    )
    notify(
        application,
        message_zh=f"公示期间有人对申报 {application.reference} 提出异议，商务局将予核查。",
        message_en=f"An objection was lodged against application {application.reference} during "
        "its public notice; the Bureau of Commerce will examine it.",
    )
    return objection


@transaction.atomic
def objection_resolve(
    *, user, objection: Objection | int, upheld: bool, resolution: str, version: int, ip=None
) -> Objection:
    """A commerce reviewer resolves an objection: upheld → back to commerce review (the budget
    commitment is released); dismissed → the application continues when nothing else holds it."""
    objection_id = objection if isinstance(objection, int) else objection.pk
    application_id = Objection.objects.values_list("application_id", flat=True).get(pk=objection_id)
    application = _lock(application_id)
    objection = Objection.objects.select_for_update().get(pk=objection_id)
    if upheld:
        transition, role = _transition(application, Action.UPHOLD_OBJECTION, user)
    else:
        role = _require_role(user, Role.COMMERCE_REVIEWER)
        if application.state != State.PUBLIC_NOTICE:
            raise TransitionRefused(_("The application is no longer on public notice."))
    _check_version(application, version)
    _four_eyes(application, user, "commerce_reviewer")
    if objection.status != Objection.Status.OPEN:
        raise ReviewError(_("This objection has been resolved already."))
    resolution = (resolution or "").strip()
    if not resolution:
        raise ReviewError(_("Explain the resolution."))
    now = timezone.now()
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.resolution = resolution[:4000]
    objection.resolved_by = user
    objection.resolved_at = now
    objection.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    if upheld:
        others = Objection.objects.filter(item=objection.item, status=Objection.Status.OPEN)
        for other in others.exclude(pk=objection.pk):
            other.status = Objection.Status.UPHELD
            other.resolution = resolution[:4000]
            other.resolved_by = user
            other.resolved_at = now
            other.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        PublicNoticeItem.objects.filter(pk=objection.item_id).update(
            status=PublicNoticeItem.Status.WITHDRAWN
        )
        award = _cancel_live_award(application, release=True)
        _move(application, transition)
        _decision(application, Stage.COMMERCE, Action.UPHOLD_OBJECTION, user, message=resolution)
        _audit(
            application,
            Action.UPHOLD_OBJECTION.value,
            user,
            role,
            ip=ip,
            data={
                "objection": objection.pk,
                "released_cny": _money(award.amount_cny) if award else None,
            },
            public_message=resolution,
        )
        notify(
            application,
            message_zh=f"公示异议成立，申报 {application.reference} 退回商务局重新审核："
            f"{resolution}",
            message_en=f"An objection to application {application.reference} was upheld; it goes "
            f"back to the Bureau of Commerce's review: {resolution}",
        )
    else:
        application.version += 1
        application.save(update_fields=["version", "updated_at"])
        _audit(
            application,
            "objection_dismiss",
            user,
            role,
            ip=ip,
            data={"objection": objection.pk},
            public_message=resolution,
        )
    return objection


# --- Government approval --------------------------------------------------------------------------


@transaction.atomic
def approval_record(
    *,
    user,
    application_ids: Iterable[int],
    document_number: str,
    document_date: date,
    ip=None,
) -> ApprovalBatch:
    """Record the government's approval of a batch: all approved and fixed, or nothing."""
    applications = _lock_many(application_ids)
    if not applications:
        raise ReviewError(_("Choose at least one application."))
    work = []
    role = Role.APPROVAL_REGISTRAR.value
    for application in applications:
        transition, role = _transition(application, Action.RECORD_APPROVAL, user)
    document_number = (document_number or "").strip()
    if not document_number:
        raise ReviewError(_("Enter the government document number."))
    if not isinstance(document_date, date) or isinstance(document_date, datetime):
        raise ReviewError(_("Enter the document date."))
    if document_date > timezone.localdate():
        raise ReviewError(_("The document date cannot be in the future."))
    for application in applications:
        transition, role = _transition(application, Action.RECORD_APPROVAL, user)
        actors = _four_eyes(application, user, "registrar")
        award = (
            Award.objects.select_for_update()
            .filter(application=application, status=Award.Status.COMMITTED)
            .first()
        )
        if award is None:
            raise ReviewError(_("%(ref)s has no committed award.") % {"ref": application.reference})
        work.append((application, transition, actors, award))
    if ApprovalBatch.objects.filter(document_number=document_number).exists():
        raise ReviewError(_("This document number has been recorded already."))
    try:
        with transaction.atomic():
            batch = ApprovalBatch.objects.create(
                document_number=document_number[:80], document_date=document_date, recorded_by=user
            )
    except IntegrityError:
        raise ReviewError(_("This document number has been recorded already.")) from None
    now = timezone.now()
    for application, transition, actors, award in work:
        _set_actor(actors, "registrar", user)
        award.status = Award.Status.FIXED
        award.approval_batch = batch
        award.registrar = user
        award.fixed_at = now
        award.save(update_fields=["status", "approval_batch", "registrar", "fixed_at"])
        application.approved_amount_cny = award.amount_cny
        _move(application, transition, "approved_amount_cny")
        _decision(
            application, Stage.REGISTRAR, Action.RECORD_APPROVAL, user, amount=award.amount_cny
        )
        _audit(
            application,
            Action.RECORD_APPROVAL.value,
            user,
            role,
            ip=ip,
            data={
                "document_number": batch.document_number,
                "document_date": document_date.isoformat(),
                "approved_amount_cny": _money(award.amount_cny),
            },
        )
        award_fixed(award)
        notify(
            application,
            message_zh=f"申报 {application.reference} 已经市人民政府批准"
            f"（{batch.document_number}），核定资助 {award.amount_cny:,.2f} 元。",
            message_en=f"Application {application.reference} was approved by the Municipal "
            f"People's Government ({batch.document_number}): CNY {award.amount_cny:,.2f}.",
        )
    return batch


def award_fixed(award: Award) -> None:
    """The award is fixed by government approval; called inside the approving transaction.

    The approval-notice issue adds its outbox row here (one notice per award version), so that
    the notice is rendered exactly once after this transaction commits. For now this writes the
    audit event of the fixed award with everything needed to re-derive it.
    """
    record(
        action="award.fixed",
        actor=award.registrar,
        actor_role=Role.APPROVAL_REGISTRAR.value,
        obj=award,
        application_id=award.application_id,
        data={
            "amount_cny": _money(award.amount_cny),
            "cap_cny": _money(award.cap_cny),
            "fund_source": award.fund_source.code if award.fund_source_id else None,
            "allocation": award.allocation_id,
            "approval": award.approval_batch.document_number,
            "rules_version": award.assessment.rules_version,
            "actors": {
                "submitter": award.submitter_id,
                "commerce_reviewer": award.commerce_reviewer_id,
                "finance_reviewer": award.finance_reviewer_id,
                "registrar": award.registrar_id,
            },
        },
    )
    # The approval notice: number, frozen content and render job, in this transaction (issue 6).
    from .notices import notice_request

    notice_request(award)


# --- Budgets --------------------------------------------------------------------------------------


@transaction.atomic
def allocation_save(
    *, user, allocation: BudgetAllocation | None, data: Mapping[str, Any], ip=None
) -> BudgetAllocation:
    """Create an allocation or change its amount (never below what is committed), under a lock."""
    _require_role(user, Role.POLICY_ADMINISTRATOR)
    amount = Decimal(str(data["amount_cny"])).quantize(CENT, rounding=ROUND_HALF_UP)
    if amount < 0:
        raise ReviewError(_("The amount must not be negative."))
    if allocation is None or allocation.pk is None:
        allocation = BudgetAllocation.objects.create(
            fiscal_year=data["fiscal_year"],
            fund_source=data["fund_source"],
            measure=data.get("measure"),
            amount_cny=amount,
            note=data.get("note", ""),
        )
        record(
            action="budget.create",
            actor=user,
            actor_role=Role.POLICY_ADMINISTRATOR.value,
            ip=ip,
            obj=allocation,
            data={"amount_cny": _money(amount)},
        )
        return allocation
    allocation = BudgetAllocation.objects.select_for_update().get(pk=allocation.pk)
    if amount < allocation.committed_cny:
        raise ReviewError(
            _("An allocation cannot be lower than what is already committed (CNY %(c)s).")
            % {"c": f"{allocation.committed_cny:,.2f}"}
        )
    before = allocation.amount_cny
    allocation.amount_cny = amount
    allocation.note = data.get("note", allocation.note)
    allocation.save(update_fields=["amount_cny", "note", "updated_at"])
    record(
        action="budget.change",
        actor=user,
        actor_role=Role.POLICY_ADMINISTRATOR.value,
        ip=ip,
        obj=allocation,
        data={"before": _money(before), "after": _money(amount)},
    )
    return allocation


def budget_summary(fiscal_year: int | None = None) -> list[dict[str, Any]]:
    """Per fiscal year × fund source: allocated, committed, paid, remaining."""
    from .models import DisbursementLine

    paid_lines = DisbursementLine.objects.filter(state=DisbursementLine.State.PAID)
    if fiscal_year:
        paid_lines = paid_lines.filter(award__allocation__fiscal_year=fiscal_year)
    paid = {
        (year, code): total
        for year, code, total in paid_lines.values_list(
            "award__allocation__fiscal_year", "award__allocation__fund_source__code"
        ).annotate(total=Sum("amount_cny"))
    }
    rows = BudgetAllocation.objects.all()
    if fiscal_year:
        rows = rows.filter(fiscal_year=fiscal_year)
    totals = (
        rows.values(
            "fiscal_year", "fund_source__code", "fund_source__name_zh", "fund_source__name_en"
        )
        .annotate(allocated=Sum("amount_cny"), committed=Sum("committed_cny"))
        .order_by("-fiscal_year", "fund_source__code")
    )
    return [
        {
            **row,
            "paid": paid.get((row["fiscal_year"], row["fund_source__code"])) or Decimal("0.00"),
            "remaining": row["allocated"] - row["committed"],
        }
        for row in totals
    ]


def committed_total(allocation: BudgetAllocation) -> Decimal:
    """The sum of committed and fixed awards on an allocation (what committed_cny must equal)."""
    return Award.objects.filter(
        Q(status=Award.Status.COMMITTED) | Q(status=Award.Status.FIXED), allocation=allocation
    ).aggregate(total=Sum("amount_cny"))["total"] or Decimal("0.00")


def record_download(*, user, evidence: Evidence, ip=None) -> None:
    """Every download of evidence by staff is audited (SECURITY.md row 33)."""
    record(
        action="evidence.download",
        actor=user,
        actor_role=",".join(sorted(roles_of(user))),
        ip=ip,
        obj=evidence,
        application_id=evidence.application_id,
        data={"sha256": evidence.sha256},
    )
