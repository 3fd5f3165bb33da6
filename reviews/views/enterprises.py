"""Enterprise verification, the bureau's side: the queue of claims for commerce staff, one
claim's page with its documents and the decision, and the audited document download."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from applications.models import EnterpriseClaim, EnterpriseDocument, Membership
from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import file_download

from ..forms import EnterpriseDecisionForm
from ..services.enterprises import (
    claim_reject,
    claim_return,
    claim_verify,
    claims_queue,
    dispute_decide,
    document_for_staff,
    record_document_download,
)
from ..services.steps import ReviewError

COMMERCE = Role.COMMERCE_REVIEWER
Status = EnterpriseClaim.Status
Kind = EnterpriseClaim.Kind

# The licence first, then the letter, then anything else.
ORDER = {kind: n for n, kind in enumerate(EnterpriseDocument.Kind.values)}
TABS = (
    ("registrations", gettext_lazy("To verify"), Q(kind=Kind.REGISTRATION, status=Status.PENDING)),
    ("disputes", gettext_lazy("Disputes"), Q(kind=Kind.DISPUTE, status=Status.PENDING)),
    ("returned", gettext_lazy("Returned, waiting for documents"), Q(status=Status.RETURNED)),
    (
        "decided",
        gettext_lazy("Decided"),
        ~Q(status__in=[Status.PENDING, Status.RETURNED]),
    ),
)


@role_required(COMMERCE)
def verification_queue(request: HttpRequest) -> HttpResponse:
    keys = [key for key, _label, _q in TABS]
    tab = request.GET.get("tab") if request.GET.get("tab") in keys else keys[0]
    condition = next(q for key, _label, q in TABS if key == tab)
    counts = EnterpriseClaim.objects.aggregate(**{key: _count(q) for key, _label, q in TABS})
    order = ("-decided_at", "-pk") if tab == "decided" else ("created_at", "pk")
    rows = claims_queue().filter(condition).order_by(*order)
    page = Paginator(rows, settings.REVIEW_QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/enterprise_queue.html",
        {
            "tabs": [(key, label, counts[key]) for key, label, _q in TABS],
            "tab": tab,
            "page": page,
        },
    )


def _count(condition: Q) -> Count:
    return Count("pk", filter=condition)


@role_required(COMMERCE)
@require_http_methods(["GET", "POST"])
def verification_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = claims_queue().select_related("enterprise__district").filter(pk=pk).first()
    if claim is None:
        raise Http404
    dispute = claim.kind == Kind.DISPUTE
    form = EnterpriseDecisionForm(request.POST or None, request.FILES or None, dispute=dispute)
    if request.method == "POST" and form.is_valid():
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        evidence = form.cleaned_data.get("evidence")
        actions = {
            "verify": (lambda: claim_verify(user=request.user, claim=claim, ip=client_ip(request)),
                       _("The enterprise is verified; it may now submit applications.")),
            "return": (lambda: claim_return(user=request.user, claim=claim, reason=reason,
                                            ip=client_ip(request)),
                       _("The claim was returned for new documents.")),
            "reject": (lambda: claim_reject(user=request.user, claim=claim, reason=reason,
                                            ip=client_ip(request)),
                       _("The claim was rejected.")),
            "keep": (lambda: dispute_decide(user=request.user, claim=claim, transfer=False,
                                            reason=reason, evidence=evidence,
                                            ip=client_ip(request)),
                     _("The dispute is decided: the current administrator stays.")),
            "transfer": (lambda: dispute_decide(user=request.user, claim=claim, transfer=True,
                                                reason=reason, evidence=evidence,
                                                ip=client_ip(request)),
                         _("The dispute is decided: the administration passed to the claimant.")),
        }  # fmt: skip
        action, done = actions[decision]
        try:
            action()
        except ReviewError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("reviews:verification_queue")
    enterprise = claim.enterprise
    administrators = Membership.objects.filter(
        enterprise=enterprise,
        role=Membership.Role.ADMINISTRATOR,
        status=Membership.Status.ACTIVE,
    ).select_related("user")
    # Earlier claims with their documents: in a dispute, the current administrator's papers.
    history = (
        EnterpriseClaim.objects.filter(enterprise=enterprise)
        .exclude(pk=claim.pk)
        .select_related("claimant", "decided_by")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=EnterpriseDocument.objects.filter(superseded_at__isnull=True),
                to_attr="current_documents",
            )
        )
        .order_by("-created_at")
    )
    return render(
        request,
        "reviews/enterprise_detail.html",
        {
            "claim": claim,
            "enterprise": enterprise,
            "documents": sorted(
                claim.documents.all(),
                key=lambda d: (d.superseded_at is not None, ORDER.get(d.kind, 9), d.pk),
            ),
            "administrators": administrators,
            "history": history,
            "form": form if claim.status == Status.PENDING else None,
            "dispute": dispute,
        },
    )


@role_required(COMMERCE)
def verification_document(request: HttpRequest, pk: int) -> HttpResponse:
    document = document_for_staff(request.user, pk)
    return file_download(
        document.file.open("rb"),
        filename=document.original_name,
        content_type=document.content_type,
        audit=lambda: record_document_download(request.user, document, ip=client_ip(request)),
    )
