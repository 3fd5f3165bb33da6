"""Approval notices, in-process: numbering, the render job, safe rendering, fonts,
downloads, staff's list and actions, and the public verification page.

The tests with a real Celery worker on Redis are in test_notices_worker.py.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from applications.models import Notification
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.numbering.models import Counter
from reviews import pdf
from reviews.models import Award, Notice, NoticeOutbox
from reviews.numerals import amount_in_capitals
from reviews.services import notices
from reviews.tasks import render_notice

from .factories import advance, make_application, make_enterprise, make_member, make_staff

HOSTILE_NAME = "<img src=file:///etc/passwd>衡阳恶意测试有限公司"
HOSTILE_SCOPE = "<link rel=attachment href=file:///etc/hostname>"
HOSTILE_FACT = (
    "@import url(http://127.0.0.1:9/); <style>@import url(http://127.0.0.1:9/x.css)</style>"
)


# --- Helpers (also used by test_notices_worker.py) ------------------------------------------------


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_fonts(data: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get_object().get("/Font", {})
        for font in fonts.get_object().values():
            names.add(str(font.get_object().get("/BaseFont", "")))
    return names


def pdf_has_attachments(data: bytes) -> bool:
    reader = pypdf.PdfReader(io.BytesIO(data))
    names = reader.trailer["/Root"].get_object().get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        return True
    for page in reader.pages:
        for annot in page.get("/Annots", None) or []:
            if annot.get_object().get("/Subtype") == "/FileAttachment":
                return True
    return False


def stored(notice: Notice, language: str = "zh") -> bytes:
    with default_storage.open(getattr(notice, f"file_{language}").name, "rb") as handle:
        return handle.read()


def approve(application, crew, capture, *, execute: bool = True) -> Notice:
    """Drive an application to approval; with execute, run what the commit triggers."""
    with capture(execute=execute):
        advance(application, State.APPROVED, crew=crew)
    return Notice.objects.get(application=application)


def make_hostile(application) -> None:
    """Hostile text in the enterprise name, the store and the stored computation."""
    application.enterprise.name = HOSTILE_NAME
    application.enterprise.save(update_fields=["name"])
    application.scope_key = HOSTILE_SCOPE
    application.save(update_fields=["scope_key"])


def poison_trace(award: Award, text: str) -> None:
    assessment = award.assessment
    for field in ("result_zh", "result_en"):
        result = getattr(assessment, field)
        result["trace"] = [
            *result.get("trace", []),
            {"clause": "I", "text": text, "text_zh": text, "text_en": text},
        ]
    assessment.save(update_fields=["result_zh", "result_en"])


# --- Fixtures -------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def in_process_tasks():
    """Tasks run in-process after commit (embedded mode), even when REDIS_URL is set."""
    from hengyang_cbec.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def fake_weasyprint(request, monkeypatch):
    """WeasyPrint takes about a second per notice: tests that never read the PDF get a stand-in.

    The stand-in is a PDF header and the SHA-256 of the HTML it was given, so each notice's file is
    still distinct and hashable; the tests marked `real_pdf` read real renders (text, fonts,
    pages, no attachments, nothing fetched).
    """
    if request.node.get_closest_marker("real_pdf") is not None:
        return

    def stand_in(html: str) -> bytes:
        digest = hashlib.sha256(html.encode()).hexdigest().encode()
        return b"%PDF-1.7\n% rendering faked by the tests: " + digest + b"\n%%EOF\n"

    monkeypatch.setattr(pdf, "write_pdf", stand_in)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def notice(submitted, crew, capture) -> Notice:
    return approve(submitted, crew, capture)


@pytest.fixture
def client_for(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- Numbering ------------------------------------------------------------------------------------


def test_number_has_the_government_form():
    assert notices.format_number(2026, 1, "衡商跨补") == "衡商跨补〔2026〕0001号"
    assert notices.format_number(2026, 12345, "衡商跨补") == "衡商跨补〔2026〕12345号"


def test_numbers_are_consecutive_per_issuer_and_year(db):
    assert [notices.next_serial("HSKB", 2026) for _ in range(3)] == [1, 2, 3]
    assert notices.next_serial("HSKB", 2027) == 1
    assert notices.next_serial("OTHER", 2026) == 1
    assert Counter.objects.get(series="notice:HSKB", year=2026).last == 3


def test_a_rolled_back_approval_gives_its_number_back(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert notices.next_serial("HSKB", 2026) == 1
        raise RuntimeError("approval failed")
    assert notices.next_serial("HSKB", 2026) == 1


# --- The pipeline ---------------------------------------------------------------------------------


@pytest.mark.real_pdf
def test_approval_issues_one_ready_notice_with_both_languages(notice, submitted):
    assert notice.status == Notice.Status.READY
    assert notice.number == f"衡商跨补〔{timezone.localdate().year}〕0001号"
    assert notice.version == 1
    assert notice.outbox.status == NoticeOutbox.Status.DONE
    assert notice.outbox.attempts == 1
    for language in notices.LANGUAGES:
        data = stored(notice, language)
        assert data.startswith(b"%PDF-")
        assert hashlib.sha256(data).hexdigest() == getattr(notice, f"sha256_{language}")
        assert len(data) == getattr(notice, f"size_{language}")
        assert getattr(notice, f"file_{language}").name.startswith(f"notices/{notice.year}/")
    assert AuditEvent.objects.filter(action="notice.ready", object_id=str(notice.pk)).count() == 1


@pytest.mark.real_pdf
def test_the_chinese_notice_says_what_was_approved(notice, submitted):
    text = pdf_text(stored(notice, "zh"))
    award = notice.award
    for expected in (
        notice.number,
        submitted.enterprise.name,
        submitted.enterprise.uscc,
        "M05",
        submitted.measure.title_zh,
        submitted.measure.clause,
        "100,000.00",
        amount_in_capitals(award.amount_cny),
        "壹拾万元整",
        award.fund_source.name_zh,
        award.approval_batch.document_number,
        "核定依据",
        "出口额 600,000.00 美元",
        pdf.verification_url(notice),
        f"{notice.code}-V1-ZH",
        "衡阳市商务局",
        "衡阳市财政局",
    ):
        assert expected in text.replace("\n", ""), expected


@pytest.mark.real_pdf
def test_the_english_notice_is_available_too(notice):
    text = pdf_text(stored(notice, "en"))
    assert "Notice of Approval" in text
    assert notice.number in text
    assert "CNY 100,000.00" in text
    assert "壹拾万元整" in text
    assert "CBEC export volume" in text.replace("\n", " ")


@pytest.mark.real_pdf
def test_notices_are_one_page_a4(notice):
    for language in notices.LANGUAGES:
        reader = pypdf.PdfReader(io.BytesIO(stored(notice, language)))
        assert len(reader.pages) == 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == (595, 842)


@pytest.mark.real_pdf
def test_chinese_glyphs_come_from_an_embedded_cjk_font(notice):
    data = stored(notice, "zh")
    fonts = pdf_fonts(data)
    assert any("WenQuanYi" in name or "NotoSansCJK" in name for name in fonts), fonts
    text = pdf_text(data)
    assert "衡阳市商务局" in text and "壹拾万元整" in text
    assert "\ufffd" not in text  # no replacement characters (tofu)


def test_the_applicant_is_told_once_the_notice_is_ready(notice, member):
    messages = Notification.objects.filter(user=member, message_en__contains=notice.number)
    assert messages.count() == 1
    assert notice.number in messages.get().message_zh


def test_running_the_task_twice_leaves_one_notice(notice):
    files_before = sorted(default_storage.listdir(f"notices/{notice.year}")[1])
    assert render_notice.apply(args=[notice.outbox.pk]).get() == "skipped"
    assert render_notice.apply(args=[notice.outbox.pk]).get() == "skipped"
    assert Notice.objects.filter(award=notice.award).count() == 1
    assert sorted(default_storage.listdir(f"notices/{notice.year}")[1]) == files_before
    notice.refresh_from_db()
    assert notice.outbox.attempts == 1


def test_two_runs_racing_keep_one_set_of_files(submitted, crew, capture, monkeypatch):
    notice = approve(submitted, crew, capture, execute=False)
    outbox_id = notice.outbox.pk
    real = pdf.write_pdf
    raced = []

    def first_run_is_overtaken(html):
        # While the first run renders, a second run (a redelivered message) does the whole job.
        if not raced:
            raced.append(True)
            assert notices.notice_render(outbox_id) == "done"
        return real(html)

    monkeypatch.setattr(pdf, "write_pdf", first_run_is_overtaken)
    with capture(execute=True):
        assert notices.notice_render(outbox_id) == "done"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.READY
    assert notice.outbox.attempts == 2
    assert Notice.objects.filter(award=notice.award).count() == 1
    # The late run's files were thrown away: two PDFs remain, the ones recorded.
    names = default_storage.listdir(f"notices/{notice.year}")[1]
    assert sorted(f"notices/{notice.year}/{n}" for n in names) == sorted(
        [notice.file_zh.name, notice.file_en.name]
    )


def test_unknown_job_is_skipped(db):
    assert render_notice.apply(args=[999999]).get() == "skipped"


def test_a_notice_is_being_prepared_until_the_job_runs(
    submitted, crew, capture, client_for, member
):
    notice = approve(submitted, crew, capture, execute=False)
    assert notice.status == Notice.Status.PENDING
    assert notice.outbox.enqueued_at is None
    page = client_for(member).get(reverse("applications:application_detail", args=[submitted.pk]))
    assert b"data-preparing" in page.content
    assert b"data-download" not in page.content


def test_the_application_page_offers_the_download(notice, submitted, client_for, member):
    url = reverse("applications:application_detail", args=[submitted.pk])
    client = client_for(member)
    html = client.get(url).content.decode()
    assert 'data-approval-notice="ready"' in html
    assert reverse("notices:download", args=[notice.pk, "zh"]) in html
    assert reverse("notices:download", args=[notice.pk, "en"]) in html
    # The page's language comes first, the other one is offered beside it.
    assert html.index('data-download="zh"') < html.index('data-download="en"')
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(url).content.decode()
    assert html.index('data-download="en"') < html.index('data-download="zh"')


def test_a_failed_render_is_recorded_and_retry_works(submitted, crew, capture, monkeypatch):
    real = pdf.write_pdf

    def broken(html):
        raise OSError("disk full")

    monkeypatch.setattr(pdf, "write_pdf", broken)
    notice = approve(submitted, crew, capture)
    assert notice.status == Notice.Status.FAILED
    assert "disk full" in notice.error
    assert notice.outbox.status == NoticeOutbox.Status.FAILED
    assert AuditEvent.objects.filter(action="notice.failed").count() == 1
    monkeypatch.setattr(pdf, "write_pdf", real)
    with capture(execute=True):
        notices.notice_retry(user=crew.registrar, notice=notice)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.READY
    assert notice.number.endswith("0001号")  # same number, same version
    assert AuditEvent.objects.filter(action="notice.retry", actor=crew.registrar).count() == 1


def test_a_render_over_its_time_limit_is_marked_failed_and_can_be_retried(
    submitted, crew, capture, monkeypatch
):
    real = pdf.write_pdf

    def too_slow(html):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(pdf, "write_pdf", too_slow)
    notice = approve(submitted, crew, capture)
    assert notice.status == Notice.Status.FAILED
    assert "time limit" in notice.error
    monkeypatch.setattr(pdf, "write_pdf", real)
    with capture(execute=True):
        notices.notice_retry(user=crew.commerce, notice=notice)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.READY


def test_retry_is_only_for_failed_notices_and_managers(notice, crew, outsider):
    with pytest.raises(notices.NoticeError):
        notices.notice_retry(user=crew.registrar, notice=notice)
    with pytest.raises(notices.NoticeError):
        notices.notice_retry(user=outsider, notice=notice)


def test_task_limits_and_acknowledgement():
    assert render_notice.acks_late is True
    assert render_notice.reject_on_worker_lost is True
    assert render_notice.soft_time_limit == settings.NOTICE_SOFT_TIME_LIMIT
    assert render_notice.time_limit == settings.NOTICE_TIME_LIMIT > render_notice.soft_time_limit
    assert settings.CELERY_WORKER_MAX_TASKS_PER_CHILD >= 1
    assert settings.CELERY_WORKER_MAX_MEMORY_PER_CHILD >= 1
    assert "sweep-notice-outbox" in settings.CELERY_BEAT_SCHEDULE


def test_backoff_grows_and_is_capped():
    assert [notices.backoff_seconds(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert notices.backoff_seconds(30) == 600


# --- Broker down: the outbox and the sweep --------------------------------------------------------


def test_approvals_succeed_with_the_broker_down_and_the_sweep_sends_later(
    catalogue, crew, capture, monkeypatch
):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:9. Connection refused.")

    applications = [make_application() for _ in range(3)]
    monkeypatch.setattr(render_notice, "apply_async", broker_down)
    for application in applications:
        approve(application, crew, capture)
    assert Award.objects.filter(status=Award.Status.FIXED).count() == 3
    assert NoticeOutbox.objects.filter(enqueued_at__isnull=True).count() == 3
    assert not Notice.objects.filter(status=Notice.Status.READY).exists()
    assert notices.sweep_outbox(grace_seconds=0) == 0  # still down: nothing sent, nothing lost
    monkeypatch.undo()
    with capture(execute=True):
        assert notices.sweep_outbox(grace_seconds=0) == 3
    assert Notice.objects.filter(status=Notice.Status.READY).count() == 3
    assert notices.sweep_outbox(grace_seconds=0) == 0
    assert Notice.objects.count() == 3
    assert len(set(Notice.objects.values_list("number", flat=True))) == 3


def test_sweep_waits_for_fresh_jobs_and_resends_stale_ones(submitted, crew, capture, settings):
    notice = approve(submitted, crew, capture, execute=False)
    assert notices.sweep_outbox() == 0  # just written: its on_commit enqueue may be under way
    NoticeOutbox.objects.filter(pk=notice.outbox.pk).update(
        enqueued_at=timezone.now() - timedelta(seconds=settings.NOTICE_STALE_SECONDS + 1)
    )
    with capture(execute=True):
        assert notices.sweep_outbox() == 1
    notice.refresh_from_db()
    assert notice.status == Notice.Status.READY


def test_sweep_gives_up_after_the_last_attempt(submitted, crew, capture, settings):
    notice = approve(submitted, crew, capture, execute=False)
    NoticeOutbox.objects.filter(pk=notice.outbox.pk).update(
        attempts=settings.NOTICE_MAX_ATTEMPTS, enqueued_at=timezone.now() - timedelta(days=1)
    )
    assert notices.sweep_outbox() == 0
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED
    assert "attempts" in notice.error


def test_the_task_gives_up_after_the_last_attempt(submitted, crew, capture, settings):
    notice = approve(submitted, crew, capture, execute=False)
    NoticeOutbox.objects.filter(pk=notice.outbox.pk).update(attempts=settings.NOTICE_MAX_ATTEMPTS)
    assert render_notice.apply(args=[notice.outbox.pk]).get() == "skipped"
    notice.refresh_from_db()
    assert notice.status == Notice.Status.FAILED


# --- Safe rendering -------------------------------------------------------------------------------


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint asks the fetcher for."""
    urls: list[str] = []
    real = pdf.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        urls.append(url)
        return real(self, url, headers)

    monkeypatch.setattr(pdf.StaticOnlyFetcher, "fetch", spy)
    pdf._stylesheet.cache_clear()
    yield urls
    pdf._stylesheet.cache_clear()


