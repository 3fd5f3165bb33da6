"""Pages of the approval notices: download (permission-checked), staff's list with failures and
retry, and the public verification page that checks an uploaded PDF without keeping it."""

from __future__ import annotations

import hashlib
from io import BytesIO

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hengyang_cbec.accounts.permissions import role_required
from hengyang_cbec.accounts.roles import has_role
from hengyang_cbec.audit.services import client_ip, record
from hengyang_cbec.downloads import PDF, file_download
from hengyang_cbec.errors import PortalError
from hengyang_cbec.i18n import english_active
from hengyang_cbec.params import optional_int

from ..models import Notice
from ..services import notices
from ..services.notices import NOTICE_MANAGERS, NOTICE_READERS

# --- Download -------------------------------------------------------------------------------------


@require_GET
def download(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    """The PDF as an attachment, for the enterprise's members and the bureau's readers only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if language not in notices.LANGUAGES:
        raise Http404
    notice = notices.notice_for_download(request.user, pk)
    return file_download(
        getattr(notice, f"file_{language}").open("rb"),
        filename=notices.file_name(notice, language),
        content_type=PDF,
        size=getattr(notice, f"size_{language}"),
        audit=lambda: record(
            action="notice.download",
            actor=request.user,
            ip=client_ip(request),
            obj=notice,
            application_id=notice.application_id,
            data={"number": notice.number, "language": language},
        ),
    )


# --- Staff ----------------------------------------------------------------------------------------


@role_required(*NOTICE_READERS)
def staff_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    rows = Notice.objects.select_related("application", "outbox").order_by("-created_at", "-id")
    if status in Notice.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    failed = Notice.objects.filter(status=Notice.Status.FAILED).count()
    return render(
        request,
        "reviews/notices/staff_list.html",
        {
            "page": page,
            "status": status,
            "statuses": Notice.Status.choices,
            "failed_count": failed,
            "can_manage": has_role(request.user, *NOTICE_MANAGERS),
            "english": english_active(),
        },
    )


@role_required(*NOTICE_MANAGERS)
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=pk)
    try:
        notices.notice_retry(user=request.user, notice=notice, ip=client_ip(request))
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Notice %(number)s will be rendered again.") % {"number": notice.number}
        )
    return redirect("notices:staff_list")


@role_required(*NOTICE_MANAGERS)
@require_POST
def regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(Notice, pk=pk)
    try:
        new = notices.notice_regenerate(user=request.user, notice=notice, ip=client_ip(request))
    except PortalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Notice %(new)s is being prepared; it replaces %(old)s once ready.")
            % {"new": new.number, "old": notice.number},
        )
    return redirect("notices:staff_list")


# --- Public verification --------------------------------------------------------------------------


class _HashOnlyUploadHandler(FileUploadHandler):
    """Hashes an uploaded file as it streams in and keeps nothing: no memory copy, no temp file."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.too_big = False

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.sha256 = hashlib.sha256()
        self.size = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.size += len(raw_data)
        if self.size > self.limit:
            self.too_big = True
            raise StopUpload(connection_reset=False)
        self.sha256.update(raw_data)
        return  # nothing for other handlers: the bytes are gone

    def file_complete(self, file_size: int) -> UploadedFile:
        upload = UploadedFile(BytesIO(b""), name=self.file_name, size=file_size)
        upload.sha256 = self.sha256.hexdigest()
        return upload


def _too_big_message(limit: int) -> str:
    return _("The file is larger than %(mb)s MB: it cannot be this notice.") % {
        "mb": f"{limit / 1024 / 1024:.1f}"
    }


@csrf_exempt  # the CSRF check would parse the upload before our handler is in place
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public (no login): what the notice says, its state and SHA-256; an uploaded PDF checked."""
    notice = notices.notice_for_code(code)
    limit = settings.NOTICE_VERIFY_MAX_BYTES
    if request.method == "POST":
        length = request.META.get("CONTENT_LENGTH") or ""
        if optional_int(length, minimum=0, maximum=limit + 64 * 1024) is None:
            # Refused before a byte of the body is read.
            return _page(request, notice, error=_too_big_message(limit), status=413)
    handler = _HashOnlyUploadHandler(request, limit=limit)
    request.upload_handlers = [handler]
    return _verify(request, notice, handler)


@csrf_protect
def _verify(request: HttpRequest, notice: Notice, handler: _HashOnlyUploadHandler) -> HttpResponse:
    if request.method != "POST":
        return _page(request, notice)
    upload = request.FILES.get("file")
    if handler.too_big:
        return _page(request, notice, error=_too_big_message(handler.limit), status=413)
    if upload is None or not getattr(upload, "sha256", ""):
        return _page(request, notice, error=_("Choose the PDF file to check."), status=400)
    language = notices.matches(notice, upload.sha256)
    result = {"sha256": upload.sha256, "language": language, "match": bool(language)}
    return _page(request, notice, result=result)


def _page(
    request: HttpRequest, notice: Notice, *, result=None, error: str = "", status: int = 200
) -> HttpResponse:
    limit = settings.NOTICE_VERIFY_MAX_BYTES
    return render(
        request,
        "reviews/notices/verify.html",
        {
            "notice": notice,
            "english": english_active(),
            "result": result,
            "error": error,
            "max_mb": f"{limit / 1024 / 1024:.1f}",
        },
        status=status,
    )
