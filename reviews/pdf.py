"""The approval notice as PDF: WeasyPrint's fetcher, the fonts and stylesheet, the notice's
context and its rendering, and the check for HarfBuzz's subsetter.

WeasyPrint only ever reads the portal's own static files (`StaticOnlyFetcher`, SECURITY.md row
24); every applicant value reaches the HTML through the template engine's escaping.
"""

from __future__ import annotations

import ctypes
import logging
import mimetypes
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .models import Notice
from .numerals import amount_in_capitals

logger = logging.getLogger(__name__)


STYLESHEET = "pdf/notice.css"
HARFBUZZ_SUBSET_NAMES = (
    "libharfbuzz-subset.so.0",
    "libharfbuzz-subset.0.dylib",
    "libharfbuzz-subset-0.dll",
)


def verification_url(notice: Notice) -> str:
    return settings.NOTICE_PUBLIC_URL + reverse("notices:verify", args=[notice.code])


def _static_roots() -> list[Path]:
    roots = [Path(d) for d in settings.STATICFILES_DIRS]
    if settings.STATIC_ROOT:
        roots.append(Path(settings.STATIC_ROOT))
    return [root.resolve() for root in roots if root.is_dir()]


class FetchRefused(ValueError):
    """WeasyPrint logs it and renders without the resource."""


class StaticOnlyFetcher(URLFetcher):
    """Serves file: URLs whose real path lies under the portal's static directories; refuses
    everything else (other files, http(s), data:, ftp, media paths), so content can fetch
    nothing."""

    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols={"file"}, allow_redirects=False)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = static_path(url)
        if path is None:
            logger.warning("notice rendering refused to fetch %.200s", url)
            raise FetchRefused(f"not a portal static file: {url[:200]}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def static_path(url: str) -> Path | None:
    """The real path of a file: URL if it is a file under a static root, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not path.is_file():
        return None
    for root in _static_roots():
        if path.is_relative_to(root):
            return path
    return None


@cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@cache
def _stylesheet() -> CSS:
    """The notice's stylesheet, parsed once per process (read through the fetcher)."""
    from django.contrib.staticfiles import finders

    found = finders.find(STYLESHEET)
    if not found and settings.STATIC_ROOT:
        found = str(Path(settings.STATIC_ROOT) / STYLESHEET)
    return CSS(
        url=Path(found).resolve().as_uri(),
        url_fetcher=StaticOnlyFetcher(),
        font_config=_font_config(),
    )


def _static_base_url() -> str:
    roots = _static_roots()
    return roots[0].as_uri() + "/" if roots else "file:///nonexistent/"


def write_pdf(html: str) -> bytes:
    """HTML → PDF, with nothing fetched beyond the portal's static files."""
    return HTML(
        string=html, base_url=_static_base_url(), url_fetcher=StaticOnlyFetcher()
    ).write_pdf(stylesheets=[_stylesheet()], font_config=_font_config(), attachments=[])


def _qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=1, border=2, omitsize=True, dark="#000")


def _trace(notice: Notice, language: str) -> list[dict[str, str]]:
    """The reasoning (核定依据): each step's clause, the interpretation deciding it, its text."""
    steps = []
    for step in (notice.trace_en if language == "en" else notice.trace_zh) or []:
        text = step.get(f"text_{language}") or step.get("text") or ""
        steps.append(
            {
                "clause": str(step.get("clause", "")),
                "interpretation": str(step.get("interpretation") or ""),
                "text": str(text),
            }
        )
    return steps


def interpretations_url(notice: Notice) -> str:
    """Where the cited interpretations are published, in the version that assessed."""
    policy = notice.policy_code or notice.application.measure.policy.code
    return f"{settings.NOTICE_PUBLIC_URL}{reverse('policies:interpretations')}?version={policy}"


def _date(day: date | None, language: str) -> str:
    if day is None:
        return ""
    if language == "en":
        return f"{day.day} {day:%B %Y}"
    return f"{day.year}年{day.month}月{day.day}日"


def notice_context(notice: Notice, language: str) -> dict[str, Any]:
    application = notice.application
    measure = application.measure
    policy = measure.policy
    english = language == "en"
    url = verification_url(notice)
    trace = _trace(notice, language)
    # The reason is printed only when less than the cap was approved.
    cut = notice.cap_cny is not None and notice.amount_cny < notice.cap_cny
    return {
        "english": english,
        "notice": notice,
        "application": application,
        "issuer_name": settings.NOTICE_ISSUER_NAME_EN
        if english
        else settings.NOTICE_ISSUER_NAME_ZH,
        "issuing_bodies": (
            settings.NOTICE_ISSUING_BODIES_EN if english else settings.NOTICE_ISSUING_BODIES_ZH
        ),
        "issued_on": _date(notice.issued_on, language),
        "measure_title": notice.measure_title_en if english else notice.measure_title_zh,
        "clause": measure.clause,
        "policy_title": policy.title_en if english else policy.title_zh,
        "amount": f"{notice.amount_cny:,.2f}",
        "amount_capitals": amount_in_capitals(notice.amount_cny),
        "fund_source": notice.fund_source_en if english else notice.fund_source_zh,
        "approval_number": notice.approval_number,
        "approval_date": _date(notice.approval_date, language),
        "trace": trace,
        "cited": sorted(
            {s["interpretation"] for s in trace if s["interpretation"]},
            key=lambda code: int(code.split("-")[1]) if code[2:].isdigit() else 0,
        ),
        "interpretations_url": interpretations_url(notice),
        "reason": notice.reason if cut else "",
        "cap": f"{notice.cap_cny:,.2f}" if notice.cap_cny is not None else "",
        "verify_url": url,
        "qr_svg": _qr_svg(url),
        "file_reference": f"{notice.code}-V{notice.version}-{language.upper()}",
    }


def render_html(notice: Notice, language: str) -> str:
    with translation.override("en" if language == "en" else "zh-hans"):
        return render_to_string("pdf/approval_notice.html", notice_context(notice, language))


# --- HarfBuzz's subsetter -------------------------------------------------------------------------


def harfbuzz_subset_available() -> bool:
    """True when libharfbuzz-subset can be loaded (WeasyPrint's fast font subsetting)."""
    for name in HARFBUZZ_SUBSET_NAMES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


def check_harfbuzz_subset() -> None:
    """For the worker's start: refuse (or, if allowed, log an error) without the subsetter.

    Without it WeasyPrint silently subsets fonts with fontTools: a one-page Chinese notice takes
    1.5-8 s instead of ~0.1 s (DESIGN.md §4). Install Debian's libharfbuzz-subset0
    (scripts/install-system-packages does).
    """
    if harfbuzz_subset_available():
        return
    message = (
        "libharfbuzz-subset.so.0 is missing: WeasyPrint would render approval notices ~10x "
        "slower with fontTools. Install libharfbuzz-subset0 (scripts/install-system-packages)."
    )
    if settings.NOTICE_REQUIRE_HARFBUZZ_SUBSET:
        logger.critical("%s The worker refuses to start (NOTICE_REQUIRE_HARFBUZZ_SUBSET).", message)
        from celery.exceptions import WorkerTerminate

        raise WorkerTerminate(1)
    logger.error("%s Continuing: NOTICE_REQUIRE_HARFBUZZ_SUBSET is off.", message)
