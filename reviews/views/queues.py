"""The staff landing page and the work queues of each stage (filters, sorting, counts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import REVIEW_ROLES, Role, has_role, roles_of
from hengyang_cbec.i18n import english_active
from policies.models import Measure, Place
from policies.services import policy_years

from ..filters import UNDER_REVIEW, QueueFilter
from ..models import (
    Assignment,
    Award,
    CoReviewRequest,
    Entitlement,
    Objection,
    PublicNoticeItem,
    Stage,
)

COMMERCE = Role.COMMERCE_REVIEWER
FINANCE = Role.FINANCE_REVIEWER
REGISTRAR = Role.APPROVAL_REGISTRAR


@role_required(*REVIEW_ROLES)
def workspace(request: HttpRequest) -> HttpResponse:
    """The staff landing page: the roles this account holds and the queues they open."""
    held = roles_of(request.user)
    roles = [role for role in Role if role.value in held]
    return render(request, "reviews/workspace.html", {"roles": roles})


# --- Queues ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tab:
    key: str
    label: Any
    condition: Q


@dataclass(frozen=True)
class Queue:
    key: str
    title: Any
    roles: tuple[Role, ...]
    stage: Stage
    tabs: tuple[Tab, ...]


_OPEN_OBJECTION = Exists(
    Objection.objects.filter(application=OuterRef("pk"), status=Objection.Status.OPEN)
)
_LISTED = Exists(
    PublicNoticeItem.objects.filter(
        application=OuterRef("pk"), status=PublicNoticeItem.Status.LISTED
    )
)

QUEUES = {
    "commerce": Queue(
        "commerce",
        gettext_lazy("Commerce review queue"),
        (COMMERCE, Role.AUDITOR),
        Stage.COMMERCE,
        (
            Tab("submitted", gettext_lazy("Submitted"), Q(state=State.SUBMITTED)),
            Tab(
                "resubmitted",
                gettext_lazy("Resubmitted"),
                Q(state=State.SUBMITTED, resubmission_count__gt=0),
            ),
            Tab("in_review", gettext_lazy("In review"), Q(state=State.COMMERCE_REVIEW)),
            Tab(
                "objections",
                gettext_lazy("Objections to resolve"),
                Q(state=State.PUBLIC_NOTICE, has_open_objection=True),
            ),
        ),
    ),
    "finance": Queue(
        "finance",
        gettext_lazy("Finance review queue"),
        (FINANCE, Role.AUDITOR),
        Stage.FINANCE,
        (
            Tab(
                "finance_review", gettext_lazy("Waiting for finance"), Q(state=State.FINANCE_REVIEW)
            ),
            Tab(
                "committed",
                gettext_lazy("Committed, awaiting approval"),
                Q(state__in=[State.PUBLIC_NOTICE, State.GOVERNMENT_APPROVAL]),
            ),
        ),
    ),
    "registrar": Queue(
        "registrar",
        gettext_lazy("Public notice and approval"),
        (REGISTRAR, Role.AUDITOR),
        Stage.REGISTRAR,
        (
            Tab(
                "to_publish",
                gettext_lazy("To publish"),
                Q(state=State.PUBLIC_NOTICE, is_listed=False),
            ),
            Tab(
                "on_notice", gettext_lazy("On notice"), Q(state=State.PUBLIC_NOTICE, is_listed=True)
            ),
            Tab(
                "to_approve",
                gettext_lazy("Awaiting government approval"),
                Q(state=State.GOVERNMENT_APPROVAL),
            ),
            Tab("approved", gettext_lazy("Approved"), Q(state=State.APPROVED)),
        ),
    ),
}


def _tab_filter(tab: Tab) -> Q:
    """The tab's condition on plain columns; flags computed by subqueries become Exists()."""
    condition = Q()
    for child in tab.condition.children:
        name, value = child
        if name == "has_open_objection":
            condition &= _OPEN_OBJECTION if value else ~_OPEN_OBJECTION
        elif name == "is_listed":
            condition &= _LISTED if value else ~_LISTED
        else:
            condition &= Q(**{name: value})
    return condition