@pytest.mark.real_pdf
def test_hostile_text_is_shown_as_text_and_fetches_nothing(
    catalogue, crew, capture, fetched, monkeypatch
):
    monkeypatch.setattr(
        "urllib.request.OpenerDirector.open",
        lambda *a, **k: pytest.fail("WeasyPrint opened a URL"),
    )
    enterprise = make_enterprise(HOSTILE_NAME)
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    make_hostile(application)
    advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    poison_trace(Award.objects.get(application=application), HOSTILE_FACT)
    with capture(execute=True):
        advance(application, State.APPROVED, crew=crew)
    notice = Notice.objects.get(application=application)
    assert notice.status == Notice.Status.READY, notice.error
    assert notice.enterprise_name == HOSTILE_NAME
    for language in notices.LANGUAGES:
        data = stored(notice, language)
        text = pdf_text(data).replace("\n", "")
        assert "<img src=file:///etc/passwd>" in text
        assert "<link rel=attachment href=file:///etc/hostname>" in text
        assert "@import url(http://127.0.0.1:9/)" in text
        assert not pdf_has_attachments(data)
        assert b"/EmbeddedFile" not in data
    # Only the portal's stylesheet was read; none of the hostile URLs was even asked for.
    assert all(pdf.static_path(url) for url in fetched), fetched
    for url in fetched:
        assert "passwd" not in url and "hostname" not in url and "127.0.0.1" not in url


