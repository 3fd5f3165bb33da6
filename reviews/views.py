"""The bureau's pages: queues, the review page, decisions, budgets, public notices, audit.

Views are thin: they check the role (403 without it, login page when anonymous), fetch objects
through reviews.permissions (404 for what the user may not see), and call one service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from applications.models import Application
from applications.uploads import content_disposition
from applications.workflow import State, TransitionRefused, allowed_actions
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import REVIEW_ROLES, Role, has_role, roles_of
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import client_ip, verify_chain
from hengyang_cbec.i18n import english_active
from policies.forms import FactsForm
from policies.models import Measure, Place
from policies.services import current_catalogue

from . import services
from .forms import (
    ApprovalForm,
    AssignForm,
    BatchForm,
    CommitForm,
    CoReviewRequestForm,
    ObjectionForm,
    OpinionForm,
    RecommendForm,
    RejectForm,
    ResolveObjectionForm,
    ReturnForm,
    ReturnToCommerceForm,
)
from .models import (
    Assignment,
    Award,
    BudgetAllocation,
    CoReviewRequest,
    Objection,
    PublicNoticeItem,
    Stage,
)
from .permissions import (
    BUDGET_READERS,
    READERS,
    application_for_staff,
    coreview_request_for,
    evidence_for_staff,
    objection_for_staff,
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
SORTS = {
    "age": ("submitted_at", "pk"),
    "-age": ("-submitted_at", "-pk"),
    "enterprise": ("enterprise__name", "pk"),
    "measure": ("measure__position", "submitted_at"),
    "amount": ("-estimate_cny", "pk"),
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


def queue_counts(queue: Queue) -> dict[str, int]:
    """Every tab's count in one query over the queue's states only."""
    states = set()
    for tab in queue.tabs:
        for name, value in tab.condition.children:
            if name == "state":
                states.add(value)
            elif name == "state__in":
                states.update(value)
    rows = Application.objects.filter(state__in=states)
    return rows.aggregate(**{t.key: Count("pk", filter=_tab_filter(t)) for t in queue.tabs})


def queue_page_rows(queue: Queue, pks: list[int]) -> list[Application]:
    """The rows of one page, annotated for the table (subqueries run for these rows only)."""
    holder = Assignment.objects.filter(application=OuterRef("pk"), stage=queue.stage)
    award = Award.objects.filter(application=OuterRef("pk")).exclude(status="cancelled")
    rows = (
        Application.objects.filter(pk__in=pks)
        .annotate(
            has_open_objection=_OPEN_OBJECTION,
            assignee_name=Subquery(holder.values("assignee__username")[:1]),
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
            "enterprise__district__name_zh",
            "enterprise__district__name_en",
            "measure__code",
        )
    )
    by_pk = {row.pk: row for row in rows}
    return [by_pk[pk] for pk in pks if pk in by_pk]


_ASSIGNABLE = frozenset({State.SUBMITTED, State.COMMERCE_REVIEW, State.FINANCE_REVIEW})


def _queue_page(request: HttpRequest, queue: Queue) -> HttpResponse:
    tab = next((t for t in queue.tabs if t.key == request.GET.get("tab")), queue.tabs[0])
    counts = queue_counts(queue)
    rows = Application.objects.filter(_tab_filter(tab))
    params = request.GET
    filters = {}
    if params.get("measure"):
        rows = rows.filter(measure__code=params["measure"])
        filters["measure"] = params["measure"]
    if params.get("district"):
        rows = rows.filter(enterprise__district__code=params["district"])
        filters["district"] = params["district"]
    if params.get("year", "").isdigit():
        rows = rows.filter(year=int(params["year"]))
        filters["year"] = params["year"]
    if params.get("state") in State.values:
        rows = rows.filter(state=params["state"])
        filters["state"] = params["state"]
    assignee = params.get("assignee", "")
    held = Assignment.objects.filter(application=OuterRef("pk"), stage=queue.stage)
    if assignee == "me":
        rows = rows.filter(Exists(held.filter(assignee_id=request.user.pk)))
    elif assignee == "none":
        rows = rows.filter(~Exists(held))
    elif assignee.isdigit():
        rows = rows.filter(Exists(held.filter(assignee_id=int(assignee))))
    if assignee:
        filters["assignee"] = assignee
    now = timezone.now()
    overdue_days = settings.REVIEW_OVERDUE_DAYS
    age = params.get("age", "")
    if age == "overdue":
        rows = rows.filter(submitted_at__lt=now - timedelta(days=overdue_days))
    elif age.isdigit():
        rows = rows.filter(submitted_at__lt=now - timedelta(days=int(age)))
    if age:
        filters["age"] = age
    sort = params.get("sort") if params.get("sort") in SORTS else "age"
    rows = rows.order_by(*SORTS[sort]).values_list("pk", flat=True)
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
    for item in items:
        item.age_days = (now - item.submitted_at).days if item.submitted_at else None
        item.overdue = item.age_days is not None and item.age_days > overdue_days
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
        "years": range(2025, timezone.localdate().year + 2),
        "assignees": assignees,
        "can_act": can_act,
        "row_actions": row_actions,
        "batch": queue.key == "registrar"
        and has_role(request.user, REGISTRAR)
        and tab.key in {"to_publish", "to_approve"},
        "english": english,
        "overdue_days": overdue_days,
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


# --- The review page ------------------------------------------------------------------------------


def _fact_rows(application: Application, verified: dict, english: bool) -> list[dict]:
    catalogue = current_catalogue()
    measure = catalogue.measures[application.measure.code]
    rows = []
    for fact, _required in measure.fact_defs:
        rows.append(
            {
                "name": fact.name,
                "label": fact.label_en if english else fact.label_zh,
                "scope": fact.scope,
                "declared": application.declared_facts.get(fact.name),
                "verified": verified.get(fact.name),
                "changed": application.declared_facts.get(fact.name) != verified.get(fact.name),
            }
        )
    return rows


def _facts_form(application: Application, verified: dict, data=None) -> FactsForm:
    form = FactsForm(
        data if data is not None else verified,
        catalogue=current_catalogue(),
        measure_code=application.measure.code,
        include_general=False,
        prefix="facts",
    )
    if "year" in form.fields:
        form.fields["year"].disabled = True
    return form


@role_required(*READERS, Role.CO_REVIEWER)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    user = request.user
    english = english_active()
    catalogue = current_catalogue()
    verified = services.current_verified_facts(application)
    priors = services.prior_awards(application)
    preview = services.preview_assessment(application, verified=verified, priors=priors)
    result = preview["result"] if preview else None
    roles = roles_of(user)
    actions = {a.value for a in allowed_actions(application.state, set(roles))}
    is_coreviewer_only = not has_role(user, *READERS)
    version = {"version": application.version}
    units = catalogue.responsible_units
    unit_choices = [
        (code, units.get(code, {}).get("name_en" if english else "name_zh", code))
        for code in application.measure.responsible_units
        if code != "commerce_bureau"
    ]
    fact_choices = [
        (fact.name, fact.label_en if english else fact.label_zh)
        for fact, _required in catalogue.measures[application.measure.code].fact_defs
        if fact.scope != "general"
    ]
    doc_types = catalogue.evidence_types
    document_choices = [
        (code, doc_types.get(code, {}).get("label_en" if english else "label_zh", code))
        for code in application.measure.evidence_types
    ]
    requests_qs = application.coreview_requests.select_related("opinion", "opinion__author")
    if is_coreviewer_only:
        requests_qs = requests_qs.filter(unit=user.unit)
    award = (
        Award.objects.filter(application=application)
        .exclude(status=Award.Status.CANCELLED)
        .select_related("fund_source", "allocation", "approval_batch", "assessment")
        .first()
    )
    allocations = BudgetAllocation.objects.select_related("fund_source", "measure").filter(
        Q(measure__isnull=True) | Q(measure=application.measure)
    )
    stage_role = {
        State.SUBMITTED: COMMERCE,
        State.COMMERCE_REVIEW: COMMERCE,
        State.FINANCE_REVIEW: FINANCE,
    }.get(State(application.state))
    assignees = (
        User.objects.filter(groups__name=stage_role.value, is_active=True).order_by("username")
        if stage_role
        else User.objects.none()
    )
    context = {
        "application": application,
        "enterprise": application.enterprise,
        "english": english,
        "fact_rows": _fact_rows(application, verified, english),
        "facts_form": _facts_form(application, verified)
        if application.state == State.COMMERCE_REVIEW and has_role(user, COMMERCE)
        else None,
        "evidence": list(application.evidence.all()),
        "doc_labels": {
            code: item.get("label_en" if english else "label_zh", code)
            for code, item in doc_types.items()
        },
        "result": (preview["en"] if english else preview["zh"]) if preview else None,
        "result_obj": result,
        "assessments": application.assessments.order_by("-created_at", "-id")[:5],
        "warnings": (
            services.review_warnings(application, result, priors=priors)
            if not is_coreviewer_only
            else []
        ),
        "requests": list(requests_qs),
        "unit_names": {
            code: item.get("name_en" if english else "name_zh", code)
            for code, item in units.items()
        },
        "objections": list(application.objections.select_related("author"))
        if not is_coreviewer_only
        else [],
        "award": award,
        "assignments": list(application.assignments.select_related("assignee")),
        "decisions": list(application.review_decisions.select_related("actor")),
        "actions": actions,
        "is_coreviewer_only": is_coreviewer_only,
        "is_commerce": has_role(user, COMMERCE),
        "take_form": AssignForm(initial=version, assignees=assignees),
        "assign_form": AssignForm(initial=version, assignees=assignees),
        "can_assign": stage_role is not None and has_role(user, stage_role),
        "coreview_form": CoReviewRequestForm(initial=version, unit_choices=unit_choices),
        "return_form": ReturnForm(
            initial={**version, "working_days": settings.RETURN_DEADLINE_WORKING_DAYS},
            fact_choices=fact_choices,
            document_choices=document_choices,
        ),
        "reject_form": RejectForm(initial=version),
        "recommend_form": RecommendForm(
            initial={**version, "amount": result.amount_cny if result else None}
        ),
        "return_to_commerce_form": ReturnToCommerceForm(initial=version),
        "commit_form": CommitForm(initial=version, allocations=allocations),
        "resolve_form": ResolveObjectionForm(initial=version),
        "opinion_form": OpinionForm(),
        "timeline": AuditEvent.objects.filter(application_id=application.pk).order_by("id"),
    }
    return render(request, "reviews/review_detail.html", context)


def _done(request: HttpRequest, application_pk: int, call, success: str) -> HttpResponse:
    """Run a service call; show its refusal (stale page, four eyes, budget...) as an error."""
    try:
        call()
    except (services.ReviewError, TransitionRefused) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("reviews:review_detail", pk=application_pk)


def _invalid(request: HttpRequest, pk: int, form) -> HttpResponse:
    problems = "; ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {' '.join(errors)}".strip(": ")
        for name, errors in form.errors.items()
    )
    messages.error(request, _("Please correct the form: %(problems)s") % {"problems": problems})
    return redirect("reviews:review_detail", pk=pk)


@role_required(COMMERCE)
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    version = request.POST.get("version", "")
    if not version.isdigit():
        return _invalid(request, pk, AssignForm(request.POST))
    return _done(
        request,
        pk,
        lambda: services.application_take(
            user=request.user,
            application=application,
            version=int(version),
            ip=client_ip(request),
        ),
        _("You took the application for review."),
    )


@role_required(COMMERCE, FINANCE, REGISTRAR)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = AssignForm(request.POST, assignees=User.objects.filter(is_active=True))
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.application_assign(
            user=request.user,
            application=application,
            assignee=form.cleaned_data["assignee"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The application was assigned."),
    )


@role_required(COMMERCE)
@require_POST
def save_facts(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    version = request.POST.get("version", "")
    verified = services.current_verified_facts(application)
    form = _facts_form(application, verified, data=request.POST)
    if not version.isdigit() or not form.is_valid():
        return _invalid(request, pk, form)
    facts = form.engine_facts()
    facts.pop("year", None)
    return _done(
        request,
        pk,
        lambda: services.review_save_facts(
            user=request.user,
            application=application,
            facts=facts,
            version=int(version),
            ip=client_ip(request),
        ),
        _("The verified figures were saved and the cap recomputed."),
    )


@role_required(COMMERCE)
@require_POST
def request_coreview(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = CoReviewRequestForm(
        request.POST,
        unit_choices=[(u, u) for u in application.measure.responsible_units],
    )
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.coreview_request(
            user=request.user,
            application=application,
            units=form.cleaned_data["units"],
            message=form.cleaned_data["message"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The opinions were requested."),
    )


@role_required(COMMERCE)
@require_POST
def return_for_correction(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    catalogue = current_catalogue()
    measure = catalogue.measures[application.measure.code]
    form = ReturnForm(
        request.POST,
        fact_choices=[(f.name, f.name) for f, _required in measure.fact_defs],
        document_choices=[(c, c) for c in measure.evidence_types],
    )
    if not form.is_valid():
        return _invalid(request, pk, form)
    data = form.cleaned_data
    return _done(
        request,
        pk,
        lambda: services.application_return(
            user=request.user,
            application=application,
            fields=data["fields_to_reopen"],
            documents=data["documents_to_reopen"],
            message=data["message"],
            working_days=data["working_days"],
            version=data["version"],
            ip=client_ip(request),
        ),
        _("The application was returned for correction."),
    )


@role_required(COMMERCE, FINANCE)
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.application_reject(
            user=request.user,
            application=application,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The application was rejected."),
    )


@role_required(COMMERCE)
@require_POST
def recommend(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = RecommendForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.application_recommend(
            user=request.user,
            application=application,
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The application was approved at commerce review and sent to finance."),
    )


@role_required(FINANCE)
@require_POST
def return_to_commerce(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = ReturnToCommerceForm(request.POST)
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.application_return_to_commerce(
            user=request.user,
            application=application,
            message=form.cleaned_data["message"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The application was returned to commerce review."),
    )


@role_required(FINANCE)
@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    form = CommitForm(request.POST, allocations=BudgetAllocation.objects.all())
    if not form.is_valid():
        return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: services.application_commit(
            user=request.user,
            application=application,
            allocation=form.cleaned_data["allocation"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The amount was committed to the budget; the application goes to public notice."),
    )


@role_required(COMMERCE)
@require_POST
def resolve_objection(request: HttpRequest, pk: int) -> HttpResponse:
    objection = objection_for_staff(request.user, pk)
    form = ResolveObjectionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, objection.application_id, form)
    return _done(
        request,
        objection.application_id,
        lambda: services.objection_resolve(
            user=request.user,
            objection=objection,
            upheld=form.cleaned_data["outcome"] == "upheld",
            resolution=form.cleaned_data["resolution"],
            version=form.cleaned_data["version"],
            ip=client_ip(request),
        ),
        _("The objection was resolved."),
    )


@role_required(*READERS)
def objection_file(request: HttpRequest, pk: int) -> HttpResponse:
    objection = objection_for_staff(request.user, pk)
    if not objection.file:
        raise Http404
    return _file_response(objection.file, objection.file_name, objection.file_type, inline=False)


@role_required(Role.CO_REVIEWER)
@require_POST
def answer_coreview(request: HttpRequest, pk: int) -> HttpResponse:
    coreview = coreview_request_for(request.user, pk)
    form = OpinionForm(request.POST)
    if not form.is_valid():
        return _invalid(request, coreview.application_id, form)
    return _done(
        request,
        coreview.application_id,
        lambda: services.coreview_answer(
            user=request.user,
            request=coreview,
            decision=form.cleaned_data["decision"],
            text=form.cleaned_data["text"],
            ip=client_ip(request),
        ),
        _("Your opinion was recorded."),
    )


# --- Evidence -------------------------------------------------------------------------------------


def _file_response(field, name: str, content_type: str, *, inline: bool) -> FileResponse:
    response = FileResponse(
        field.open("rb"), content_type=content_type or "application/octet-stream"
    )
    response["Content-Disposition"] = content_disposition(name or "file", inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(*READERS, Role.CO_REVIEWER)
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = evidence_for_staff(request.user, pk)
    services.record_download(user=request.user, evidence=evidence, ip=client_ip(request))
    return _file_response(
        evidence.file, evidence.original_name, evidence.content_type, inline=False
    )


@role_required(*READERS, Role.CO_REVIEWER)
def evidence_inline(request: HttpRequest, pk: int) -> HttpResponse:
    """Images only, shown in an <img> on the review page (PDFs are downloaded)."""
    evidence = evidence_for_staff(request.user, pk)
    if evidence.kind not in {"jpeg", "png"}:
        raise Http404
    return _file_response(evidence.file, evidence.original_name, evidence.content_type, inline=True)


# --- Registrar -----------------------------------------------------------------------------------


@role_required(REGISTRAR)
@require_POST
def publish_notice(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("applications") if i.isdigit()]
    form = BatchForm(request.POST, ids=ids)
    back = reverse("reviews:registrar_queue") + "?tab=to_publish"
    if not form.is_valid():
        messages.error(request, _("Choose at least one application."))
        return redirect(back)
    try:
        batch = services.notice_publish(
            user=request.user,
            application_ids=form.cleaned_data["applications"],
            ip=client_ip(request),
        )
    except (services.ReviewError, TransitionRefused) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if batch.period_days:
        messages.success(
            request,
            _("Published for public notice until %(end)s.")
            % {"end": timezone.localtime(batch.ends_at).strftime("%Y-%m-%d %H:%M")},
        )
    else:
        messages.success(
            request, _("Public notice is turned off: the applications await government approval.")
        )
    return redirect(back)


@role_required(REGISTRAR)
@require_POST
def close_notices(request: HttpRequest) -> HttpResponse:
    closed = services.close_due_notices(user=request.user)
    messages.success(request, _("%(n)s notices closed.") % {"n": closed})
    return redirect(reverse("reviews:registrar_queue") + "?tab=to_approve")


@role_required(REGISTRAR)
@require_POST
def record_approval(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("applications") if i.isdigit()]
    form = ApprovalForm(request.POST, ids=ids)
    back = reverse("reviews:registrar_queue") + "?tab=to_approve"
    if not form.is_valid():
        messages.error(
            request,
            _("Please correct the form: %(problems)s")
            % {"problems": "; ".join(" ".join(e) for e in form.errors.values())},
        )
        return redirect(back)
    try:
        batch = services.approval_record(
            user=request.user,
            application_ids=form.cleaned_data["applications"],
            document_number=form.cleaned_data["document_number"],
            document_date=form.cleaned_data["document_date"],
            ip=client_ip(request),
        )
    except (services.ReviewError, TransitionRefused) as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        _("Government approval %(number)s recorded for %(n)s applications.")
        % {"number": batch.document_number, "n": len(form.cleaned_data["applications"])},
    )
    return redirect(back)


# --- Budgets, audit -------------------------------------------------------------------------------


@role_required(*BUDGET_READERS)
def budgets(request: HttpRequest) -> HttpResponse:
    year = request.GET.get("year", "")
    fiscal_year = int(year) if year.isdigit() else None
    allocations = BudgetAllocation.objects.select_related("fund_source", "measure")
    if fiscal_year:
        allocations = allocations.filter(fiscal_year=fiscal_year)
    return render(
        request,
        "reviews/budgets.html",
        {
            "summary": services.budget_summary(fiscal_year),
            "allocations": allocations,
            "year": fiscal_year,
            "english": english_active(),
            "can_edit": has_role(request.user, Role.POLICY_ADMINISTRATOR),
        },
    )


@role_required(Role.AUDITOR)
def audit_log(request: HttpRequest) -> HttpResponse:
    events = AuditEvent.objects.order_by("-id")
    application = request.GET.get("application", "")
    if application.isdigit():
        events = events.filter(application_id=int(application))
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action[:60])
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/audit.html",
        {
            "page": page,
            # Re-hashing the whole log is a deliberate act, not a cost of every page view.
            "chain": verify_chain() if request.GET.get("verify") == "1" else None,
            "application": application,
            "action": action,
        },
    )


# --- Public notices -------------------------------------------------------------------------------


def public_notices(request: HttpRequest) -> HttpResponse:
    """No login: enterprise name, measure and amount only, with the end of the period."""
    items = services.open_notice_items()
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/public_notices.html",
        {"page": page, "english": english_active(), "form": ObjectionForm()},
    )


@login_required
def lodge_objection(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(services.open_notice_items(), pk=pk)
    if request.method == "POST":
        form = ObjectionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.objection_lodge(
                    user=request.user,
                    item=item.pk,
                    real_name=form.cleaned_data["real_name"],
                    contact=form.cleaned_data["contact"],
                    text=form.cleaned_data["text"],
                    upload=form.cleaned_data.get("file"),
                    ip=client_ip(request),
                )
            except services.ReviewError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Your objection was received; the bureau will examine it.")
                )
                return redirect("reviews:public_notices")
    else:
        form = ObjectionForm(initial={"real_name": request.user.full_name})
    return render(
        request,
        "reviews/objection_form.html",
        {"item": item, "form": form, "english": english_active()},
    )
