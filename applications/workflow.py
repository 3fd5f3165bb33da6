"""The life of an application (DESIGN.md §2) as one literal transition table.

Code, pages and tests read TRANSITIONS; every transition is carried out by one service function
(applications.services for the applicant's actions, reviews.services for the bureau's). There is
no other way for an application to change state.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.errors import TransitionRefused


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    COMMERCE_REVIEW = "commerce_review", _("Commerce review")
    RETURNED = "returned", _("Returned for correction")
    FINANCE_REVIEW = "finance_review", _("Finance review")
    PUBLIC_NOTICE = "public_notice", _("Public notice")
    GOVERNMENT_APPROVAL = "government_approval", _("Awaiting government approval")
    APPROVED = "approved", _("Approved")
    DISBURSED = "disbursed", _("Disbursed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    LAPSED = "lapsed", _("Lapsed")


class Action(models.TextChoices):
    SUBMIT = "submit", _("Submit")
    WITHDRAW = "withdraw", _("Withdraw")
    RESUBMIT = "resubmit", _("Resubmit")
    LAPSE = "lapse", _("Lapse after the correction deadline")
    TAKE = "take", _("Take for review")
    RETURN = "return", _("Return for correction")
    REJECT = "reject", _("Reject")
    RECOMMEND = "recommend", _("Approve at commerce review")
    RETURN_TO_COMMERCE = "return_to_commerce", _("Return to commerce review")
    COMMIT = "commit", _("Approve and commit to a budget")
    UPHOLD_OBJECTION = "uphold_objection", _("Uphold an objection")
    CLOSE_NOTICE = "close_notice", _("Close the public notice period")
    RECORD_APPROVAL = "record_approval", _("Record government approval")
    DISBURSE = "disburse", _("Record payment")


# Who may act: a member of the applicant enterprise, a staff role, or the system itself
# (periodic tasks). Staff actors are Role values.
APPLICANT = "applicant"
SYSTEM = "system"


@dataclass(frozen=True)
class Transition:
    target: State
    actors: frozenset[str]


def _t(target: State, *actors: str) -> Transition:
    return Transition(target, frozenset(str(a) for a in actors))


TRANSITIONS: dict[tuple[State, Action], Transition] = {
    (State.DRAFT, Action.SUBMIT): _t(State.SUBMITTED, APPLICANT),
    (State.SUBMITTED, Action.WITHDRAW): _t(State.WITHDRAWN, APPLICANT),
    (State.SUBMITTED, Action.TAKE): _t(State.COMMERCE_REVIEW, Role.COMMERCE_REVIEWER),
    (State.COMMERCE_REVIEW, Action.WITHDRAW): _t(State.WITHDRAWN, APPLICANT),
    (State.COMMERCE_REVIEW, Action.RETURN): _t(State.RETURNED, Role.COMMERCE_REVIEWER),
    (State.COMMERCE_REVIEW, Action.REJECT): _t(State.REJECTED, Role.COMMERCE_REVIEWER),
    (State.COMMERCE_REVIEW, Action.RECOMMEND): _t(State.FINANCE_REVIEW, Role.COMMERCE_REVIEWER),
    (State.RETURNED, Action.RESUBMIT): _t(State.SUBMITTED, APPLICANT),
    (State.RETURNED, Action.WITHDRAW): _t(State.WITHDRAWN, APPLICANT),
    (State.RETURNED, Action.LAPSE): _t(State.LAPSED, SYSTEM),
    (State.FINANCE_REVIEW, Action.COMMIT): _t(State.PUBLIC_NOTICE, Role.FINANCE_REVIEWER),
    (State.FINANCE_REVIEW, Action.RETURN_TO_COMMERCE): _t(
        State.COMMERCE_REVIEW, Role.FINANCE_REVIEWER
    ),
    (State.FINANCE_REVIEW, Action.REJECT): _t(State.REJECTED, Role.FINANCE_REVIEWER),
    (State.PUBLIC_NOTICE, Action.UPHOLD_OBJECTION): _t(
        State.COMMERCE_REVIEW, Role.COMMERCE_REVIEWER
    ),
    (State.PUBLIC_NOTICE, Action.CLOSE_NOTICE): _t(
        State.GOVERNMENT_APPROVAL, Role.APPROVAL_REGISTRAR, SYSTEM
    ),
    (State.GOVERNMENT_APPROVAL, Action.RECORD_APPROVAL): _t(
        State.APPROVED, Role.APPROVAL_REGISTRAR
    ),
    (State.APPROVED, Action.DISBURSE): _t(State.DISBURSED, Role.DISBURSEMENT_OFFICER),
}

# Applications in these states block a second one for the same enterprise, measure and year.
OPEN_STATES = frozenset(
    {
        State.DRAFT,
        State.SUBMITTED,
        State.COMMERCE_REVIEW,
        State.RETURNED,
        State.FINANCE_REVIEW,
        State.PUBLIC_NOTICE,
        State.GOVERNMENT_APPROVAL,
    }
)
# The applicant may still change the declared figures and evidence (returned: only what was named).
EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})


def transition_for(state: str, action: str, actor: str) -> Transition:
    """The allowed transition, or TransitionRefused with a clear message."""
    transition = TRANSITIONS.get((State(state), Action(action)))
    if transition is None:
        raise TransitionRefused(
            _("“%(action)s” is not possible while the application is “%(state)s”.")
            % {"action": Action(action).label, "state": State(state).label}
        )
    if actor not in transition.actors:
        raise TransitionRefused(
            _("Your role may not “%(action)s” this application.") % {"action": Action(action).label}
        )
    return transition


def move_application(application, transition: Transition, *extra_fields: str) -> None:
    """Carry out an allowed transition: the new state, the next version, one save.

    The only place an application's state is written; the caller audits the action.
    """
    application.state = transition.target
    application.version += 1
    application.save(update_fields=["state", "version", "updated_at", *extra_fields])


def allowed_actions(state: str, actors: set[str]) -> list[Action]:
    return [
        action
        for (from_state, action), transition in TRANSITIONS.items()
        if from_state == state and transition.actors & actors
    ]