def test_the_html_escapes_every_applicant_value(notice):
    notice.enterprise_name = HOSTILE_NAME
    html = pdf.render_html(notice, "zh")
    assert "<img src=file:///etc/passwd>" not in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///etc/hostname",
        "file://localhost/etc/passwd",
        "file://evil.example/share/x.css",
        "http://127.0.0.1:9/",
        "https://example.com/x.css",
        "data:text/css,body{}",
        "ftp://127.0.0.1/x",
        "portal-static:pdf/notice.css",
    ],
    ids=lambda u: u.split(":")[0] + ":" + u[-12:],
)
def test_fetcher_refuses_anything_but_static_files(url):
    with pytest.raises(pdf.FetchRefused):
        pdf.StaticOnlyFetcher().fetch(url)


def test_fetcher_refuses_traversal_and_media_paths(settings, tmp_path):
    static = Path(settings.STATICFILES_DIRS[0]).resolve()
    assert pdf.static_path((static / "pdf" / "notice.css").as_uri())
    assert pdf.static_path(f"file://{static}/pdf/../../manage.py") is None
    assert pdf.static_path(f"file://{static}/pdf/%2e%2e/%2e%2e/manage.py") is None
    media = Path(settings.MEDIA_ROOT)
    media.mkdir(parents=True, exist_ok=True)
    (media / "other.pdf").write_bytes(b"%PDF-")
    assert pdf.static_path((media / "other.pdf").as_uri()) is None


