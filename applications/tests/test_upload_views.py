"""The upload endpoint under attack (SECURITY.md 17–22): refused cleanly, nothing left behind."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import Evidence

from .factories import draft, pdf_bytes

pytestmark = pytest.mark.django_db

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def upload_url(client, enterprise, member, password):
    client.login(username=member.username, password=password)
    application = draft(enterprise, member)
    return reverse("applications:evidence_upload", args=[application.pk])


def padded_pdf(size: int) -> bytes:
    body = pdf_bytes()
    return body + b"%" + b"0" * (size - len(body) - 1)


def test_one_byte_over_the_limit_is_refused_and_no_temporary_file_is_left(
    client, upload_url, settings, tmp_path
):
    settings.UPLOAD_MAX_BYTES = 3 * 1024 * 1024
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    over = SimpleUploadedFile("big.pdf", padded_pdf(settings.UPLOAD_MAX_BYTES + 1))
    # The body is within the request allowance: the streaming handler stops at the limit.
    response = client.post(upload_url, {"document_type": "business_licence", "file": over})
    assert response.status_code == 413
    assert "最大为 3 MB" in response.content.decode()
    assert Evidence.objects.count() == 0
    assert list(tmp_path.iterdir()) == []
    exact = SimpleUploadedFile("ok.pdf", padded_pdf(settings.UPLOAD_MAX_BYTES))
    client.post(upload_url, {"document_type": "business_licence", "file": exact})
    assert Evidence.objects.count() == 1


class _UnreadableBody:
    """A request body that fails the test if anybody reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(
    client, upload_url, settings
):
    settings.UPLOAD_MAX_BYTES = 3 * 1024 * 1024
    response = client.post(
        upload_url,
        {"document_type": "business_licence", "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
        CONTENT_LENGTH=str(settings.UPLOAD_MAX_BYTES + 1024 * 1024 + 1),
        **{"wsgi.input": _UnreadableBody()},
    )
    assert response.status_code == 413
    assert Evidence.objects.count() == 0


def test_a_malformed_multipart_body_is_a_400_not_a_500(client, upload_url):
    response = client.generic(
        "POST",
        upload_url,
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n',
        content_type="multipart/form-data; boundary=",
    )
    assert response.status_code == 400
    assert Evidence.objects.count() == 0


def test_too_many_files_in_one_request_are_refused(client, upload_url, settings):
    files = [
        SimpleUploadedFile(f"f{n}.pdf", pdf_bytes())
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    ]
    response = client.post(upload_url, {"document_type": "business_licence", "file": files})
    assert response.status_code == 400
    assert Evidence.objects.count() == 0


def test_a_document_type_the_measure_does_not_ask_for_is_refused(client, upload_url):
    response = client.post(
        upload_url,
        {
            "document_type": "park_recognition_document",
            "file": SimpleUploadedFile("a.pdf", pdf_bytes()),
        },
        follow=True,
    )
    assert Evidence.objects.count() == 0
    assert "alert-danger" in response.content.decode()


def test_the_eicar_test_file_is_quarantined_and_never_served(
    client, upload_url, django_capture_on_commit_callbacks, eager_tasks
):
    # The EICAR string inside an otherwise valid PDF: the type check passes, the scanner flags it.
    infected = SimpleUploadedFile("scan.pdf", pdf_bytes() + b"\n%" + EICAR + b"\n")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(upload_url, {"document_type": "business_licence", "file": infected})
    evidence = Evidence.objects.get()
    assert evidence.scan_state == Evidence.ScanState.INFECTED
    url = reverse("applications:evidence_download", args=[evidence.application_id, evidence.pk])
    assert client.get(url).status_code == 404


def test_with_the_scanner_down_files_stay_pending(
    client, upload_url, settings, django_capture_on_commit_callbacks, eager_tasks
):
    settings.VIRUS_SCANNER = "clamd"
    settings.CLAMD_URL = "tcp://127.0.0.1:1"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            upload_url,
            {"document_type": "business_licence", "file": SimpleUploadedFile("a.pdf", pdf_bytes())},
        )
    evidence = Evidence.objects.get()
    assert evidence.scan_state == Evidence.ScanState.PENDING
    url = reverse("applications:evidence_download", args=[evidence.application_id, evidence.pk])
    assert client.get(url).status_code == 404


@pytest.mark.clamd
def test_with_a_real_clamd_the_eicar_upload_is_quarantined_and_a_clean_one_served(
    client, upload_url, settings, real_clamd, django_capture_on_commit_callbacks, eager_tasks
):
    settings.VIRUS_SCANNER = "clamd"
    settings.CLAMD_URL = real_clamd
    infected = SimpleUploadedFile("scan.pdf", pdf_bytes() + b"\n%" + EICAR + b"\n")
    clean = SimpleUploadedFile("clean.pdf", pdf_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(upload_url, {"document_type": "business_licence", "file": infected})
        client.post(upload_url, {"document_type": "business_licence", "file": clean})
    bad, good = Evidence.objects.order_by("pk")
    assert bad.scan_state == Evidence.ScanState.INFECTED
    assert good.scan_state == Evidence.ScanState.CLEAN
    bad_url = reverse("applications:evidence_download", args=[bad.application_id, bad.pk])
    good_url = reverse("applications:evidence_download", args=[good.application_id, good.pk])
    assert client.get(bad_url).status_code == 404
    assert client.get(good_url).status_code == 200
