"""The review page and the decisions taken on it: take, assign, verify, co-review, return,
reject, recommend, commit, and the registrar's recording of the government's approval; the
evidence downloads.

Views are thin: they check the role (403 without it, login page when anonymous), fetch objects
through reviews.permissions (404 for what the user may not see), and call one service.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from applications.models import Application
from applications.services import application_catalogue, changes_since_return, reference_for
from applications.workflow import State, allowed_actions
from hengyang_cbec import formatting
from hengyang_cbec.accounts.models import User
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role, has_role, roles_of
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import file_download
from hengyang_cbec.errors import PortalError
from hengyang_cbec.i18n import english_active
from hengyang_cbec.params import id_list, optional_int
from policies.forms import FactsForm

from ..forms import (
    ApprovalForm,
    AssignForm,
    CommitForm,
    CoReviewRequestForm,
    OpinionForm,
    RecommendForm,
    RejectForm,
    ResolveObjectionForm,
    ReturnForm,
    ReturnToCommerceForm,
)
from ..models import Award, BudgetAllocation, Entitlement
from ..permissions import READERS, application_for_staff, coreview_request_for, evidence_for_staff
from ..services.approval import approval_record
from ..services.assessment import (
    current_verified_facts,
    preview_assessment,
    prior_awards,
    review_warnings,
)
from ..services.review import (
    application_assign,
    application_commit,
    application_recommend,
    application_reject,
    application_return,
    application_return_to_commerce,
    application_take,
    coreview_answer,
    coreview_request,
    record_download,
    review_save_facts,
)

COMMERCE = Role.COMMERCE_REVIEWER
FINANCE = Role.FINANCE_REVIEWER
REGISTRAR = Role.APPROVAL_REGISTRAR


# --- The review page ------------------------------------------------------------------------------


def _fact_rows(application: Application, verified: dict, english: bool) -> list[dict]:
    catalogue = application_catalogue(application)
    measure = catalogue.measures[application.measure.code]
    rows = []
    for fact, _required in measure.fact_defs:
        declared = application.declared_facts.get(fact.name)
        checked = verified.get(fact.name)
        rows.append(
            {
                "name": fact.name,
                "label": fact.label_en if english else fact.label_zh,
                "scope": fact.scope,
                "declared": declared,
                "verified": checked,
                # Compared as read: 600000 and 600000.00 are the same figure.
                "changed": formatting.fact_value(fact.name, declared)
                != formatting.fact_value(fact.name, checked),
                # Taken from official statistics: verified at the source (免申即享).
                "source": (application.sourced_facts or {}).get(fact.name),
            }
        )
    return rows


def _facts_form(application: Application, verified: dict, data=None) -> FactsForm:
    """The verified figures form: unbound (filled with the current figures, no errors before
    anyone typed) for the page, bound to the POST (prefixed names) when saving. The year is the
    application's and cannot be changed here: a disabled field takes its initial value."""
    initial = {**verified, "year": application.year}
    form = FactsForm(
        data,
        initial=initial,
        catalogue=application_catalogue(application),
        measure_code=application.measure.code,
        include_general=False,
        prefix="facts",
    )
    if "year" in form.fields:
        form.fields["year"].disabled = True
    # Figures verified at their source are not verified again (a doubt is flagged instead).
    for name in application.sourced_facts or {}:
        if name in form.fields:
            form.fields[name].disabled = True
    return form


