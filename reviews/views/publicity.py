"""Public notice: the public list and objections, the registrar's publishing and closing, and
the resolution of objections."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.services import client_ip
from hengyang_cbec.downloads import file_download
from hengyang_cbec.errors import PortalError
from hengyang_cbec.i18n import english_active
from hengyang_cbec.params import id_list

from ..forms import BatchForm, ObjectionForm, ResolveObjectionForm
from ..permissions import READERS, objection_for_staff
from ..services.publicity import (
    close_due_notices,
    notice_publish,
    objection_file_for_download,
    objection_lodge,
    objection_resolve,
    open_notice_items,
    record_objection_file_download,
)
from .review import _done, _invalid

COMMERCE = Role.COMMERCE_REVIEWER
REGISTRAR = Role.APPROVAL_REGISTRAR


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
        lambda: objection_resolve(
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
    objection = objection_file_for_download(objection_for_staff(request.user, pk))
    return file_download(
        objection.file.open("rb"),
        filename=objection.file_name,
        content_type=objection.file_type,
        audit=lambda: record_objection_file_download(
            user=request.user, objection=objection, ip=client_ip(request)
        ),
    )


# --- Registrar -----------------------------------------------------------------------------------


@role_required(REGISTRAR)
@require_POST
def publish_notice(request: HttpRequest) -> HttpResponse:
    ids = id_list(request.POST.getlist("applications"))
    form = BatchForm(request.POST, ids=ids)
    back = reverse("reviews:registrar_queue") + "?tab=to_publish"
    if not form.is_valid():
        messages.error(request, _("Choose at least one application."))
        return redirect(back)
    try:
        batch = notice_publish(
            user=request.user,
            application_ids=form.cleaned_data["applications"],
            ip=client_ip(request),
        )
    except PortalError as exc:
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
    closed = close_due_notices(user=request.user, ip=client_ip(request))
    messages.success(
        request,
        ngettext("%(n)s notice closed.", "%(n)s notices closed.", closed) % {"n": closed},
    )
    return redirect(reverse("reviews:registrar_queue") + "?tab=to_approve")


# --- Public notices -------------------------------------------------------------------------------


def public_notices(request: HttpRequest) -> HttpResponse:
    """No login: enterprise name, measure and amount only, with the end of the period."""
    items = open_notice_items()
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "reviews/public_notices.html",
        {"page": page, "english": english_active(), "form": ObjectionForm()},
    )


@login_required
def lodge_objection(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(open_notice_items(), pk=pk)
    if request.method == "POST":
        form = ObjectionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                objection_lodge(
                    user=request.user,
                    item=item.pk,
                    real_name=form.cleaned_data["real_name"],
                    contact=form.cleaned_data["contact"],
                    text=form.cleaned_data["text"],
                    upload=form.cleaned_data.get("file"),
                    ip=client_ip(request),
                )
            except PortalError as exc:
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
