"""The approval notice in the browser: the registrar records the government's approval, the
applicant downloads the notice from the application page and checks it on the public page."""

from __future__ import annotations

import hashlib

import pytest

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from reviews.models import Notice
from reviews.tests.factories import (
    Crew,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)
from reviews.tests.test_notices import pdf_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_process_tasks():
    """Embedded mode (tasks run in-process after commit) even when REDIS_URL is set."""
    from hengyang_cbec.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_the_applicant_downloads_the_notice_after_approval(
    page, live_server, login, catalogue, in_process_tasks, tmp_path, look
):
    enterprise = make_enterprise("衡阳湘南跨境贸易有限公司")
    make_member(enterprise, "enterprise")
    application = make_application(enterprise=enterprise)
    crew = Crew()
    crew._users[Role.APPROVAL_REGISTRAR] = make_staff(Role.APPROVAL_REGISTRAR, "registrar")
    advance(application, State.GOVERNMENT_APPROVAL, crew=crew)

    login("registrar")
    page.goto(f"{live_server.url}/staff/queue/registrar/?tab=to_approve")
    page.check(f"tr[data-application='{application.pk}'] input[name=applications]")
    page.fill("#id_document_number", "衡政函〔2026〕35号")
    page.fill("#id_document_date", "2026-11-20")
    page.click("[data-action=record_approval]")
    page.wait_for_load_state("networkidle")
    look("approval recorded")
    notice = Notice.objects.get(application=application)
    assert notice.status == Notice.Status.READY, notice.error

    page.context.clear_cookies()
    login("enterprise")
    page.goto(f"{live_server.url}/my/applications/{application.pk}/")
    box = page.locator("[data-approval-notice=ready]")
    assert notice.number in box.inner_text()
    look("applicant sees the notice")
    with page.expect_download() as download_info:
        box.locator("[data-download=zh]").click()
    zh_path = tmp_path / "notice-zh.pdf"
    download_info.value.save_as(zh_path)
    zh_text = pdf_text(zh_path.read_bytes())
    flat = "".join(zh_text.split())
    # Quotes inside quotes are single in Chinese; colons are full-width.
    assert "“支持跨境电商业务试点，推动‘衡阳产品出海’”" in flat
    assert "文件标识：" in flat and "文件标识:" not in flat
    assert "人民币100,000.00元" in flat
    with page.expect_download() as download_info:
        box.locator("[data-download=en]").click()
    download = download_info.value
    path = tmp_path / "notice.pdf"
    download.save_as(path)
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == notice.sha256_en
    assert download.suggested_filename.endswith(".pdf")
    text = pdf_text(data)
    assert notice.number in text and "壹拾万元整" in text

    # Anyone can check the file on the public page the QR code points at.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/verify/{notice.code}/")
    page.set_input_files("#verify-file", str(path))
    page.click("[data-action=verify]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-match=yes]").is_visible()
