"""Files that leave the portal are audited, and objection files are held like evidence
(SECURITY.md 16, 22, 27, 33)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.scanning import EICAR
from applications.tests.factories import pdf_bytes
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import PublicNoticeItem
from reviews.models.publicity import ScanState
from reviews.services.publicity import notice_publish, objection_lodge
from reviews.tasks import rescan_pending_objection_files, scan_objection_file
from tests.factories import make_user

from .factories import advance, make_application, make_enterprise, make_member, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(crew):
    enterprise = make_enterprise("衡阳异议跨境电商有限公司")
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    advance(application, State.PUBLIC_NOTICE, crew=crew)
    notice_publish(user=crew.registrar, application_ids=[application.pk])
    return PublicNoticeItem.objects.get(application=application, status="listed")


def lodge(item, data: bytes, name="objection.pdf"):
    return objection_lodge(
        user=make_user(username=f"citizen{item.pk}{len(data)}"),
        item=item,
        real_name="赵六",
        contact="13800000001",
        text="存疑",
        upload=SimpleUploadedFile(name, data),
    )


def test_an_objection_file_is_downloadable_only_once_scanned_clean_and_the_download_is_audited(
    client, item, crew, password
):
    objection = lodge(item, pdf_bytes())
    assert objection.scan_state == ScanState.PENDING
    client.login(username=crew.commerce.username, password=password)
    url = reverse("reviews:objection_file", args=[objection.pk])
    assert client.get(url).status_code == 404  # not scanned yet: not even staff
    assert scan_objection_file.apply(args=[objection.pk]).get() == "clean"
    response = client.get(url, REMOTE_ADDR="10.2.3.4")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    event = AuditEvent.objects.get(action="review.objection_file_download")
    assert event.actor == crew.commerce and event.ip == "10.2.3.4"
    assert event.object_id == str(objection.pk) and event.application_id == item.application_id


def test_an_infected_objection_file_is_quarantined(client, item, crew, password, eager_tasks):
    objection = lodge(item, pdf_bytes() + b"\n%" + EICAR + b"\n")
    assert rescan_pending_objection_files.apply().get() == 1
    objection.refresh_from_db()
    assert objection.scan_state == ScanState.INFECTED
    client.login(username=crew.commerce.username, password=password)
    assert client.get(reverse("reviews:objection_file", args=[objection.pk])).status_code == 404
    page = client.get(reverse("reviews:review_detail", args=[item.application_id]))
    assert 'data-objection-scan="infected"' in page.content.decode()


def test_with_the_scanner_down_an_objection_file_stays_pending(item, settings):
    settings.VIRUS_SCANNER = "clamd"
    settings.CLAMD_URL = "tcp://127.0.0.1:1"
    objection = lodge(item, pdf_bytes())
    assert scan_objection_file.apply(args=[objection.pk]).get() == "pending"
    objection.refresh_from_db()
    assert objection.scan_state == ScanState.PENDING


def test_a_report_xlsx_export_is_audited_with_its_rows(client, password):
    finance = make_staff(Role.FINANCE_REVIEWER, "report-reader")
    client.login(username=finance.username, password=password)
    response = client.get(
        reverse("reviews:finance_report_export", args=["by_measure"]), {"year": "2026"}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="report.export")
    assert event.actor == finance
    assert event.data["table"] == "by_measure" and event.data["year"] == 2026
    assert isinstance(event.data["rows"], int)
