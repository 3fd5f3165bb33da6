"""The applicant's pages of enterprise verification: registering a credit code with its
documents (or disputing one registered already), following the bureau's decision, answering a
return, and downloading one's own documents."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from hengyang_cbec.audit.services import client_ip, record
from hengyang_cbec.downloads import file_download

from . import enterprises, services
from .forms import ClaimDocumentsForm, EnterpriseForm
from .models import EnterpriseClaim
from .services import ApplicationError
from .views import _membership_or_none, applicant_required
from .workflow import APPLICANT


@applicant_required
@require_http_methods(["GET", "POST"])
def enterprise_create(request: HttpRequest) -> HttpResponse:
    if _membership_or_none(request) is not None:
        return redirect("applications:enterprise")
    if enterprises.open_claim(request.user) is not None:
        return redirect("applications:verification")
    invited = request.session.get("invited_uscc", "")
    form = EnterpriseForm(request.POST or None, initial={"uscc": invited} if invited else None)
    documents = ClaimDocumentsForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid() and documents.is_valid():
        try:
            claim = enterprises.enterprise_register(
                user=request.user,
                uscc=form.cleaned_data["uscc"],
                data=form.cleaned_data,
                documents=documents.documents(),
                statement=documents.cleaned_data.get("statement", ""),
                ip=client_ip(request),
            )
        except (ApplicationError, ValidationError) as exc:
            form.add_error(None, exc)
        else:
            if claim.kind == EnterpriseClaim.Kind.DISPUTE:
                messages.warning(
                    request,
                    _(
                        "This credit code is registered already by someone else. Your claim and "
                        "documents went to the Bureau of Commerce as a dispute; it decides who "
                        "administers the enterprise."
                    ),
                )
                return redirect("applications:verification")
            messages.success(
                request,
                _(
                    "Your enterprise is registered. The Bureau of Commerce now verifies its "
                    "documents; until then applications can be prepared but not submitted."
                ),
            )
            return redirect("applications:dashboard")
    return render(
        request,
        "applications/enterprise_form.html",
        {"form": form, "documents_form": documents, "creating": True},
    )


@applicant_required
@require_http_methods(["GET", "POST"])
def verification(request: HttpRequest) -> HttpResponse:
    """Where the enterprise's verification (or the user's dispute) stands, and what to do."""
    claims = list(enterprises.claims_for(request.user))
    returned = next(
        (
            c
            for c in claims
            if c.status == EnterpriseClaim.Status.RETURNED and c.claimant_id == request.user.pk
        ),
        None,
    )
    form = None
    if returned is not None:
        form = ClaimDocumentsForm(request.POST or None, request.FILES or None, resubmission=True)
        if request.method == "POST" and form.is_valid():
            try:
                enterprises.claim_resubmit(
                    user=request.user,
                    claim=returned,
                    documents=form.documents(),
                    ip=client_ip(request),
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request, _("The new documents were sent to the Bureau of Commerce.")
                )
                return redirect("applications:verification")
    elif request.method == "POST":
        return redirect("applications:verification")
    membership = _membership_or_none(request)
    return render(
        request,
        "applications/verification.html",
        {
            "claims": claims,
            "returned": returned,
            "form": form,
            "enterprise": membership.enterprise if membership else None,
            "blocker": services.submission_blocker(membership.enterprise) if membership else None,
        },
    )


@applicant_required
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    document = enterprises.document_for_claimant(request.user, pk)
    if document is None:
        raise Http404("not downloadable")

    def audit():
        record(
            action="enterprise.document_download",
            actor=request.user,
            actor_role=APPLICANT,
            ip=client_ip(request),
            obj=document,
            data={"claim": document.claim_id, "kind": document.kind},
        )

    return file_download(
        document.file.open("rb"),
        filename=document.original_name,
        content_type=document.content_type,
        audit=audit,
        size=document.size,
    )
