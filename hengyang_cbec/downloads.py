"""The one way a file leaves the portal: safe headers and an audit event (SECURITY.md 21, 33).

Every download, stored (evidence, objection files, approval notices, background exports) or built
on the fly (bank lists, report tables), is answered by `file_download`, so that each one:

- is an attachment (`inline` only for images shown in the page) whose name is offered twice, as an
  ASCII fallback and as RFC 5987 `filename*=UTF-8''…`, never a path;
- carries `X-Content-Type-Options: nosniff`, so no browser renders it as something else;
- is never cached (`Cache-Control: private, no-store`);
- writes its audit event first: who took which file. The caller passes the function that writes
  it (the services know the action, role and object); `audit=None` is for inline images only,
  which are shown inside a page whose own view is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import IO

from django.http import FileResponse, StreamingHttpResponse

from applications.uploads import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PDF = "application/pdf"
OCTET_STREAM = "application/octet-stream"


def file_download(
    content: IO[bytes] | Iterable[str | bytes],
    *,
    filename: str,
    content_type: str,
    audit: Callable[[], object] | None,
    inline: bool = False,
    size: int | None = None,
) -> FileResponse | StreamingHttpResponse:
    """A response handing `content` (an open file or an iterator of chunks) to the browser.

    `audit` writes the download's audit event; it runs before the response is built, so a file
    that leaves the portal has always been recorded. Only an inline view may pass None.
    """
    if audit is None and not inline:
        raise ValueError("every download is audited; only inline views may skip it")
    if audit is not None:
        audit()
    if hasattr(content, "read"):
        response = FileResponse(content, content_type=content_type or OCTET_STREAM)
    else:
        response = StreamingHttpResponse(content, content_type=content_type or OCTET_STREAM)
    response["Content-Disposition"] = content_disposition(filename or "file", inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    if size is not None:
        response["Content-Length"] = str(size)
    return response
