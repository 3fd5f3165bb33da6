"""The auditor's dossier: who may have it, what the ZIP holds, its offline verification, its audit
event with the SHA-256, its expiry."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.dossier import verify
from reviews.models import Award, DossierJob
from reviews.services import finance
from reviews.services.dossier import DossierError, dossier_request, expire_dossiers

from .factories import (
    add_evidence,
    advance,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)

pytestmark = pytest.mark.django_db

# The evidence file as the dossier names it: number, document type, the name it was uploaded under.
EVIDENCE = "01-营业执照（或法人登记证书）-营业执照 2026.pdf"


@pytest.fixture(autouse=True)
def in_process_tasks():
    from hengyang_cbec.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def auditor():
    return make_staff(Role.AUDITOR, "auditor_zhou", full_name="周立（市审计局）")


@pytest.fixture
def supervisor():
    return make_staff(Role.FINANCE_SUPERVISOR, "supervisor_qian", full_name="钱程（市财政局）")


def disbursed_application(crew, capture, *, name="衡阳湘南跨境贸易有限公司"):
    """An application driven through every step to a recorded payment, with one evidence file."""
    enterprise = make_enterprise(name)
    application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
    add_evidence(application)
    with capture(execute=True):
        advance(application, State.APPROVED, crew=crew)
    award = Award.objects.get(application=application, status=Award.Status.FIXED)
    maker = make_staff(Role.DISBURSEMENT_OFFICER)
    checker = make_staff(Role.DISBURSEMENT_OFFICER)
    batch = finance.batch_create(user=maker, award_ids=[award.pk])
    batch = finance.batch_confirm(user=checker, batch=batch)
    finance.line_mark_paid(
        user=maker, line=batch.lines.get(), paid_on=date(2026, 11, 20), reference="BOC-20261120-1"
    )
    application.refresh_from_db()
    assert application.state == State.DISBURSED
    return application


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def disbursed(crew, capture):
    return disbursed_application(crew, capture)


def build(capture, user, **scope) -> DossierJob:
    with capture(execute=True):
        job = dossier_request(user=user, **scope)
    job.refresh_from_db()
    return job


def local_copy(job: DossierJob, tmp_path) -> str:
    path = tmp_path / "dossier.zip"
    with default_storage.open(job.file.name, "rb") as handle:
        path.write_bytes(handle.read())
    return str(path)


def test_a_dossier_of_a_disbursed_application_holds_the_whole_record(
    auditor, disbursed, capture, tmp_path
):
    job = build(capture, auditor, scope="application", application=disbursed)
    assert job.status == DossierJob.Status.READY and job.rows_total == 1
    path = local_copy(job, tmp_path)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        folder = f"applications/{disbursed.reference}"
        assert f"{folder}/summary.pdf" in names
        assert f"{folder}/record.json" in names
        assert f"{folder}/evidence/{EVIDENCE}" in names
        notices = [n for n in names if n.startswith(f"{folder}/notices/")]
        assert len(notices) == 2 and all(n.endswith(".pdf") for n in notices)
        assert "audit/events.jsonl" in names and "index.csv" in names
        # The manifest names every other file with its SHA-256, computed here again.
        listed = {entry["path"]: entry for entry in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        for name, entry in listed.items():
            assert hashlib.sha256(archive.read(name)).hexdigest() == entry["sha256"]
        record = json.loads(archive.read(f"{folder}/record.json"))
        events = [json.loads(line) for line in archive.read("audit/events.jsonl").splitlines()]
    assert manifest["scope"] == {
        "kind": "application",
        "label": disbursed.reference,
        "application_id": disbursed.pk,
    }
    assert manifest["built_by"] == "周立（市审计局）"
    # The record: verified figures with who verified them, the trace with its versions, the
    # decisions, the approval, the notice numbers and the payment.
    fact = next(f for f in record["facts"] if f["name"] == "cbec_export_volume_usd")
    assert fact["declared"] == "600,000.00 美元" and fact["verified_by"]
    assessment = record["assessments"][0]
    assert assessment["rules_version"] and assessment["policy_version"] == "HY-CBEC-2025"
    assert assessment["trace"]
    assert [d["action_code"] for d in record["decisions"]][:2] == ["take", "recommend"]
    assert record["awards"][0]["approval_number"].startswith("衡政函〔2026〕")
    assert record["notices"][0]["number"]
    payment = record["payments"][0]
    assert payment["paid_on"] == "2026-11-20" and payment["bank_reference"] == "BOC-20261120-1"
    # The audit events of the application are there in full, with their chain hashes.
    full = [e for e in events if "event" in e]
    expected = AuditEvent.objects.filter(application_id=disbursed.pk, pk__lte=events[-1]["id"])
    assert [e["id"] for e in full] == list(expected.order_by("pk").values_list("pk", flat=True))
    assert all(e["hash"] == AuditEvent.objects.get(pk=e["id"]).hash for e in full)


def test_the_offline_check_passes_on_an_intact_dossier(
    auditor, disbursed, capture, tmp_path, settings
):
    job = build(capture, auditor, scope="application", application=disbursed)
    path = local_copy(job, tmp_path)
    report = verify.verify(path, keys=dict(settings.AUDIT_HMAC_KEYS), sha256=job.sha256)
    assert report.ok, report.problems
    assert report.events >= 10 and report.hmac_checked == report.events
    # Without the key the hashes and links are still checked; the HMACs are said to be skipped.
    report = verify.verify(path)
    assert report.ok and report.hmac_checked == 0 and "HMACs not checked" in report.notes[0]


def test_the_management_command_names_what_is_intact(auditor, disbursed, capture, tmp_path):
    job = build(capture, auditor, scope="application", application=disbursed)
    out = io.StringIO()
    call_command("verify_dossier", local_copy(job, tmp_path), "--sha256", job.sha256, stdout=out)
    assert "OK: the dossier is intact" in out.getvalue()


def rewrite(path: str, change) -> str:
    """A copy of the ZIP with `change(name, data) -> data` applied to each member."""
    target = path.replace(".zip", "-tampered.zip")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            out.writestr(info.filename, change(info.filename, source.read(info.filename)))
    return target


def test_a_changed_evidence_file_fails_naming_the_file(auditor, disbursed, capture, tmp_path):
    job = build(capture, auditor, scope="application", application=disbursed)
    evidence = f"applications/{disbursed.reference}/evidence/{EVIDENCE}"
    tampered = rewrite(
        local_copy(job, tmp_path),
        lambda name, data: data + b"%% appended" if name == evidence else data,
    )
    report = verify.verify(tampered)
    assert report.problems == [f"file changed (SHA-256 differs): {evidence}"]
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_dossier", tampered, stdout=out)
    assert "FAILED: file changed (SHA-256 differs)" in out.getvalue()


def test_a_changed_event_fails_naming_the_event_even_with_a_fixed_manifest(
    auditor, disbursed, capture, tmp_path, settings
):
    job = build(capture, auditor, scope="application", application=disbursed)
    path = local_copy(job, tmp_path)
    with zipfile.ZipFile(path) as archive:
        rows = [json.loads(line) for line in archive.read("audit/events.jsonl").splitlines()]
    victim = next(row for row in rows if "event" in row and '"review.commit"' in row["event"])
    forged_rows = []
    for row in rows:
        if row["id"] == victim["id"]:
            row = {**row, "event": row["event"].replace('"100000.00"', '"900000.00"')}
        forged_rows.append(json.dumps(row, ensure_ascii=False))
    forged = ("\n".join(forged_rows) + "\n").encode()

    def change(name, data):
        if name == "audit/events.jsonl":
            return forged
        if name == "manifest.json":  # the forger fixes the manifest too
            manifest = json.loads(data)
            for entry in manifest["files"]:
                if entry["path"] == "audit/events.jsonl":
                    entry.update(sha256=hashlib.sha256(forged).hexdigest(), size=len(forged))
            return json.dumps(manifest).encode()
        return data

    assert victim["event"] != forged_rows[rows.index(victim)]
    tampered = rewrite(path, change)
    report = verify.verify(tampered, keys=dict(settings.AUDIT_HMAC_KEYS))
    assert report.problems == [f"audit event {victim['id']}: its content does not match its hash"]
    # The ZIP as a whole no longer has the SHA-256 the audit log recorded.
    report = verify.verify(tampered, sha256=job.sha256)
    assert "the ZIP's SHA-256 differs from the one given" in report.problems


def test_a_removed_event_breaks_the_chain(auditor, disbursed, capture, tmp_path):
    job = build(capture, auditor, scope="application", application=disbursed)
    path = local_copy(job, tmp_path)
    with zipfile.ZipFile(path) as archive:
        lines = archive.read("audit/events.jsonl").splitlines()
    removed = json.loads(lines[1])
    kept = b"\n".join(lines[:1] + lines[2:]) + b"\n"

    def change(name, data):
        if name == "audit/events.jsonl":
            return kept
        if name == "manifest.json":
            manifest = json.loads(data)
            for entry in manifest["files"]:
                if entry["path"] == "audit/events.jsonl":
                    entry.update(sha256=hashlib.sha256(kept).hexdigest(), size=len(kept))
            return json.dumps(manifest).encode()
        return data

    report = verify.verify(rewrite(path, change))
    following = json.loads(lines[2])["id"]
    assert f"audit event {following}: the link to the previous event is broken" in report.problems
    assert removed["id"] != following
    # Cutting the first event off is seen too: the excerpt starts elsewhere than the manifest says.
    kept = b"\n".join(lines[1:]) + b"\n"
    report = verify.verify(rewrite(path, change))
    second = json.loads(lines[1])["id"]
    assert f"audit event {second}: the excerpt does not start where the manifest says" in (
        report.problems
    )


def test_the_dossier_is_an_audit_event_with_its_row_count_and_sha256(
    auditor, disbursed, capture, tmp_path
):
    job = build(capture, auditor, scope="application", application=disbursed)
    built = AuditEvent.objects.get(action="dossier.built", object_id=str(job.pk))
    with default_storage.open(job.file.name, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    assert built.data["sha256"] == digest == job.sha256
    assert built.data["rows"] == 1 and built.actor == auditor
    assert built.actor_role == Role.AUDITOR
    assert AuditEvent.objects.filter(action="dossier.request", object_id=str(job.pk)).exists()


def test_a_measure_year_dossier_covers_every_submitted_application(
    supervisor, crew, capture, tmp_path
):
    first = disbursed_application(crew, capture, name="衡阳一号跨境电商有限公司")
    second = make_application(year=2026)
    make_application(year=2025)  # another year
    make_application(year=2026, state=State.DRAFT)  # drafts are nobody's record yet
    job = build(capture, supervisor, scope="measure_year", measure_code="M05", year=2026)
    assert job.status == DossierJob.Status.READY and job.rows_total == 2
    path = local_copy(job, tmp_path)
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        index = archive.read("index.csv").decode("utf-8-sig").splitlines()
    assert sorted(a["reference"] for a in manifest["applications"]) == sorted(
        [first.reference, second.reference]
    )
    assert len(index) == 3 and "100000.00" in next(r for r in index if first.reference in r)
    assert verify.verify(path).ok


def test_a_batch_dossier_covers_the_batch(auditor, disbursed, capture):
    batch = disbursed.awards.get().disbursement_line.batch
    job = build(capture, auditor, scope="batch", batch=batch)
    assert job.status == DossierJob.Status.READY and job.rows_total == 1
    assert job.label == batch.number


def test_a_scope_without_applications_is_refused(auditor, catalogue):
    with pytest.raises(DossierError, match="No submitted application"):
        dossier_request(user=auditor, scope="measure_year", measure_code="M05", year=2031)


def test_others_may_not_ask_for_a_dossier(disbursed, crew):
    with pytest.raises(DossierError, match="Only auditors and finance supervisors"):
        dossier_request(user=crew.finance, scope="application", application=disbursed)


def test_an_expired_dossier_is_deleted_and_its_page_says_so(
    auditor, disbursed, capture, client, settings
):
    job = build(capture, auditor, scope="application", application=disbursed)
    name = job.file.name
    client.force_login(auditor)
    response = client.get(reverse("reviews:dossier_download", args=[job.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert AuditEvent.objects.filter(action="dossier.download", object_id=str(job.pk)).exists()
    DossierJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    # Until beat runs, the page already refuses it.
    response = client.get(reverse("reviews:dossier_download", args=[job.pk]))
    assert response.status_code == 410
    assert expire_dossiers() == 1
    assert not default_storage.exists(name)
    job.refresh_from_db()
    assert job.status == DossierJob.Status.EXPIRED and not job.file
    response = client.get(reverse("reviews:dossier_job", args=[job.pk]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "该审计档案已过期" in page and "期满后文件已按规定删除" in page


def test_the_summary_pdf_reads_in_chinese_with_the_english_beside(
    auditor, disbursed, capture, tmp_path
):
    import shutil
    import subprocess
    from pathlib import Path

    from .test_notices import pdf_text

    job = build(capture, auditor, scope="application", application=disbursed)
    with zipfile.ZipFile(local_copy(job, tmp_path)) as archive:
        data = archive.read(f"applications/{disbursed.reference}/summary.pdf")
        manifest = archive.read("manifest.json")
    text = pdf_text(data)
    for expected in (
        "审计档案摘要",
        "衡阳湘南跨境贸易有限公司",
        "申报数据与核实",
        "规则版本",
        "HY-CBEC-2025",
        "审核决定",
        "公示与异议",
        "衡政函〔2026〕",
        "BOC-20261120-1",
        "100,000.00 元",
        "Declared and verified figures",
    ):
        assert expected in text, expected
    # For a person to look at: var/screenshots/dossier/summary-1.png (when poppler is installed).
    if shutil.which("pdftoppm"):
        target = Path("var/screenshots/dossier")
        target.mkdir(parents=True, exist_ok=True)
        (target / "summary.pdf").write_bytes(data)
        (target / "manifest.json").write_bytes(manifest)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "70", str(target / "summary.pdf"), str(target / "summary")],
            check=True,
            timeout=60,
        )
        assert list(target.glob("summary-*.png"))


ALLOWED = (Role.AUDITOR, Role.FINANCE_SUPERVISOR)


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_permission_matrix_only_auditors_and_finance_supervisors(client, catalogue, role):
    client.force_login(make_staff(role))
    page = client.get(reverse("reviews:dossiers"))
    asked = client.post(
        reverse("reviews:dossiers"),
        {"scope": "measure_year", "measure": "M05", "year": "2026"},
    )
    if role in ALLOWED:
        assert page.status_code == 200
        # No application yet: a form error in the page, not a dossier and not a 500.
        assert asked.status_code == 400 and not DossierJob.objects.exists()
    else:
        assert page.status_code == 403 and asked.status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client, catalogue):
    response = client.get(reverse("reviews:dossiers"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_dossier_is_its_requesters_only(auditor, disbursed, capture, client):
    job = build(capture, auditor, scope="application", application=disbursed)
    client.force_login(make_staff(Role.AUDITOR, "another_auditor"))
    assert client.get(reverse("reviews:dossier_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("reviews:dossier_download", args=[job.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="dossier.download").exists()


def test_the_form_names_a_wrong_reference_in_chinese(auditor, client, catalogue):
    client.force_login(auditor)
    response = client.post(
        reverse("reviews:dossiers"), {"scope": "application", "reference": "HY-CBEC-2026-0"}
    )
    assert response.status_code == 400
    assert "没有该编号的已提交申报。" in response.content.decode()


def test_the_demo_gives_the_auditor_a_ready_dossier_once(catalogue, capture):
    from hengyang_cbec.accounts.demo import seed_accounts
    from reviews import demo

    seed_accounts()
    with capture(execute=True):
        demo.seed()
        demo.seed_disbursements()
        demo.seed_dossiers()
        demo.seed_dossiers()
    job = DossierJob.objects.get()
    assert job.requested_by.username == "auditor" and job.status == DossierJob.Status.READY
    assert job.application.state == State.DISBURSED


@pytest.mark.parametrize("role", [Role.FINANCE_REVIEWER, Role.DISBURSEMENT_OFFICER])
def test_a_finance_supervisor_holds_no_reviewing_or_finance_role(supervisor, role):
    from django.contrib.auth.models import Group
    from django.core.exceptions import ValidationError
    from django.db import transaction

    with pytest.raises(ValidationError, match="finance supervisor"), transaction.atomic():
        supervisor.groups.add(Group.objects.get(name=role.value))
    reviewer = make_staff(role)
    with pytest.raises(ValidationError, match="finance supervisor"), transaction.atomic():
        reviewer.groups.add(Group.objects.get(name=Role.FINANCE_SUPERVISOR.value))


def test_objections_are_in_the_record_and_their_clean_files_in_the_zip(
    auditor, disbursed, capture, tmp_path
):
    from django.core.files.base import ContentFile

    from reviews.models import Objection, PublicNoticeItem
    from reviews.models.publicity import ScanState

    item = PublicNoticeItem.objects.get(application=disbursed)
    stored = default_storage.save("objections/test/1.pdf", ContentFile(b"%PDF-1.4 objection"))
    common = {"item": item, "application": disbursed, "author": make_member(disbursed.enterprise)}
    Objection.objects.create(
        **common,
        real_name="赵六",
        contact="13900000000",
        text="该企业出口额有误。",
        file=stored,
        file_name="举报材料.pdf",
        scan_state=ScanState.CLEAN,
        status=Objection.Status.DISMISSED,
        resolution="经核实，出口额无误。",
    )
    Objection.objects.create(
        **common,
        real_name="钱七",
        contact="13900000001",
        text="附件未通过查毒。",
        file=default_storage.save("objections/test/2.pdf", ContentFile(b"X5O!P%@AP")),
        file_name="infected.pdf",
        scan_state=ScanState.INFECTED,
    )
    job = build(capture, auditor, scope="application", application=disbursed)
    with zipfile.ZipFile(local_copy(job, tmp_path)) as archive:
        names = archive.namelist()
        record = json.loads(archive.read(f"applications/{disbursed.reference}/record.json"))
    files = [n for n in names if "/objections/" in n]
    assert len(files) == 1 and files[0].endswith("举报材料.pdf")  # never the infected one
    texts = {o["text"]: o for o in record["objections"]}
    assert texts["该企业出口额有误。"]["resolution"] == "经核实，出口额无误。"
    assert texts["该企业出口额有误。"]["status"]["en"] == "Dismissed"


def stored_dossiers(folder: str = "dossiers") -> set[str]:
    """Every file under the dossiers' folder of the storage."""
    if not default_storage.exists(folder):
        return set()
    folders, files = default_storage.listdir(folder)
    found = {f"{folder}/{name}" for name in files}
    for sub in folders:
        found |= stored_dossiers(f"{folder}/{sub}")
    return found