def test_fetcher_refuses_a_symlink_out_of_the_static_directory(settings, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("body{}")
    (static / "leak.css").symlink_to("/etc/hostname")
    settings.STATICFILES_DIRS = [static]
    assert pdf.static_path((static / "ok.css").as_uri()) == (static / "ok.css").resolve()
    assert pdf.static_path((static / "leak.css").as_uri()) is None
    response = pdf.StaticOnlyFetcher().fetch((static / "ok.css").as_uri())
    assert response.read() == b"body{}"


# --- HarfBuzz's subsetter -------------------------------------------------------------------------


def test_harfbuzz_subsetter_is_installed_here():
    assert pdf.harfbuzz_subset_available()


def test_worker_refuses_to_start_without_the_subsetter(monkeypatch, settings):
    from celery.signals import worker_init

    from reviews.tasks import _check_harfbuzz_subset

    assert any(ref() is _check_harfbuzz_subset for _key, ref in worker_init.receivers)
    monkeypatch.setattr(pdf, "harfbuzz_subset_available", lambda: False)
    settings.NOTICE_REQUIRE_HARFBUZZ_SUBSET = True
    with pytest.raises(SystemExit):  # WorkerTerminate: passes through Celery's signal dispatch
        _check_harfbuzz_subset()


def test_worker_warns_loudly_when_allowed_without_the_subsetter(monkeypatch, settings, caplog):
    monkeypatch.setattr(pdf, "harfbuzz_subset_available", lambda: False)
    settings.NOTICE_REQUIRE_HARFBUZZ_SUBSET = False
    with caplog.at_level(logging.ERROR, logger="reviews.pdf"):
        pdf.check_harfbuzz_subset()
    assert "libharfbuzz-subset.so.0 is missing" in caplog.text


# --- Downloads ------------------------------------------------------------------------------------


def test_member_downloads_the_pdf_as_an_attachment(notice, member, client_for):
    response = client_for(member).get(reverse("notices:download", args=[notice.pk, "zh"]))
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == notice.sha256_zh
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action="notice.download", actor=member).count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("member", 200),
        ("other_enterprise", 404),
        ("outsider", 404),
        (Role.COMMERCE_REVIEWER, 200),
        (Role.FINANCE_REVIEWER, 200),
        (Role.APPROVAL_REGISTRAR, 200),
        (Role.AUDITOR, 200),
        (Role.DISBURSEMENT_OFFICER, 200),
        (Role.CO_REVIEWER, 404),
        (Role.SYSTEM_ADMINISTRATOR, 404),
    ],
    ids=str,
)
def test_download_permission_matrix(notice, member, outsider, client, who, status):
    if who == "member":
        user = member
    elif who == "outsider":
        user = outsider
    elif who == "other_enterprise":
        user = make_member(make_enterprise())
    else:
        user = make_staff(who)
    client.force_login(user)
    for language in notices.LANGUAGES:
        response = client.get(reverse("notices:download", args=[notice.pk, language]))
        assert response.status_code == status