# The applications a flag of a tab holds for, from the flag's own (small) table.
_FLAGGED = {
    "has_open_objection": lambda: Objection.objects.filter(status=Objection.Status.OPEN),
    "is_listed": lambda: PublicNoticeItem.objects.filter(status=PublicNoticeItem.Status.LISTED),
}


def queue_counts(queue: Queue) -> dict[str, int]:
    """Every tab's count: one GROUP BY state over the state index for the tabs on states alone,
    and a small count for each tab that needs more (resubmitted: a partial index; an open
    objection or a listing: from those tables), so no per-row subquery runs over the queue."""
    tab_states: dict[str, list[str]] = {}
    for tab in queue.tabs:
        tab_states[tab.key] = [
            state
            for name, value in tab.condition.children
            if name in {"state", "state__in"}
            for state in ([value] if name == "state" else value)
        ]
    all_states = sorted({state for states in tab_states.values() for state in states})
    by_state = dict(
        Application.objects.filter(state__in=all_states)
        .order_by()
        .values_list("state")
        .annotate(n=Count("*"))  # COUNT(*): an index-only scan of the state index
    )
    counts = {}
    for tab in queue.tabs:
        states = tab_states[tab.key]
        in_states = sum(by_state.get(state, 0) for state in states)
        rest = [(n, v) for n, v in tab.condition.children if n not in {"state", "state__in"}]
        if not rest:
            counts[tab.key] = in_states
            continue
        columns = {n: v for n, v in rest if n not in _FLAGGED}
        flags = [(n, v) for n, v in rest if n in _FLAGGED]  # a tab has at most one flag
        rows = Application.objects.filter(state__in=states, **columns).order_by()
        base = rows.count() if columns else in_states
        if not flags:
            counts[tab.key] = base
            continue
        (name, wanted), *_more = flags
        flagged = rows.filter(pk__in=_FLAGGED[name]().values("application_id")).count()
        counts[tab.key] = flagged if wanted else base - flagged
    return counts


def queue_page_rows(queue: Queue, pks: list[int]) -> list[Application]:
    """The rows of one page, annotated for the table (subqueries run for these rows only)."""
    holder = Assignment.objects.filter(application=OuterRef("pk"), stage=queue.stage)
    award = Award.objects.filter(application=OuterRef("pk")).exclude(status="cancelled")
    rows = (
        Application.objects.filter(pk__in=pks)
        .annotate(
            has_open_objection=_OPEN_OBJECTION,
            assignee_name=Subquery(holder.values("assignee__username")[:1]),
            assignee_full_name=Subquery(holder.values("assignee__full_name")[:1]),
            notice_ends_at=Subquery(
                PublicNoticeItem.objects.filter(
                    application=OuterRef("pk"), status=PublicNoticeItem.Status.LISTED
                ).values("batch__ends_at")[:1]
            ),
            award_cny=Subquery(award.values("amount_cny")[:1]),
        )
        .select_related("enterprise", "enterprise__district", "measure")
        .only(
            "pk",
            "reference",
            "state",
            "year",
            "version",
            "estimate_cny",
            "submitted_at",
            "resubmission_count",
            "enterprise__name",
            "enterprise__uscc",
            "enterprise__district__name_zh",
            "enterprise__district__name_en",
            "measure__code",
        )
    )
    by_pk = {row.pk: row for row in rows}
    return [by_pk[pk] for pk in pks if pk in by_pk]


_ASSIGNABLE = UNDER_REVIEW


