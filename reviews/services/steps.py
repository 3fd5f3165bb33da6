"""The steps every action of the bureau's services shares.

Every action: lock the application row (`select_for_update`), re-check the state through
`transition_for`, the actor's role (from groups only: is_superuser grants nothing), four eyes and
the version the page was drawn at; do the work with `save(update_fields=...)`; write the audit
event; tell the applicant; leave e-mail and tasks to `transaction.on_commit`.

Locks are always taken in the same order, so concurrent requests queue instead of deadlocking:
applications (by id) → four-eyes row → award → enterprise → budget allocation → audit chain head.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from applications.models import Application
from applications.workflow import (
    SYSTEM,
    TRANSITIONS,
    Action,
    State,
    Transition,
    TransitionRefused,
    move_application,
    transition_for,
)
from hengyang_cbec.accounts.roles import Role, has_role, roles_of
from hengyang_cbec.audit.services import record_action
from hengyang_cbec.errors import PortalError, StaleVersion
from hengyang_cbec.statetables import move

from ..models import ApplicationActors, Award, BudgetAllocation, ReviewDecision, Stage
from ..transitions import AWARD

CENT = Decimal("0.01")
FOUR_EYES_SLOTS = ("submitter", "commerce_reviewer", "finance_reviewer", "registrar")


class ReviewError(PortalError):
    """A refused reviewer action; the message is shown to the user as it is."""


class FinanceError(PortalError):
    """A refused finance action; the message is shown as it is."""


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
        raise StaleVersion()


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


# The four-eyes capacity of the role a reviewer takes in a transition.
ROLE_SLOTS = {
    Role.COMMERCE_REVIEWER.value: "commerce_reviewer",
    Role.FINANCE_REVIEWER.value: "finance_reviewer",
    Role.APPROVAL_REGISTRAR.value: "registrar",
}


def _begin(
    application: Application | int, action: Action, user, version: int | None
) -> tuple[Application, Transition, str, ApplicationActors]:
    """The start of every decision: lock, the allowed transition and the role the user takes in
    it, the version the page was drawn at, four eyes in that role's capacity."""
    application = _lock(application)
    transition, role = _transition(application, action, user)
    _check_version(application, version)
    return application, transition, role, _four_eyes(application, user, ROLE_SLOTS[role])


def _conclude(
    application: Application,
    transition: Transition,
    action: Action,
    stage: Stage,
    user,
    role: str,
    *,
    ip=None,
    fields: tuple[str, ...] = (),
    data: dict | None = None,
    message: str = "",
    public_message: str = "",
    assessment=None,
    amount=None,
) -> None:
    """The end of every decision: the move, the decision record and the audit event the
    applicant sees on the timeline (review.<action>)."""
    move_application(application, transition, *fields)
    _decision(
        application, stage, action, user, assessment=assessment, amount=amount, message=message
    )
    record_action(
        application,
        f"review.{Action(action).value}",
        user,
        role,
        ip=ip,
        data=data,
        public_message=public_message,
        visible=True,
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


def _cancel_live_award(application: Application, user, role: str, *, release: bool) -> Award | None:
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
    move(award, AWARD, "cancelled", user=user, role=role)
    return award
