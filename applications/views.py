"""The applicant's pages. Views parse, call a service and respond; objects come through helpers
that answer 404 for anything outside the user's own enterprise."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from hengyang_cbec import formatting
from hengyang_cbec.accounts import registration
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import client_ip, record
from hengyang_cbec.downloads import file_download
from hengyang_cbec.errors import PortalError
from hengyang_cbec.i18n import english_active
from hengyang_cbec.notifications.models import Notification
from hengyang_cbec.params import id_param
from policies.engine import Context, precheck
from policies.models import Measure
from policies.services import version_in_force

from . import services
from .entitlements import entitlements_of
from .forms import (
    DeclarationForm,
    EnterpriseForm,
    EvidenceForm,
    JoinForm,
    SensitiveChangeForm,
    SignUpForm,
    StartForm,
    WithdrawForm,
    application_form,
)
from .models import Application, Enterprise, Evidence, Membership
from .services import DuplicateApplication
from .uploads import UploadRejected
from .workflow import (
    APPLICANT,
    EDITABLE_STATES,
    State,
    allowed_actions,
)

applicant_required = role_required(Role.APPLICANT)


# --- Object helpers (404 for anything not the user's) -------------------------------------------


def _membership_or_none(request: HttpRequest) -> Membership | None:
    if not hasattr(request, "_membership"):
        request._membership = services.active_membership(request.user)
    return request._membership


def _enterprise_for(request: HttpRequest) -> Enterprise:
    membership = _membership_or_none(request)
    if membership is None:
        raise Http404("no enterprise")
    return membership.enterprise


def get_application_for_user(request: HttpRequest, pk: int) -> Application:
    membership = _membership_or_none(request)
    if membership is None:
        raise Http404("no enterprise")
    return get_object_or_404(
        Application.objects.select_related("measure", "enterprise"),
        pk=pk,
        enterprise_id=membership.enterprise_id,
    )


def _evidence_for_user(request: HttpRequest, application: Application, pk: int) -> Evidence:
    return get_object_or_404(Evidence, pk=pk, application=application)


# --- Registration -------------------------------------------------------------------------------


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    invited = request.GET.get("uscc", "").strip().upper()
    if invited and len(invited) == 18 and invited.isalnum():
        # An invitation from the bureau (免申即享): the enterprise form starts with this code.
        request.session["invited_uscc"] = invited
    if request.user.is_authenticated:
        return redirect("applications:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        registration.sign_up(
            registration.SignUp(
                username=data["username"],
                full_name=data["full_name"],
                email=data["email"],
                phone=data["phone"],
                password=data["password1"],
                language="en" if english_active() else "zh-hans",
            ),
            base_url=_base_url(request),
            ip=client_ip(request),
        )
        # The same answer whether or not the name or address was taken.
        request.session["signup_email"] = data["email"]
        return redirect("applications:register_done")
    return render(request, "applications/register.html", {"form": form})


@require_safe
def register_done(request: HttpRequest) -> HttpResponse:
    email = request.session.get("signup_email")
    if not email:
        return redirect("applications:register")
    return render(
        request,
        "applications/register_done.html",
        {
            "email": email,
            "mail_in_files": settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"),
        },
    )


@require_POST
def register_resend(request: HttpRequest) -> HttpResponse:
    """Send the link again (rate-limited per address and per e-mail address)."""
    email = request.session.get("signup_email")
    if not email:
        return redirect("applications:register")
    registration.resend_verification(email, base_url=_base_url(request), ip=client_ip(request))
    messages.success(
        request, _("If an account is waiting for this address, the link is sent again.")
    )
    return redirect("applications:register_done")


def verify(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = registration.user_from_link(uidb64, token)
    if user is None:
        return render(request, "applications/verify_failed.html", status=400)
    user = registration.confirm_email(user, ip=client_ip(request))
    request.session.pop("signup_email", None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, _("Your e-mail address is confirmed. Now describe your enterprise."))
    return redirect("applications:dashboard")


# --- Enterprise ---------------------------------------------------------------------------------


@applicant_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = _membership_or_none(request)
    if membership is None:
        pending = Membership.objects.filter(
            user=request.user, status=Membership.Status.PENDING
        ).select_related("enterprise")
        from .enterprises import claims_for

        claims = claims_for(request.user)[:3]
        return render(
            request, "applications/no_enterprise.html", {"pending": pending, "claims": claims}
        )
    enterprise = membership.enterprise
    today = timezone.localdate()
    catalogue = version_in_force(today)
    context = Context(on_date=today, prior_awards=tuple(services.prior_awards_for(enterprise.pk)))
    english = english_active()
    measures = []
    in_force = Measure.objects.filter(policy__code=catalogue.policy_code) if catalogue else []
    for measure in in_force:
        if enterprise.entity_type not in measure.entity_types:
            continue
        result = precheck(catalogue, measure.code, enterprise.general_facts(), context)
        measures.append(
            {
                "measure": measure,
                "eligible": result.eligible,
                "reasons": [r.text(english) for r in result.reasons],
            }
        )
    open_applications = (
        Application.objects.filter(enterprise=enterprise)
        .exclude(state__in=[State.WITHDRAWN, State.LAPSED])
        .select_related("measure")
        .order_by("-updated_at")[:10]
    )
    unread = Notification.objects.filter(user=request.user, read_at__isnull=True).order_by(
        "-created_at"
    )[:5]
    pending_members = (
        Membership.objects.filter(enterprise=enterprise, status=Membership.Status.PENDING).count()
        if membership.role == Membership.Role.ADMINISTRATOR
        else 0
    )
    return render(
        request,
        "applications/dashboard.html",
        {
            "membership": membership,
            "enterprise": enterprise,
            "measures": measures,
            "applications": open_applications,
            "notifications": unread,
            "pending_members": pending_members,
            "entitlements": entitlements_of(enterprise).filter(status="offered"),
            "policy": catalogue,
            "closed_reason": None if catalogue else services.between_versions_message(today),
            "blocker": services.submission_blocker(enterprise),
        },
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def enterprise_join(request: HttpRequest) -> HttpResponse:
    if _membership_or_none(request) is not None:
        return redirect("applications:enterprise")
    form = JoinForm(request.POST or None, initial={"uscc": request.GET.get("uscc", "")[:18]})
    if request.method == "POST" and form.is_valid():
        enterprise = Enterprise.objects.filter(uscc=form.cleaned_data["uscc"]).first()
        if enterprise is None:
            form.add_error("uscc", _("No enterprise with this code is registered yet."))
        else:
            try:
                services.membership_request(
                    user=request.user, enterprise=enterprise, ip=client_ip(request)
                )
            except PortalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("Your request was sent to the enterprise's administrator.")
                )
                return redirect("applications:dashboard")
    return render(request, "applications/enterprise_join.html", {"form": form})


@applicant_required
@require_http_methods(["GET", "POST"])
def enterprise(request: HttpRequest) -> HttpResponse:
    membership = _membership_or_none(request)
    if membership is None:
        return redirect("applications:dashboard")
    enterprise = membership.enterprise
    is_admin = membership.role == Membership.Role.ADMINISTRATOR
    form = EnterpriseForm(request.POST or None, instance=Enterprise.objects.get(pk=enterprise.pk))
    password_form = SensitiveChangeForm(request.POST or None)
    if not is_admin:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST":
        if not is_admin:
            raise PermissionDenied
        if form.is_valid() and password_form.is_valid():
            changed = [
                name
                for name in services.SENSITIVE_FIELDS
                if form.cleaned_data[name] != getattr(enterprise, name)
            ]
            password = password_form.cleaned_data["password"]
            if changed and not request.user.check_password(password):
                password_form.add_error(
                    "password", _("Enter your password to change the bank details or phone.")
                )
            else:
                data = {name: form.cleaned_data[name] for name in services.PROFILE_FIELDS}
                try:
                    services.enterprise_update(
                        user=request.user, enterprise=enterprise, data=data, ip=client_ip(request)
                    )
                except (PortalError, ValidationError) as exc:
                    form.add_error(None, exc)
                else:
                    messages.success(request, _("The profile is saved."))
                    return redirect("applications:enterprise")
    return render(
        request,
        "applications/enterprise_form.html",
        {
            "form": form,
            "password_form": password_form,
            "creating": False,
            "is_admin": is_admin,
            "enterprise": enterprise,
        },
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest) -> HttpResponse:
    membership = _membership_or_none(request)
    if membership is None:
        raise Http404("no enterprise")
    if request.method == "POST":
        target = get_object_or_404(
            Membership,
            pk=id_param(request.POST.get("membership")),
            enterprise=membership.enterprise,
        )
        try:
            services.membership_decide(
                user=request.user,
                membership=target,
                accept=request.POST.get("decision") == "accept",
                ip=client_ip(request),
            )
        except PortalError as exc:
            messages.error(request, str(exc))
        return redirect("applications:members")
    rows = Membership.objects.filter(enterprise=membership.enterprise).select_related("user")
    return render(
        request,
        "applications/members.html",
        {"memberships": rows, "is_admin": membership.role == Membership.Role.ADMINISTRATOR},
    )


# --- Applications -------------------------------------------------------------------------------


@applicant_required
@require_http_methods(["GET", "POST"])
def application_start(request: HttpRequest, code: str) -> HttpResponse:
    enterprise = _enterprise_for(request)
    catalogue = version_in_force(timezone.localdate())
    engine_measure = catalogue.measures.get(code) if catalogue else None
    if engine_measure is None:
        raise Http404("no such measure in the policy version in force")
    measure = Measure.objects.get(policy__code=catalogue.policy_code, code=code)
    form = StartForm(
        request.POST or None,
        years=services.covered_years(),
        scoped=bool(engine_measure.scope_fact),
        initial={"year": timezone.localdate().year},
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_start(
                user=request.user,
                enterprise=enterprise,
                measure_code=code,
                year=form.cleaned_data["year"],
                scope_key=form.cleaned_data.get("scope_key", ""),
                ip=client_ip(request),
            )
        except DuplicateApplication as exc:
            messages.info(request, str(exc))
            return redirect("applications:application_detail", pk=exc.existing.pk)
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("applications:application_edit", pk=application.pk)
    return render(request, "applications/start.html", {"form": form, "measure": measure})


@applicant_required
def application_list(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise_for(request)
    applications = (
        Application.objects.filter(enterprise=enterprise)
        .select_related("measure")
        .order_by("-created_at", "-pk")
    )
    # An enterprise files a few a year; a page of 50 keeps a long history a small page.
    page = Paginator(applications, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/application_list.html",
        {"applications": page.object_list, "page": page},
    )


def step_label(action: str) -> str:
    """A timeline label for an audit action such as "application.submit" or "review.take"."""
    return formatting.event_label(action)


def _timeline(application: Application) -> list[dict]:
    events = AuditEvent.objects.filter(
        application_id=application.pk, visible_to_applicant=True
    ).order_by("id")
    return [
        {
            "action": event.action,
            "label": step_label(event.action),
            "at": event.created_at,
            "message": event.public_message,
            "by_applicant": event.actor_role == APPLICANT,
        }
        for event in events
    ]


@applicant_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    evidence = application.evidence.all()
    actions = allowed_actions(application.state, {APPLICANT})
    english = english_active()
    trace = (
        application.estimate.get("trace_en" if english else "trace", [])
        if application.estimate
        else []
    )
    return render(
        request,
        "applications/application_detail.html",
        {
            "application": application,
            "evidence": evidence,
            "timeline": _timeline(application),
            "actions": [a.value for a in actions],
            "editable": application.state in EDITABLE_STATES,
            "trace": trace,
            "withdraw_form": WithdrawForm(),
        },
    )


def _estimate_context(application: Application) -> dict:
    check = services.application_check(application)
    result = check.result.to_dict("en" if english_active() else "zh-hans") if check.result else None
    return {"check": check, "result": result}


def _answers(form) -> list[dict]:
    """The declared figures as the check page shows them."""
    rows = []
    for field in form:
        value = form.cleaned_data.get(field.name) if form.is_bound and not field.errors else None
        shown = formatting.fact_value(field.name, value)
        rows.append(
            {"name": field.name, "label": field.label, "value": shown, "errors": field.errors}
        )
    return rows


@applicant_required
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:application_detail", pk=pk)
    form = application_form(application, for_display=True)
    return render(
        request,
        "applications/application_edit.html",
        {
            "application": application,
            "form": form,
            "documents": _documents(application),
            "evidence_form": EvidenceForm(),
            **_estimate_context(application),
        },
    )


def _documents(application: Application) -> list[dict]:
    """The required document types with their files and whether more may be added now."""
    catalogue = services.application_catalogue(application)
    english = english_active()
    files: dict[str, list[Evidence]] = {}
    for item in application.evidence.all():
        files.setdefault(item.document_type, []).append(item)
    rows = []
    for code in services.required_documents(application):
        info = catalogue.evidence_types.get(code, {})
        rows.append(
            {
                "code": code,
                "label": info.get("label_en" if english else "label_zh", code),
                "files": files.get(code, []),
                "current": [e for e in files.get(code, []) if e.withdrawn_at is None],
                "open": services.evidence_allowed(application, code),
            }
        )
    return rows


@applicant_required
@require_POST
def application_autosave(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    try:
        application = services.application_autosave(
            user=request.user, application=application, values=request.POST
        )
    except PortalError as exc:
        if "application/json" not in request.headers.get("Accept", ""):
            messages.error(request, str(exc))
            return redirect("applications:application_detail", pk=pk)
        return JsonResponse({"ok": False, "error": str(exc)}, status=409)
    if "application/json" not in request.headers.get("Accept", ""):
        # The form posted without JavaScript (the "Save" button).
        messages.success(request, _("Saved."))
        return redirect("applications:application_edit", pk=pk)
    estimate = render_to_string(
        "applications/_estimate.html", _estimate_context(application), request=request
    )
    saved_at = timezone.localtime(application.draft_saved_at)
    return JsonResponse(
        {
            "ok": True,
            "saved_at": saved_at.isoformat(),
            "saved_at_display": saved_at.strftime("%H:%M:%S"),
            "version": application.version,
            "estimate_html": estimate,
        }
    )


@applicant_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a file to upload."))
        return redirect("applications:application_edit", pk=pk)
    replaces = request.POST.get("replaces", "")
    try:
        if replaces.isdigit():
            services.evidence_replace(
                user=request.user,
                evidence=_evidence_for_user(request, application, int(replaces)),
                upload=form.cleaned_data["file"],
                ip=client_ip(request),
            )
        else:
            services.evidence_add(
                user=request.user,
                application=application,
                document_type=form.cleaned_data["document_type"],
                upload=form.cleaned_data["file"],
                ip=client_ip(request),
            )
    except UploadRejected as exc:
        messages.error(
            request,
            _("“%(name)s” was not accepted: %(reason)s")
            % {"name": form.cleaned_data["file"].name, "reason": exc.message},
        )
    except PortalError as exc:
        messages.error(
            request,
            _("“%(name)s” was not accepted: %(reason)s")
            % {"name": form.cleaned_data["file"].name, "reason": str(exc)},
        )
    else:
        messages.success(
            request, _("“%(name)s” was uploaded.") % {"name": form.cleaned_data["file"].name}
        )
    return redirect(f"{reverse('applications:application_edit', args=[pk])}#evidence")


@applicant_required
@require_POST
def evidence_delete(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    evidence = _evidence_for_user(request, application, evidence_pk)
    try:
        services.evidence_remove(user=request.user, evidence=evidence, ip=client_ip(request))
    except PortalError as exc:
        messages.error(request, str(exc))
    return redirect(f"{reverse('applications:application_edit', args=[pk])}#evidence")


@applicant_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    evidence = _evidence_for_user(request, application, evidence_pk)
    if evidence.scan_state != Evidence.ScanState.CLEAN:
        raise Http404("not downloadable")
    return file_download(
        evidence.file.open("rb"),
        filename=evidence.original_name,
        content_type=evidence.content_type,
        size=evidence.size,
        audit=lambda: record(
            action="evidence.download",
            actor=request.user,
            actor_role=APPLICANT,
            ip=client_ip(request),
            obj=evidence,
            application_id=application.pk,
        ),
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def application_check(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    if application.state not in EDITABLE_STATES:
        return redirect("applications:application_detail", pk=pk)
    form = DeclarationForm(
        request.POST or None,
        initial={"version": application.version, "signer_name": request.user.full_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.application_submit(
                user=request.user,
                application=application,
                signer_name=form.cleaned_data["signer_name"],
                declared=form.cleaned_data["declared"],
                version=form.cleaned_data["version"],
                ip=client_ip(request),
            )
        except PortalError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("applications:receipt", pk=pk)
    estimate = _estimate_context(application)
    return render(
        request,
        "applications/check.html",
        {
            "application": application,
            "declaration": form,
            "documents": _documents(application),
            **estimate,
            "answers": _answers(estimate["check"].form),
        },
    )


@applicant_required
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    if not application.reference:
        return redirect("applications:application_detail", pk=pk)
    return render(request, "applications/receipt.html", {"application": application})


@applicant_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.application_withdraw(
            user=request.user, application=application, reason=reason, ip=client_ip(request)
        )
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("applications:application_detail", pk=pk)


@applicant_required
@require_POST
def application_discard(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    try:
        services.draft_discard(user=request.user, application=application, ip=client_ip(request))
    except PortalError as exc:
        messages.error(request, str(exc))
        return redirect("applications:application_detail", pk=pk)
    messages.success(request, _("The draft was deleted."))
    return redirect("applications:application_list")


@applicant_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(user=request.user).select_related("application")
    if request.method == "POST":
        rows.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("applications:notifications")
    counts = rows.aggregate(unread=Count("pk", filter=Q(read_at__isnull=True)))
    return render(
        request,
        "applications/notifications.html",
        {"notifications": rows[:100], "unread": counts["unread"], "english": english_active()},
    )