def test_a_failed_build_is_marked_failed_and_leaves_no_file(
    auditor, disbursed, capture, monkeypatch, client
):
    import contextlib

    from reviews.dossier import writer

    def broken(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(writer, "summary_pdf", broken)
    before = stored_dossiers()
    with contextlib.suppress(RuntimeError), capture(execute=True):
        job = dossier_request(user=auditor, scope="application", application=disbursed)
    job = DossierJob.objects.get()
    assert job.status == DossierJob.Status.FAILED and "renderer crashed" in job.error
    assert stored_dossiers() == before
    client.force_login(auditor)
    page = client.get(reverse("reviews:dossier_job", args=[job.pk])).content.decode()
    assert "审计档案未能生成。请重新调取" in page
    assert not AuditEvent.objects.filter(action="dossier.built").exists()


def test_the_progress_is_polled_as_a_fragment(auditor, disbursed, client):
    job = DossierJob.objects.create(
        scope="application", application=disbursed, requested_by=auditor, rows_total=1
    )
    client.force_login(auditor)
    response = client.get(reverse("reviews:dossier_job", args=[job.pk]), HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="dossier-progress" data-dossier-status="pending"')
    assert "hx-trigger" in fragment and "<html" not in fragment


def test_the_standalone_script_needs_only_the_standard_library(
    auditor, disbursed, capture, tmp_path, settings
):
    import subprocess
    import sys
    from pathlib import Path

    job = build(capture, auditor, scope="application", application=disbursed)
    path = local_copy(job, tmp_path)
    script = Path(verify.__file__)
    key_id, secret = next(iter(settings.AUDIT_HMAC_KEYS.items()))
    keys = tmp_path / "keys"
    keys.write_text(f"{key_id}={secret}")
    # -I -S: isolated, no site-packages (so no Django), run from elsewhere.
    command = [sys.executable, "-I", "-S", str(script), path, "--keys-file", str(keys)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK: the dossier is intact" in done.stdout and ", 0 HMACs" not in done.stdout
    with zipfile.ZipFile(path) as archive:  # the copy inside the dossier is the same script
        assert archive.read("verify.py") == script.read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip")
    done = subprocess.run([*command[:4], str(broken)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_the_dossier_page_reads_in_english_too(auditor, client, catalogue):
    client.force_login(auditor)
    client.cookies["portal_language"] = "en"
    page = client.get(reverse("reviews:dossiers")).content.decode()
    assert "Ask for a dossier" in page and "can be downloaded for 24 hours" in page
    assert "For a disbursement batch, for example PB-2026-0001." in page