@role_required(*READERS, Role.CO_REVIEWER)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    user = request.user
    english = english_active()
    catalogue = application_catalogue(application)
    verified = current_verified_facts(application)
    priors = prior_awards(application)
    preview = preview_assessment(application, verified=verified, priors=priors)
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
        "entitlement": Entitlement.objects.filter(application=application)
        .select_related("disputed_by")
        .first(),
        "changes": changes_since_return(application) if application.resubmission_count else None,
        "fact_labels": {
            fact.name: fact.label_en if english else fact.label_zh
            for fact, _required in catalogue.measures[application.measure.code].fact_defs
        },
        "facts_form": _facts_form(application, verified)
        if application.state == State.COMMERCE_REVIEW and has_role(user, COMMERCE)
        else None,
        "evidence": list(application.evidence.all()),
        "doc_labels": {
            code: item.get("label_en" if english else "label_zh", code)
            for code, item in doc_types.items()
        },
        "result": (preview["en"] if english else preview["zh"]) if result else None,
        "assessment_error": preview["error_en" if english else "error_zh"] if not result else "",
        "result_obj": result,
        "assessments": application.assessments.order_by("-created_at", "-id")[:5],
        # The latest stored assessment when a reviewer explicitly assessed on another date or
        # verified the M12 rate: its trace states the reason.
        "reasoned": application.assessments.exclude(reason="").order_by("-created_at", "-id")[:1],
        "reference_date": reference_for(application)[0],
        "can_dispute": has_role(user, COMMERCE) and application.state == State.COMMERCE_REVIEW,
        "warnings": (
            review_warnings(application, result, priors=priors) if not is_coreviewer_only else []
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
        "timeline": AuditEvent.objects.filter(application_id=application.pk)
        .select_related("actor")
        .order_by("id"),
    }
    return render(request, "reviews/review_detail.html", context)


def _done(request: HttpRequest, application_pk: int, call, success: str) -> HttpResponse:
    """Run a service call; show its refusal (stale page, four eyes, budget...) as an error."""
    try:
        call()
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect("reviews:review_detail", pk=application_pk)