def test_download_refuses_anonymous_unknown_language_and_pending(
    submitted, crew, capture, member, client
):
    pending = approve(submitted, crew, capture, execute=False)
    url = reverse("notices:download", args=[pending.pk, "zh"])
    assert client.get(url).status_code == 302
    client.force_login(member)
    assert client.get(url).status_code == 404  # not rendered yet
    assert client.get(reverse("notices:download", args=[pending.pk, "fr"])).status_code == 404
    assert client.get(reverse("notices:download", args=[999999, "zh"])).status_code == 404


# --- Staff ----------------------------------------------------------------------------------------


def test_staff_list_shows_failures_with_a_retry_button(
    submitted, crew, capture, monkeypatch, client_for, django_assert_max_num_queries
):
    monkeypatch.setattr(pdf, "write_pdf", lambda html: 1 / 0)
    notice = approve(submitted, crew, capture)
    for _ in range(3):
        approve(make_application(), crew, capture)
    client = client_for(crew.registrar)
    with django_assert_max_num_queries(15):
        page = client.get(reverse("notices:staff_list"), {"status": "failed"})
    html = page.content.decode()
    assert 'data-failed-count="4"' in html
    assert "ZeroDivisionError" in html
    assert reverse("notices:retry", args=[notice.pk]) in html
    monkeypatch.undo()
    with capture(execute=True):
        response = client.post(reverse("notices:retry", args=[notice.pk]))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.status == Notice.Status.READY


