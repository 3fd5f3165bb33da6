"""The actions of the reviews permission matrix (test_views.py), each a Target with a valid body,
so that only the permission check can refuse: the bureau's workflow, the verification, the
dossier, the objections and 免申即享 (a statistics file imported, an import approved or rejected by
a second commerce reviewer, the matching run on demand, a source disputed on a submitted proactive
application)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import (
    Assignment,
    CoReviewRequest,
    Entitlement,
    Objection,
    PublicNoticeItem,
    Stage,
    StatisticsImport,
)
from reviews.services.assessment import current_verified_facts
from tests.factories import make_user
from tests.portal_walk import World

from .factories import (
    Crew,
    advance,
    make_allocation,
    make_application,
    make_enterprise,
    make_staff,
    publish,
)


@dataclass
class Target:
    """What one persona's POST acts on: the URL, a valid body (or a function making a fresh one
    for each POST, for a file), what it changes and to what."""

    url: str
    body: dict | Callable[[], dict]
    observe: Callable[[], object]
    wanted: object


def _states(world) -> World:
    """The walk's builder of 免申即享 states, one per test's world."""
    return world.setdefault("states", World())


def _import(world, crew, persona) -> Target:
    states = _states(world)
    name = f"海关统计-{persona}.csv"
    return Target(
        reverse("reviews:statistics"),
        lambda: {"source": "customs", "file": states.statistics_upload(name=name)},
        lambda: list(
            StatisticsImport.objects.filter(original_name=name).values_list(
                "imported_by__username", flat=True
            )
        ),
        [world["users"][persona].username] if persona else [],
    )


def _decide(route: str, wanted: str, **body) -> Callable[..., Target]:
    """A pending import (imported by another commerce reviewer) approved or rejected."""

    def prepare(world, crew, persona) -> Target:
        pending = _states(world).statistics_import()
        return Target(
            reverse(route, args=[pending.pk]),
            body,
            lambda: StatisticsImport.objects.values_list("state", flat=True).get(pk=pending.pk),
            wanted,
        )

    return prepare


def _match(world, crew, persona) -> Target:
    """An applied import not matched yet: the matching on demand offers its entitlement."""
    applied = _states(world).statistics_import(applied=True)
    uscc = applied.records.get().uscc
    return Target(
        reverse("reviews:entitlement_match"),
        {},
        lambda: Entitlement.objects.filter(uscc=uscc).exists(),
        True,
    )


def _dispute(world, crew, persona) -> Target:
    application = _states(world).proactive_application()
    return Target(
        reverse("reviews:dispute_source", args=[application.pk]),
        {"reason": "海关统计出口额与报关单汇总不符。"},
        lambda: Entitlement.objects.values_list("disputed_by__username", flat=True).get(
            application=application
        ),
        world["users"][persona].username if persona else None,
    )


STATISTICS_POSTS = {
    "statistics": _import,
    "statistics_approve": _decide("reviews:statistics_approve", StatisticsImport.State.APPLIED),
    "statistics_reject": _decide(
        "reviews:statistics_reject", StatisticsImport.State.REJECTED, reason="出口额单位有误。"
    ),
    "entitlement_match": _match,
    "dispute_source": _dispute,
}


# --- The bureau's workflow, the verification, the dossier, the objections ------------------------


def _at(state: State, crew: Crew) -> Application:
    application = make_application(enterprise=make_enterprise())
    if state != State.SUBMITTED:
        advance(application, state, crew=crew)
    return Application.objects.get(pk=application.pk)


def _state_of(application: Application) -> Callable[[], str]:
    return lambda: Application.objects.values_list("state", flat=True).get(pk=application.pk)


def _action(name: str, state: State, wanted: State, **body) -> Callable[..., Target]:
    """An action on one application moving it from `state` to `wanted`."""

    def prepare(world, crew, user) -> Target:
        application = _at(state, crew)
        return Target(
            reverse(f"reviews:{name}", args=[application.pk]),
            {"version": application.version, **body},
            _state_of(application),
            wanted,
        )

    return prepare


_STAGE_BY_ROLE = {
    "commerce": (State.COMMERCE_REVIEW, Stage.COMMERCE, Role.COMMERCE_REVIEWER),
    "finance": (State.FINANCE_REVIEW, Stage.FINANCE, Role.FINANCE_REVIEWER),
    "registrar": (State.GOVERNMENT_APPROVAL, Stage.REGISTRAR, Role.APPROVAL_REGISTRAR),
}


def _assign(world, crew, persona) -> Target:
    """Each stage's reviewer hands an application of their stage to a colleague."""
    state, stage, role = _STAGE_BY_ROLE.get(persona, _STAGE_BY_ROLE["commerce"])
    application = _at(state, crew)
    colleague = make_staff(role)
    return Target(
        reverse("reviews:assign", args=[application.pk]),
        {"version": application.version, "assignee": colleague.pk},
        lambda: (
            Assignment.objects.filter(application=application, stage=stage)
            .values_list("assignee_id", flat=True)
            .first()
        ),
        colleague.pk,
    )


def _reject(world, crew, persona) -> Target:
    state = State.FINANCE_REVIEW if persona == "finance" else State.COMMERCE_REVIEW
    return _action("reject", state, State.REJECTED, reason="材料不实")(world, crew, persona)


