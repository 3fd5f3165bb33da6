"""The auditor asks for the dossier of a paid application, reads the Chinese page, downloads the ZIP
and it verifies offline."""

from __future__ import annotations

import contextlib
import json
import zipfile

import pytest

from hengyang_cbec.accounts.roles import Role
from reviews.dossier import verify
from reviews.models import DossierJob
from reviews.tests.factories import Crew, make_staff
from reviews.tests.test_dossier import disbursed_application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_auditor_asks_for_a_dossier_reads_it_in_chinese_and_it_verifies(
    page, live_server, catalogue, login, password, tmp_path, look, settings, eager_tasks
):
    application = disbursed_application(
        Crew(), lambda execute: contextlib.nullcontext(), name="衡阳湘南跨境贸易有限公司"
    )
    make_staff(Role.AUDITOR, "zhouli", full_name="周立（市审计局）")

    login("zhouli", password)
    page.goto(f"{live_server.url}/staff/dossiers/")
    assert page.locator("h1").inner_text() == "审计档案"
    assert page.get_by_role("link", name="审计档案").first.is_visible()  # in the navigation
    look("dossier page")

    # A wrong reference is named in Chinese, and nothing is built.
    page.fill("#id_reference", "HY-CBEC-2026-404")
    page.click("#dossier-submit")
    assert "没有该编号的已提交申报。" in page.locator("#dossier-form").inner_text()
    assert not DossierJob.objects.exists()
    look("wrong reference")

    page.fill("#id_reference", application.reference)
    page.click("#dossier-submit")
    page.wait_for_selector("#dossier-progress[data-dossier-status=ready]", timeout=60_000)
    job = DossierJob.objects.get()
    text = page.locator("main").inner_text()
    assert f"审计档案 {application.reference}" in text
    assert "单个申报" in text
    assert job.sha256 in text and "可下载至" in text
    look("dossier ready")

    with page.expect_download() as info:
        page.click("#dossier-download")
    download = info.value
    assert download.suggested_filename == f"审计档案 {application.reference}.zip"
    path = tmp_path / "dossier.zip"
    download.save_as(path)
    report = verify.verify(str(path), keys=dict(settings.AUDIT_HMAC_KEYS), sha256=job.sha256)
    assert report.ok, report.problems
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["built_by"] == "周立（市审计局）"
    assert manifest["applications"][0]["reference"] == application.reference

    # The list of my dossiers shows it.
    page.goto(f"{live_server.url}/staff/dossiers/")
    row = page.locator(f"tr[data-dossier='{job.pk}']").inner_text()
    assert application.reference in row and "已生成" in row
    look("my dossiers")