def test_auditor_sees_the_list_but_no_buttons(notice, client_for):
    page = client_for(make_staff(Role.AUDITOR)).get(reverse("notices:staff_list"))
    assert page.status_code == 200
    assert notice.number in page.content.decode()
    assert b"data-retry" not in page.content
    assert reverse("notices:regenerate", args=[notice.pk]).encode() not in page.content


def test_applicant_and_outsider_cannot_use_staff_pages(notice, member, outsider, client):
    for user in (member, outsider):
        client.force_login(user)
        assert client.get(reverse("notices:staff_list")).status_code == 403
        assert client.post(reverse("notices:retry", args=[notice.pk])).status_code == 403
        assert client.post(reverse("notices:regenerate", args=[notice.pk])).status_code == 403
    client.logout()
    assert client.get(reverse("notices:staff_list")).status_code == 302
    # Refused means nothing happened: no new version, no new render attempt, no audit event.
    assert Notice.objects.filter(award=notice.award).count() == 1
    assert NoticeOutbox.objects.get(notice=notice).attempts == 1
    assert not AuditEvent.objects.filter(action__in=["notice.retry", "notice.regenerate"]).exists()


def test_regenerating_issues_a_new_version_and_supersedes_the_old(notice, crew, capture, client):
    client.force_login(crew.registrar)
    with capture(execute=True):
        response = client.post(reverse("notices:regenerate", args=[notice.pk]))
    assert response.status_code == 302
    new = Notice.objects.get(award=notice.award, version=2)
    notice.refresh_from_db()
    assert new.status == Notice.Status.READY
    assert new.number.endswith("0002号") and new.number != notice.number
    assert new.created_by == crew.registrar
    assert notice.superseded_by == new and notice.is_superseded
    assert notice.status == Notice.Status.READY  # still verifiable
    event = AuditEvent.objects.get(action="notice.regenerate")
    assert event.actor == crew.registrar and event.data["replaces"] == notice.number
    old_page = client.get(reverse("notices:verify", args=[notice.code]))
    assert b'data-state="superseded"' in old_page.content
    assert new.number in old_page.content.decode()
    new_page = client.get(reverse("notices:verify", args=[new.code]))
    assert b'data-state="valid"' in new_page.content
    assert notice.application.approval_notices.shown() == new
    with pytest.raises(notices.NoticeError):
        notices.notice_regenerate(user=crew.registrar, notice=notice)  # superseded already