def _save_facts(world, crew, persona) -> Target:
    application = _at(State.COMMERCE_REVIEW, crew)
    return Target(
        reverse("reviews:save_facts", args=[application.pk]),
        {"version": application.version, "facts-cbec_export_volume_usd": "400000"},
        lambda: current_verified_facts(application).get("cbec_export_volume_usd"),
        "400000",
    )


def _request_coreview(world, crew, persona) -> Target:
    application = _at(State.COMMERCE_REVIEW, crew)
    unit = next(u for u in application.measure.responsible_units if u != "commerce_bureau")
    return Target(
        reverse("reviews:request_coreview", args=[application.pk]),
        {"version": application.version, "units": [unit], "message": "请核对出口额"},
        lambda: list(
            CoReviewRequest.objects.filter(application=application).values_list("unit", flat=True)
        ),
        [unit],
    )


def _commit(world, crew, persona) -> Target:
    allocation = make_allocation()
    return _action("commit", State.FINANCE_REVIEW, State.PUBLIC_NOTICE, allocation=allocation.pk)(
        world, crew, persona
    )


def _answer_coreview(world, crew, persona) -> Target:
    """Only the routed unit answers (test_the_routed_unit_sees_and_answers_its_request)."""
    coreview = world["coreview"]
    return Target(
        reverse("reviews:answer_coreview", args=[coreview.pk]),
        {"decision": "agree", "text": "出口额与海关统计一致"},
        lambda: CoReviewRequest.objects.values_list("status", flat=True).get(pk=coreview.pk),
        "answered",
    )


def _resolve_objection(world, crew, persona) -> Target:
    objection = world["objection"]
    version = Application.objects.values_list("version", flat=True).get(pk=objection.application_id)
    return Target(
        reverse("reviews:resolve_objection", args=[objection.pk]),
        {"version": version, "outcome": "dismissed", "resolution": "经核实，异议不成立"},
        lambda: Objection.objects.values_list("status", flat=True).get(pk=objection.pk),
        Objection.Status.DISMISSED,
    )


def _publish(world, crew, persona) -> Target:
    application = _at(State.PUBLIC_NOTICE, crew)
    return Target(
        reverse("reviews:publish_notice"),
        {"applications": [application.pk]},
        lambda: PublicNoticeItem.objects.filter(application=application).count(),
        1,
    )


def _close(world, crew, persona) -> Target:
    application = _at(State.PUBLIC_NOTICE, crew)
    publish(application, crew.registrar, over=True)
    return Target(
        reverse("reviews:close_notices"), {}, _state_of(application), State.GOVERNMENT_APPROVAL
    )


def _approve(world, crew, persona) -> Target:
    application = _at(State.GOVERNMENT_APPROVAL, crew)
    return Target(
        reverse("reviews:record_approval"),
        {
            "applications": [application.pk],
            "document_number": "衡政函〔2026〕901号",
            "document_date": timezone.localdate().isoformat(),
        },
        _state_of(application),
        State.APPROVED,
    )


def _decide_claim(world, crew, persona) -> Target:
    from applications.models import EnterpriseClaim
    from applications.tests.factories import register

    claim = register(make_user(Role.APPLICANT))
    return Target(
        reverse("reviews:verification_detail", args=[claim.pk]),
        {"decision": "verify"},
        lambda: EnterpriseClaim.objects.values_list("status", flat=True).get(pk=claim.pk),
        EnterpriseClaim.Status.VERIFIED,
    )


def _request_dossier(world, crew, persona) -> Target:
    from reviews.models import DossierJob

    application = _at(State.COMMERCE_REVIEW, crew)
    return Target(
        reverse("reviews:dossiers"),
        {"scope": DossierJob.Scope.APPLICATION, "reference": application.reference},
        lambda: list(
            DossierJob.objects.filter(application=application).values_list(
                "requested_by__username", flat=True
            )
        ),
        [world["users"][persona].username] if persona else [],
    )


def _object(world, crew, persona) -> Target:
    application = _at(State.PUBLIC_NOTICE, crew)
    publish(application, crew.registrar)
    item = PublicNoticeItem.objects.get(application=application)
    user = world["users"][persona] if persona else None
    return Target(
        reverse("reviews:lodge_objection", args=[item.pk]),
        {"real_name": "赵六", "contact": "13800000001", "text": "出口额存疑"},
        lambda: Objection.objects.filter(item=item, author=user).count(),
        1,
    )


POSTS = {
    "take": _action("take", State.SUBMITTED, State.COMMERCE_REVIEW),
    "assign": _assign,
    "save_facts": _save_facts,
    "request_coreview": _request_coreview,
    "return": _action(
        "return",
        State.COMMERCE_REVIEW,
        State.RETURNED,
        fields_to_reopen=["cbec_export_volume_usd"],
        message="请补充报关单",
        working_days=10,
    ),
    "reject": _reject,
    "recommend": _action(
        "recommend", State.COMMERCE_REVIEW, State.FINANCE_REVIEW, amount="100000.00"
    ),
    "return_to_commerce": _action(
        "return_to_commerce", State.FINANCE_REVIEW, State.COMMERCE_REVIEW, message="请复核金额"
    ),
    "commit": _commit,
    "answer_coreview": _answer_coreview,
    "resolve_objection": _resolve_objection,
    "publish_notice": _publish,
    "close_notices": _close,
    "record_approval": _approve,
    "verification_detail": _decide_claim,
    "dossiers": _request_dossier,
    "lodge_objection": _object,
    **STATISTICS_POSTS,
}