def _queue_page(request: HttpRequest, queue: Queue) -> HttpResponse:
    tab = next((t for t in queue.tabs if t.key == request.GET.get("tab")), queue.tabs[0])
    counts = queue_counts(queue)
    queue_filter = QueueFilter(
        request.GET,
        Application.objects.filter(_tab_filter(tab)),
        stage=queue.stage,
        request=request,
    )
    rows = queue_filter.qs.values_list("pk", flat=True)
    sort = queue_filter.sort_key
    filters = queue_filter.active
    params = request.GET
    now = timezone.now()
    overdue_days = settings.REVIEW_OVERDUE_DAYS
    paginator = Paginator(rows, settings.REVIEW_QUEUE_PAGE_SIZE)
    page = paginator.get_page(params.get("page"))
    items = queue_page_rows(queue, list(page.object_list))
    english = english_active()
    stage_role = {Stage.COMMERCE: COMMERCE, Stage.FINANCE: FINANCE, Stage.REGISTRAR: REGISTRAR}[
        queue.stage
    ]
    can_act = has_role(request.user, stage_role)
    row_actions = can_act and queue.key != "registrar"
    state_labels = dict(State.choices)
    proactive = set(
        Entitlement.objects.filter(application_id__in=[item.pk for item in items]).values_list(
            "application_id", flat=True
        )
    )
    for item in items:
        item.proactive = item.pk in proactive
        # A 免申即享 application carries a shorter target time.
        target_days = settings.PROACTIVE_REVIEW_TARGET_DAYS if item.proactive else overdue_days
        item.age_days = (now - item.submitted_at).days if item.submitted_at else None
        # Overdue is the bureau's own delay: never once on notice, approved or later.
        item.overdue = (
            item.state in UNDER_REVIEW and item.age_days is not None and item.age_days > target_days
        )
        item.assignee_name = item.assignee_full_name or item.assignee_name
        amount = item.award_cny if item.award_cny is not None else item.estimate_cny
        item.amount_text = f"{amount:,.2f}" if amount is not None else "—"
        district = item.enterprise.district
        item.district_name = district.name_en if english else district.name_zh
        item.state_label = state_labels[item.state]
        item.can_take = row_actions and item.state == State.SUBMITTED
        item.can_assign = row_actions and item.state in _ASSIGNABLE
    assignees = list(
        User.objects.filter(groups__name=stage_role.value, is_active=True)
        .order_by("username")
        .only("pk", "username", "full_name")
    )
    context = {
        "queue": queue,
        "tab": tab,
        "tabs": [(t, counts[t.key]) for t in queue.tabs],
        "page": page,
        "items": items,
        "sort": sort,
        "filters": filters,
        "measures": Measure.objects.order_by("position").only("code"),
        "districts": Place.objects.order_by("position").only("code", "name_zh", "name_en"),
        "states": State.choices,
        "years": policy_years(),
        "assignees": assignees,
        "can_act": can_act,
        "row_actions": row_actions,
        "batch": queue.key == "registrar"
        and has_role(request.user, REGISTRAR)
        and tab.key in {"to_publish", "to_approve"},
        "english": english,
        "overdue_days": overdue_days,
        "proactive_days": settings.PROACTIVE_REVIEW_TARGET_DAYS,
        "detail_prefix": reverse("reviews:review_detail", args=[0])[:-2],
    }
    return render(request, "reviews/queue.html", context)


@role_required(COMMERCE, Role.AUDITOR)
def commerce_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, QUEUES["commerce"])


@role_required(FINANCE, Role.AUDITOR)
def finance_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, QUEUES["finance"])


@role_required(REGISTRAR, Role.AUDITOR)
def registrar_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request, QUEUES["registrar"])


@role_required(Role.CO_REVIEWER)
def coreview_queue(request: HttpRequest) -> HttpResponse:
    """Only what is routed to the co-reviewer's own unit."""
    status = request.GET.get("status", CoReviewRequest.Status.OPEN)
    if status not in CoReviewRequest.Status.values:
        status = CoReviewRequest.Status.OPEN
    rows = (
        CoReviewRequest.objects.filter(unit=request.user.unit or "-")
        .select_related("application", "application__enterprise", "application__measure")
        .order_by("requested_at")
    )
    counts = rows.aggregate(
        open=Count("pk", filter=Q(status="open")), answered=Count("pk", filter=Q(status="answered"))
    )
    page = Paginator(rows.filter(status=status), settings.REVIEW_QUEUE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reviews/coreview_queue.html",
        {"page": page, "status": status, "counts": counts, "english": english_active()},
    )