# --- Verification ---------------------------------------------------------------------------------


def test_verification_page_is_public_and_shows_the_facts(notice, client):
    page = client.get(reverse("notices:verify", args=[notice.code]))
    html = page.content.decode()
    assert page.status_code == 200
    for expected in (
        notice.number,
        notice.enterprise_name,
        "M05",
        "100,000.00",
        notice.sha256_zh,
        notice.sha256_en,
        'data-state="valid"',
    ):
        assert expected in html
    assert pdf.verification_url(notice).endswith(f"/verify/{notice.code}/")


@pytest.mark.parametrize("code", ["HSKB-2026-9999", "XXXX-2026-0001", "nonsense", "HSKB-20x6-1"])
def test_unknown_number_answers_404(notice, client, code):
    assert client.get(reverse("notices:verify", args=[code])).status_code == 404


def test_the_verification_code_is_random_while_the_printed_number_stays_sequential(notice, client):
    from reviews.models.notices import VERIFICATION_ALPHABET

    assert notice.number.endswith("0001号")  # sequential, as printed
    issuer, *groups = notice.code.split("-")
    assert issuer == "HSKB" and len(groups) == 5
    assert all(len(g) == 4 and set(g) <= set(VERIFICATION_ALPHABET) for g in groups)
    # Counting the numbers of the year finds nothing.
    for serial in range(1, 31):
        code = f"HSKB-{notice.year}-{serial:04d}"
        # From many addresses, so that the verification page's rate limit does not answer first.
        url = reverse("notices:verify", args=[code])
        assert client.get(url, REMOTE_ADDR=f"10.9.0.{serial}").status_code == 404
    # Typed from paper in lower case, it still verifies.
    page = client.get(reverse("notices:verify", args=[notice.code.lower()]))
    assert page.status_code == 200 and notice.number in page.content.decode()


