"""The upload size limit, enforced before anything is stored (SECURITY.md 17).

Two layers, so that an oversized upload never reaches the disk:
- `UploadLimitMiddleware` refuses a multipart request whose Content-Length is over
  `request_limit()` (one file at settings.UPLOAD_MAX_BYTES plus 1 MB for the form around it)
  before a byte of the body is read; the reverse proxy's `client_max_body_size` is set to the
  same value (README), so it refuses bigger bodies itself;
- `SizeLimitUploadHandler`, first in FILE_UPLOAD_HANDLERS, counts each file's bytes as they stream
  in and stops the parser at settings.UPLOAD_MAX_BYTES, before the chunk that crosses it is handed
  to the handlers that keep data; the partial temporary file is closed, which deletes it.

Either way the answer is a translated 413 page. Views that install their own handlers (the
notice check) are CSRF-exempt for that reason and apply their own limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

FORM_ALLOWANCE_BYTES = 1024 * 1024


def request_limit() -> int:
    return settings.UPLOAD_MAX_BYTES + FORM_ALLOWANCE_BYTES


class SizeLimitUploadHandler(FileUploadHandler):
    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.UPLOAD_MAX_BYTES:
            if self.request is not None:
                self.request.upload_too_large = True
            # The rest of the body (bounded by the Content-Length check) is read and dropped.
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int):
        return None  # the next handler builds the file


def _is_multipart(request: HttpRequest) -> bool:
    return request.META.get("CONTENT_TYPE", "").lower().startswith("multipart/")


def too_large(request: HttpRequest) -> HttpResponse:
    limit_mb = f"{settings.UPLOAD_MAX_BYTES / (1024 * 1024):g}"
    return render(request, "errors/413.html", {"limit_mb": limit_mb}, status=413)


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_multipart(request):
            length = request.META.get("CONTENT_LENGTH") or ""
            # No length (chunked) cannot be judged before reading: refused like an oversize one.
            if not length.isdigit() or int(length) > request_limit():
                return too_large(request)
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        """Parse the upload here (as the CSRF check would) and answer 413 if a file was cut."""
        if (
            request.method != "POST"
            or not _is_multipart(request)
            or getattr(view_func, "csrf_exempt", False)
        ):
            return None
        try:
            request.POST  # noqa: B018 - parses the body through the handlers above
        except MultiPartParserError:
            from .views import bad_request

            return bad_request(request)
        if getattr(request, "upload_too_large", False):
            return too_large(request)
        return None
