"""Public: the awards on public notice (公示) and the verification of approval notices by their
code and by the SHA-256 of their PDF (the same lookups as the verification page, same limit)."""

import re
from datetime import date, datetime

from django.http import Http404
from ninja import Router, Schema

from reviews.models import Notice
from reviews.services import notices as notice_services
from reviews.services.publicity import open_notice_items

from ..access import limited
from ..errors import ApiError

router = Router(tags=["notices · 公示与核验"])

_SHA256 = re.compile(r"[0-9a-f]{64}")


class PublicNoticeOut(Schema):
    id: int
    enterprise_name: str
    measure_code: str
    measure_title_zh: str
    measure_title_en: str
    amount_cny: str
    published_at: datetime
    ends_at: datetime


class NoticeOut(Schema):
    number: str
    verification_code: str
    issued_on: date
    enterprise_name: str
    measure_code: str
    measure_title_zh: str
    measure_title_en: str
    amount_cny: str
    valid: bool
    superseded_by: str | None
    sha256_zh: str
    sha256_en: str
    match: bool | None = None
    language: str | None = None


@router.get(
    "/public-notices",
    response=list[PublicNoticeOut],
    summary="公示中的资助 · Awards on public notice",
    description="公示期内的资助：企业名称、措施和金额（两位小数的字符串），以及公示截止时间。\n\n"
    "Awards on public notice now: enterprise, measure, amount (a string with two decimals) and "
    "the end of the notice period.",
)
@limited("api_public")
def public_notices(request):
    return [
        {
            "id": item.pk,
            "enterprise_name": item.enterprise_name,
            "measure_code": item.measure_code,
            "measure_title_zh": item.measure_title_zh,
            "measure_title_en": item.measure_title_en,
            "amount_cny": f"{item.amount_cny:.2f}",
            "published_at": item.batch.published_at,
            "ends_at": item.batch.ends_at,
        }
        for item in open_notice_items()[:1000]
    ]


def _notice(notice: Notice, sha256: str | None = None) -> dict:
    out = {
        "number": notice.number,
        "verification_code": notice.verification_code,
        "issued_on": notice.issued_on,
        "enterprise_name": notice.enterprise_name,
        "measure_code": notice.measure_code,
        "measure_title_zh": notice.measure_title_zh,
        "measure_title_en": notice.measure_title_en,
        "amount_cny": f"{notice.amount_cny:.2f}",
        "valid": not notice.is_superseded,
        "superseded_by": notice.superseded_by.number if notice.superseded_by_id else None,
        "sha256_zh": notice.sha256_zh,
        "sha256_en": notice.sha256_en,
    }
    if sha256 is not None:
        language = notice_services.matches(notice, sha256)
        out.update(match=bool(language), language=language)
    return out


def _sha256(value: str) -> str:
    value = value.strip().lower()
    if not _SHA256.fullmatch(value):
        raise ApiError(
            400,
            "bad_sha256",
            ("SHA-256 须为 64 位十六进制数字。", "A SHA-256 is 64 hexadecimal digits."),
        )
    return value


@router.get(
    "/notices/{code}",
    response=NoticeOut,
    summary="按核验码核验批复通知 · Verify an approval notice by its code",
    description="核验码印在通知的二维码旁。带上 `sha256` 参数时，同时核对 PDF 文件是否一致。\n\n"
    "The code printed beside the notice's QR code. With `sha256`, also says whether a PDF with "
    "that SHA-256 is this notice (and in which language).",
)
@limited("verify_notice")
def notice_by_code(request, code: str, sha256: str | None = None):
    try:
        notice = notice_services.notice_for_code(code)
    except Http404:
        raise ApiError(
            404, "unknown_notice", ("没有这个核验码的通知。", "No notice has this code.")
        ) from None
    return _notice(notice, _sha256(sha256) if sha256 is not None else None)


@router.get(
    "/notices/sha256/{sha256}",
    response=NoticeOut,
    summary="按 PDF 的 SHA-256 核验 · Verify a notice's PDF by its SHA-256",
    description="计算所收到 PDF 的 SHA-256，查询它是哪一份已签发的通知。\n\n"
    "Compute the SHA-256 of the PDF you received and ask which issued notice it is.",
)
@limited("verify_notice")
def notice_by_sha256(request, sha256: str):
    digest = _sha256(sha256)
    notice = (
        Notice.objects.filter(status=Notice.Status.READY)
        .filter(sha256_zh=digest)
        .select_related("superseded_by")
        .first()
        or Notice.objects.filter(status=Notice.Status.READY, sha256_en=digest)
        .select_related("superseded_by")
        .first()
    )
    if notice is None:
        raise ApiError(
            404,
            "unknown_pdf",
            ("没有哪份通知的 PDF 是这个 SHA-256。", "No notice's PDF has this SHA-256."),
        )
    return _notice(notice, digest)