def test_verification_codes_do_not_repeat():
    from reviews.models.notices import new_verification_code

    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000


def test_a_pending_notice_is_not_verifiable_yet(submitted, crew, capture, client):
    pending = approve(submitted, crew, capture, execute=False)
    assert client.get(reverse("notices:verify", args=[pending.code])).status_code == 404


def _upload(client, notice, data: bytes, name: str = "notice.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("notices:verify", args=[notice.code]),
        {"file": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


@pytest.mark.parametrize("language", notices.LANGUAGES)
def test_the_genuine_pdf_matches(notice, client, language):
    response = _upload(client, notice, stored(notice, language))
    assert response.status_code == 200
    assert b'data-match="yes"' in response.content


def test_a_modified_pdf_does_not_match(notice, client):
    data = bytearray(stored(notice, "zh"))
    data[len(data) // 2] ^= 0x01
    response = _upload(client, notice, bytes(data))
    assert b'data-match="no"' in response.content
    assert hashlib.sha256(bytes(data)).hexdigest().encode() in response.content


def test_the_upload_is_never_stored(notice, client, settings):
    media = Path(settings.MEDIA_ROOT)
    before = sorted(p for p in media.rglob("*"))
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # would otherwise spill to a temporary file
    temp = Path(settings.FILE_UPLOAD_TEMP_DIR or "/tmp")
    temp_before = set(temp.glob("*.upload*"))
    _upload(client, notice, stored(notice, "zh"))
    assert sorted(p for p in media.rglob("*")) == before
    assert set(temp.glob("*.upload*")) == temp_before


def test_a_too_large_upload_is_refused(notice, client, settings):
    settings.NOTICE_VERIFY_MAX_BYTES = 2048
    response = _upload(client, notice, b"%PDF-" + b"0" * 4096)
    assert response.status_code == 413
    response = _upload(client, notice, b"%PDF-" + b"0" * 200_000)
    assert response.status_code == 413
    assert b"data-error" in response.content


def test_verification_without_a_file_asks_for_one(notice, client):
    response = client.post(reverse("notices:verify", args=[notice.code]), {})
    assert response.status_code == 400


def test_verification_post_is_csrf_protected(notice):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = _upload(strict, notice, stored(notice, "zh"))
    assert response.status_code == 403
    strict.get(reverse("notices:verify", args=[notice.code]))
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = strict.post(
        reverse("notices:verify", args=[notice.code]),
        {"file": SimpleUploadedFile("n.pdf", stored(notice, "zh")), "csrfmiddlewaretoken": token},
    )
    assert b'data-match="yes"' in response.content


def test_amount_in_capitals_is_what_the_notice_uses():
    assert amount_in_capitals(Decimal("100000")) == "壹拾万元整"
    assert amount_in_capitals(Decimal("10010")) == "壹万零壹拾元整"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_issues_get_consecutive_unique_numbers():
    import threading

    from django.db import connection

    barrier = threading.Barrier(12)
    outcomes: list = [None] * 12

    def issue(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                serial = notices.next_serial("CONC", 2026)
                if index % 4 == 0:
                    raise RuntimeError("this approval fails and rolls back")
            outcomes[index] = serial
        except RuntimeError:
            outcomes[index] = "rolled back"
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    committed = sorted(o for o in outcomes if isinstance(o, int))
    assert committed == list(range(1, 10))  # nine approvals, numbers 1-9: no gap, no repeat
    assert Counter.objects.get(series="notice:CONC", year=2026).last == 9