def _invalid(request: HttpRequest, pk: int, form) -> HttpResponse:
    colon = formatting.colon()
    problems = "; ".join(
        f"{form.fields[name].label}{colon}{' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    )
    messages.error(request, _("Please correct the form: %(problems)s") % {"problems": problems})
    return redirect("reviews:review_detail", pk=pk)


def _decision_view(roles, build_form, service, success, **fields):
    """A POST handler of the review page: role, form, one service call with the form's fields.

    `build_form(request, application)` makes the bound form; `fields` maps the service's keyword
    arguments to the form's fields (the version and the caller's address are always passed).
    """

    @role_required(*roles)
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        application = application_for_staff(request.user, pk)
        form = build_form(request, application)
        if not form.is_valid():
            return _invalid(request, pk, form)
        data = form.cleaned_data
        return _done(
            request,
            pk,
            lambda: service(
                user=request.user,
                application=application,
                **{argument: data[name] for argument, name in fields.items()},
                version=data["version"],
                ip=client_ip(request),
            ),
            str(success),
        )

    return view


@role_required(COMMERCE)
@require_POST
def take(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    version = request.POST.get("version", "")
    if optional_int(version, minimum=0, maximum=2**31 - 1) is None:
        return _invalid(request, pk, AssignForm(request.POST))
    return _done(
        request,
        pk,
        lambda: application_take(
            user=request.user,
            application=application,
            version=int(version),
            ip=client_ip(request),
        ),
        _("You took the application for review."),
    )


assign = _decision_view(
    (COMMERCE, FINANCE, REGISTRAR),
    lambda request, _application: AssignForm(
        request.POST, assignees=User.objects.filter(is_active=True)
    ),
    application_assign,
    gettext_lazy("The application was assigned."),
    assignee="assignee",
)


@role_required(COMMERCE)
@require_POST
def save_facts(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_for_staff(request.user, pk)
    version = request.POST.get("version", "")
    verified = current_verified_facts(application)
    form = _facts_form(application, verified, data=request.POST)
    if optional_int(version, minimum=0, maximum=2**31 - 1) is None or not form.is_valid():
        return _invalid(request, pk, form)
    facts = form.engine_facts()
    facts.pop("year", None)
    on_date = None
    if request.POST.get("on_date"):
        try:
            on_date = date.fromisoformat(request.POST["on_date"])
        except ValueError:
            form.add_error(None, _("Enter the other reference date as YYYY-MM-DD."))
            return _invalid(request, pk, form)
    return _done(
        request,
        pk,
        lambda: review_save_facts(
            user=request.user,
            application=application,
            facts=facts,
            version=int(version),
            on_date=on_date,
            reason=request.POST.get("reason", "")[:1000],
            ip=client_ip(request),
        ),
        _("The verified figures were saved and the cap recomputed."),
    )


request_coreview = _decision_view(
    (COMMERCE,),
    lambda request, application: CoReviewRequestForm(
        request.POST, unit_choices=[(u, u) for u in application.measure.responsible_units]
    ),
    coreview_request,
    gettext_lazy("The opinions were requested."),
    units="units",
    message="message",
)


def _return_form(request: HttpRequest, application: Application) -> ReturnForm:
    measure = application_catalogue(application).measures[application.measure.code]
    return ReturnForm(
        request.POST,
        fact_choices=[(f.name, f.name) for f, _required in measure.fact_defs],
        document_choices=[(c, c) for c in measure.evidence_types],
    )


return_for_correction = _decision_view(
    (COMMERCE,),
    _return_form,
    application_return,
    gettext_lazy("The application was returned for correction."),
    fields="fields_to_reopen",
    documents="documents_to_reopen",
    message="message",
    working_days="working_days",
)

reject = _decision_view(
    (COMMERCE, FINANCE),
    lambda request, _application: RejectForm(request.POST),
    application_reject,
    gettext_lazy("The application was rejected."),
    reason="reason",
)

recommend = _decision_view(
    (COMMERCE,),
    lambda request, _application: RecommendForm(request.POST),
    application_recommend,
    gettext_lazy("The application was approved at commerce review and sent to finance."),
    amount="amount",
    reason="reason",
)

return_to_commerce = _decision_view(
    (FINANCE,),
    lambda request, _application: ReturnToCommerceForm(request.POST),
    application_return_to_commerce,
    gettext_lazy("The application was returned to commerce review."),
    message="message",
)

commit = _decision_view(
    (FINANCE,),
    lambda request, _application: CommitForm(
        request.POST, allocations=BudgetAllocation.objects.all()
    ),
    application_commit,
    gettext_lazy("The amount was committed to the budget; the application goes to public notice."),
    allocation="allocation",
)


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
        lambda: coreview_answer(
            user=request.user,
            request=coreview,
            decision=form.cleaned_data["decision"],
            text=form.cleaned_data["text"],
            ip=client_ip(request),
        ),
        _("Your opinion was recorded."),
    )


# --- Evidence -------------------------------------------------------------------------------------


@role_required(*READERS, Role.CO_REVIEWER)
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = evidence_for_staff(request.user, pk)
    return file_download(
        evidence.file.open("rb"),
        filename=evidence.original_name,
        content_type=evidence.content_type,
        size=evidence.size,
        audit=lambda: record_download(user=request.user, evidence=evidence, ip=client_ip(request)),
    )


@role_required(*READERS, Role.CO_REVIEWER)
def evidence_inline(request: HttpRequest, pk: int) -> HttpResponse:
    """Images only, shown in an <img> on the review page (PDFs are downloaded)."""
    evidence = evidence_for_staff(request.user, pk)
    if evidence.kind not in {"jpeg", "png"}:
        raise Http404
    return file_download(
        evidence.file.open("rb"),
        filename=evidence.original_name,
        content_type=evidence.content_type,
        size=evidence.size,
        inline=True,
        audit=lambda: record_download(
            user=request.user, evidence=evidence, ip=client_ip(request), inline=True
        ),
    )


@role_required(REGISTRAR)
@require_POST
def record_approval(request: HttpRequest) -> HttpResponse:
    ids = id_list(request.POST.getlist("applications"))
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
        batch = approval_record(
            user=request.user,
            application_ids=form.cleaned_data["applications"],
            document_number=form.cleaned_data["document_number"],
            document_date=form.cleaned_data["document_date"],
            ip=client_ip(request),
        )
    except PortalError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    messages.success(
        request,
        ngettext(
            "Government approval %(number)s recorded for %(n)s application.",
            "Government approval %(number)s recorded for %(n)s applications.",
            len(form.cleaned_data["applications"]),
        )
        % {"number": batch.document_number, "n": len(form.cleaned_data["applications"])},
    )
    return redirect(back)
