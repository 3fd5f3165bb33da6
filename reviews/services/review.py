"""The commerce and finance review of an application, one function per transition of
applications.workflow (the shared steps are in services.steps)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Enterprise, Evidence
from applications.services import application_catalogue, notify
from applications.workflow import Action, State, TransitionRefused, transition_for
from hengyang_cbec.accounts.roles import Role, has_role, roles_of
from hengyang_cbec.audit.services import record, record_action
from hengyang_cbec.statetables import move

from ..calendar import add_working_days
from ..models import (
    Assessment,
    Assignment,
    Award,
    BudgetAllocation,
    CoReviewRequest,
    ReviewOpinion,
    Stage,
)
from ..transitions import AWARD
from .assessment import _serialisable, assess, current_verified_facts
from .steps import (
    ROLE_SLOTS,
    BudgetExceeded,
    ReviewError,
    _actors,
    _begin,
    _cancel_live_award,
    _check_version,
    _conclude,
    _decision,
    _four_eyes,
    _lock,
    _money,
    _require_role,
    _set_actor,
    parse_amount,
)

# Measures whose amount the reviewer sets within the engine's cap: an amount and a reason needed.
DISCRETIONARY = "discretionary"
EXTERNAL = "external"


# --- Commerce review ------------------------------------------------------------------------------


@transaction.atomic
def application_take(*, user, application: Application, version: int, ip=None) -> Application:
    """A commerce reviewer takes a submitted application (SUBMITTED → COMMERCE_REVIEW)."""
    application, transition, role, actors = _begin(application, Action.TAKE, user, version)
    _set_actor(actors, "commerce_reviewer", user)
    _hold(application, Stage.COMMERCE, assignee=user, by=user)
    _conclude(application, transition, Action.TAKE, Stage.COMMERCE, user, role, ip=ip)
    notify(application, "application_taken")
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
        _conclude(
            application, transition, Action.TAKE, stage, user, role.value, ip=ip,
            message=f"→ {assignee.username}", data={"assigned_to": assignee.username},
        )  # fmt: skip
        notify(application, "application_taken")
        return application
    before = (
        Assignment.objects.filter(application=application, stage=stage)
        .values_list("assignee__username", flat=True)
        .first()
    )
    _hold(application, stage, assignee=assignee, by=user)
    application.version += 1
    application.save(update_fields=["version", "updated_at"])
    record_action(
        application,
        "review.assign",
        user,
        role.value,
        ip=ip,
        data={"stage": stage.value, "before": before, "after": assignee.username},
        visible=False,
    )
    return application


@transaction.atomic
def review_save_facts(
    *,
    user,
    application: Application,
    facts: Mapping[str, Any],
    version: int,
    on_date: date | None = None,
    reason: str = "",
    ip=None,
) -> Assessment:
    """Store the verified figures and recompute the cap on them (commerce review only).

    The application's reference date applies (I-7); `on_date` assesses on another date,
    explicitly, with a `reason` shown in the trace (also required for a verified M12 rate).
    """
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
    assessment = assess(
        application,
        {**before_facts, **_serialisable(facts)},
        user,
        on_date=on_date,
        reason=reason,
    )
    application.version += 1
    application.save(update_fields=["version", "updated_at"])
    changed = {
        name: {"declared": application.declared_facts.get(name), "verified": value}
        for name, value in assessment.verified_facts.items()
        if application.declared_facts.get(name) != value
    }
    _decision(application, Stage.COMMERCE, "verify", user, assessment=assessment)
    record_action(
        application,
        "review.verify",
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
            "policy": assessment.result_zh.get("policy"),
            "on_date": assessment.on_date.isoformat(),
            "reason": assessment.reason,
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
    record_action(
        application,
        "review.coreview_request",
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
    application, transition, role, actors = _begin(application, Action.RETURN, user, version)
    measure = application_catalogue(application).measures[application.measure.code]
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
    _conclude(
        application, transition, Action.RETURN, Stage.COMMERCE, user, role, ip=ip,
        fields=("return_message", "return_fields", "return_documents", "return_deadline"),
        data={"fields": fields, "documents": documents, "deadline": deadline.isoformat()},
        message=message, public_message=message,
    )  # fmt: skip
    notify(application, "application_returned", deadline=deadline, message=message)
    return application


@transaction.atomic
def application_reject(
    *, user, application: Application, reason: str, version: int, ip=None
) -> Application:
    """Reject at commerce or finance review; the applicant reads the reason."""
    application, transition, role, actors = _begin(application, Action.REJECT, user, version)
    slot = ROLE_SLOTS[role]
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("A rejection needs a reason the applicant can read."))
    _set_actor(actors, slot, user)
    _cancel_live_award(application, user, role, release=True)
    stage = Stage.FINANCE if slot == "finance_reviewer" else Stage.COMMERCE
    _conclude(
        application, transition, Action.REJECT, stage, user, role, ip=ip,
        message=reason, public_message=reason,
    )  # fmt: skip
    notify(application, "application_rejected", reason=reason)
    return application


@transaction.atomic
def application_recommend(
    *, user, application: Application, amount: Any, reason: str = "", version: int, ip=None
) -> Award:
    """Commerce approves an amount ≤ the cap computed now on the verified figures.

    A lower amount needs a written reason; a discretionary measure (M03, M11) always needs an
    amount and a reason; an external measure (M15) is awarded by its own policy, not here.
    """
    application, transition, role, actors = _begin(application, Action.RECOMMEND, user, version)
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
    _cancel_live_award(application, user, role, release=True)
    award = Award.objects.create(
        application=application,
        assessment=assessment,
        amount_cny=amount,
        cap_cny=limit,
        reason=reason,
        submitter_id=actors.submitter_id,
        commerce_reviewer=user,
    )
    _conclude(
        application, transition, Action.RECOMMEND, Stage.COMMERCE, user, role, ip=ip,
        assessment=assessment, amount=amount, message=reason,
        data={
            "amount_cny": _money(amount),
            "cap_cny": _money(limit),
            "reason": reason,
            "rules_version": assessment.rules_version,
            "verified_facts": assessment.verified_facts,
        },
    )  # fmt: skip
    notify(application, "application_recommended")
    return award


# --- Finance review -------------------------------------------------------------------------------


@transaction.atomic
def application_return_to_commerce(
    *, user, application: Application, message: str, version: int, ip=None
) -> Application:
    application, transition, role, actors = _begin(
        application, Action.RETURN_TO_COMMERCE, user, version
    )
    message = (message or "").strip()
    if not message:
        raise ReviewError(_("Tell the commerce reviewer why the application comes back."))
    _set_actor(actors, "finance_reviewer", user)
    award = _cancel_live_award(application, user, role, release=True)
    _conclude(
        application, transition, Action.RETURN_TO_COMMERCE, Stage.FINANCE, user, role, ip=ip,
        message=message,
        data={"message": message, "amount_cny": _money(award.amount_cny) if award else None},
    )  # fmt: skip
    return application


@transaction.atomic
def application_commit(
    *, user, application: Application, allocation: BudgetAllocation | int, version: int, ip=None
) -> Award:
    """Finance approves: the award is committed to a budget allocation under row locks.

    Annual caps, one-time and overlap are re-checked here from the awards in the database, with
    the enterprise row locked so that two commits for one enterprise see each other.
    """
    application, transition, role, actors = _begin(application, Action.COMMIT, user, version)
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
    award.fund_source_id = budget.fund_source_id
    award.allocation = budget
    award.finance_reviewer = user
    award.committed_at = timezone.now()
    move(
        award, AWARD, "committed", user=user, role=role,
        fields=("fund_source", "allocation", "finance_reviewer", "committed_at"),
        data={"allocation": budget.pk, "amount_cny": _money(award.amount_cny)},
    )  # fmt: skip
    _conclude(
        application, transition, Action.COMMIT, Stage.FINANCE, user, role, ip=ip,
        assessment=assessment, amount=award.amount_cny,
        data={
            "amount_cny": _money(award.amount_cny),
            "allocation": budget.pk,
            "fund_source": budget.fund_source.code,
            "committed_before": _money(before),
            "committed_after": _money(budget.committed_cny),
            "rules_version": assessment.rules_version,
        },
    )  # fmt: skip
    notify(application, "application_committed", amount=award.amount_cny)
    return award


def record_download(*, user, evidence: Evidence, ip=None, inline: bool = False) -> None:
    """Every download of evidence by staff is audited (SECURITY.md row 33), also an image shown
    inline on the review page (`inline`)."""
    record(
        action="evidence.download",
        actor=user,
        actor_role=",".join(sorted(roles_of(user))),
        ip=ip,
        obj=evidence,
        application_id=evidence.application_id,
        data={"sha256": evidence.sha256, **({"inline": True} if inline else {})},
    )
