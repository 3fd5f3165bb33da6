"""Writing a dossier: a ZIP streamed into a file, one application at a time, so memory stays flat
whatever the number of applications.

Layout (each application under its reference):

    manifest.json                       SHA-256 and size of every other file, the scope, the chain
    说明 README.txt                      what is where and how to verify it
    verify.py                           the offline check (standard library only)
    index.csv                           one row per application
    applications/<ref>/summary.pdf      the record, in Chinese with the English beside it
    applications/<ref>/record.json      the same record as data
    applications/<ref>/evidence/…       every evidence file under a readable name
    applications/<ref>/notices/…        the approval notices' PDFs
    applications/<ref>/objections/…     the objections' files (scanned clean)
    audit/events.jsonl                  the audit chain from the first to the last event of the
                                        applications: their events in full, the others as links
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max, Min
from django.template.loader import render_to_string
from django.utils import timezone, translation

from applications.models import Application
from hengyang_cbec.audit.models import AuditEvent

from .record import application_record, evidence_of, notices_of, objection_files_of
from .verify import FORMAT, MANIFEST

CHUNK = 256 * 1024
STORED_SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".zip", ".xlsx", ".docx")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
STYLESHEET = "pdf/dossier.css"
README = """衡阳市跨境电商扶持资金审计档案 · Audit dossier of the Hengyang CBEC subsidy programme

manifest.json     每个文件的 SHA-256 与大小、档案范围、审计日志链摘录的起止。
                  SHA-256 and size of every file, the scope, the audit chain excerpt's ends.
index.csv         申报清单 / one row per application.
applications/     每个申报一个目录：summary.pdf（摘要）、record.json、evidence/（证明材料）、
                  notices/（批复通知书 PDF）。 One folder per application.
audit/events.jsonl  审计日志链摘录：本档案申报的事件全文，其间其他事件仅含链接哈希。
                  The audit chain excerpt: the applications' events in full, the others as links.

离线校验 Offline verification (Python 3, standard library only):
    python3 verify.py 本档案.zip [--key ID=密钥] [--sha256 审计日志记录的SHA-256]
verify.py 为方便起见随档案附带；可信副本见平台源代码 reviews/dossier/verify.py。
verify.py is included for convenience; the trusted copy is in the portal's source code.
"""


def safe_name(text: str, limit: int = 80) -> str:
    """A file or folder name any unzip tool accepts: no separators, no control characters."""
    name = _UNSAFE.sub("_", str(text)).strip(" .") or "_"
    if len(name) > limit:
        stem, dot, suffix = name.rpartition(".")
        name = (
            (stem[: limit - len(suffix) - 1] + dot + suffix)
            if dot and len(suffix) < 10
            else name[:limit]
        )
    return name


@dataclass
class Written:
    files: list[dict] = field(default_factory=list)
    applications: list[dict] = field(default_factory=list)
    events: int = 0
    links: int = 0
    manifest_sha256: str = ""


class DossierZip:
    """A ZIP whose members are hashed as they are written."""

    def __init__(self, handle) -> None:
        self.zip = zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.written = Written()
        self._names: set[str] = set()

    def _unique(self, path: str) -> str:
        candidate, n = path, 1
        while candidate in self._names:
            n += 1
            stem, dot, suffix = path.rpartition(".")
            candidate = f"{stem}-{n}.{suffix}" if dot else f"{path}-{n}"
        self._names.add(candidate)
        return candidate

    def write(self, path: str, chunks: Iterable[bytes]) -> str:
        path = self._unique(path)
        info = zipfile.ZipInfo(path, date_time=timezone.localtime().timetuple()[:6])
        info.compress_type = (
            zipfile.ZIP_STORED if path.lower().endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
        )
        digest, size = hashlib.sha256(), 0
        with self.zip.open(info, "w", force_zip64=True) as member:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                member.write(chunk)
        self.written.files.append({"path": path, "sha256": digest.hexdigest(), "size": size})
        return path

    def abort(self) -> None:
        """Close the ZIP after a failure (the caller discards the file)."""
        with contextlib.suppress(Exception):
            self.zip.close()

    def write_bytes(self, path: str, data: bytes) -> str:
        return self.write(path, [data])

    def close(self, manifest: dict) -> Written:
        data = json.dumps(manifest, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder).encode()
        self.written.manifest_sha256 = hashlib.sha256(data).hexdigest()
        self.zip.writestr(MANIFEST, data, compress_type=zipfile.ZIP_DEFLATED)
        self.zip.close()
        return self.written


def _stored_chunks(field_file) -> Iterator[bytes]:
    with default_storage.open(field_file.name, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


@cache
def _stylesheet():
    from django.contrib.staticfiles import finders
    from weasyprint import CSS

    from ..pdf import StaticOnlyFetcher, _font_config

    return CSS(
        url=Path(finders.find(STYLESHEET)).resolve().as_uri(),
        url_fetcher=StaticOnlyFetcher(),
        font_config=_font_config(),
    )


def summary_pdf(record: dict, *, built_at: str, built_by: str) -> bytes:
    """The record as a PDF (WeasyPrint with the notices' fetcher and fonts: nothing is fetched)."""
    from weasyprint import HTML

    from ..pdf import StaticOnlyFetcher, _font_config, _static_base_url

    with translation.override("zh-hans"):
        html = render_to_string(
            "pdf/dossier_summary.html",
            {"record": record, "built_at": built_at, "built_by": built_by},
        )
    return HTML(
        string=html, base_url=_static_base_url(), url_fetcher=StaticOnlyFetcher()
    ).write_pdf(stylesheets=[_stylesheet()], font_config=_font_config(), attachments=[])


def _write_application(dossier: DossierZip, application: Application, *, built_at, built_by):
    folder = f"applications/{safe_name(application.reference or f'application-{application.pk}')}"
    evidence_names = {}
    for n, evidence in enumerate(evidence_of(application), start=1):
        with translation.override("zh-hans"):
            from hengyang_cbec.formatting import _document_label

            label = _document_label(evidence.document_type)
        name = safe_name(f"{n:02d}-{label}-{evidence.original_name}", limit=120)
        evidence_names[evidence.pk] = dossier.write(
            f"{folder}/evidence/{name}", _stored_chunks(evidence.file)
        )
    for notice in notices_of(application):
        for language in ("zh", "en"):
            stored = getattr(notice, f"file_{language}")
            if stored:
                name = safe_name(f"{notice.number}-V{notice.version}-{language.upper()}.pdf")
                dossier.write(f"{folder}/notices/{name}", _stored_chunks(stored))
    for objection in objection_files_of(application):
        name = safe_name(f"{objection.pk}-{objection.file_name or 'file'}", limit=120)
        dossier.write(f"{folder}/objections/{name}", _stored_chunks(objection.file))
    record = application_record(application, evidence_names=evidence_names)
    dossier.write_bytes(
        f"{folder}/summary.pdf", summary_pdf(record, built_at=built_at, built_by=built_by)
    )
    dossier.write_bytes(
        f"{folder}/record.json",
        json.dumps(record, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder).encode(),
    )
    app = record["application"]
    dossier.written.applications.append(
        {
            "id": application.pk,
            "reference": app["reference"],
            "folder": folder,
            "enterprise": record["enterprise"]["name"],
            "uscc": record["enterprise"]["uscc"],
            "measure": app["measure"],
            "year": app["year"],
            "state": app["state"]["zh"],
            "approved_amount_cny": app["approved_amount_cny"],
            "paid_cny": _paid(record["payments"]),
        }
    )


def _paid(payments: list[dict]) -> str:
    paid = [Decimal(p["amount_cny"]) for p in payments if p["paid_on"]]
    return f"{sum(paid, Decimal('0.00')):.2f}" if paid else ""


def _span(application_ids: set[int]) -> dict:
    """The first and last audit event of the applications (asked in slices: SQLite's limit)."""
    ordered, first, last = sorted(application_ids), None, None
    for start in range(0, len(ordered), 500):
        found = AuditEvent.objects.filter(
            application_id__in=ordered[start : start + 500]
        ).aggregate(first=Min("pk"), last=Max("pk"))
        if found["first"] is not None:
            first = found["first"] if first is None else min(first, found["first"])
            last = found["last"] if last is None else max(last, found["last"])
    return {"first": first, "last": last}


def _event_rows(
    application_ids: set[int], first: int, last: int
) -> Iterator[tuple[bytes, str | None]]:
    """The chain from `first` to `last`: the applications' events in full (with their key id),
    the others as links (None)."""
    events = AuditEvent.objects.filter(pk__gte=first, pk__lte=last).order_by("pk")
    for event in events.iterator(chunk_size=2000):
        row = {"id": event.pk, "prev_hash": event.prev_hash, "hash": event.hash}
        key_id = None
        if event.application_id in application_ids:
            key_id = row["key_id"] = event.key_id
            row["event"] = event.canonical()
        yield (json.dumps(row, ensure_ascii=False) + "\n").encode(), key_id


def _index_csv(applications: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "申报编号 Reference",
            "企业 Enterprise",
            "统一社会信用代码 USCC",
            "措施 Measure",
            "年度 Year",
            "状态 Status",
            "核定金额 Approved (CNY)",
            "已拨付 Paid (CNY)",
            "目录 Folder",
        ]
    )
    for app in applications:
        # A cell a spreadsheet would run as a formula is written as text.
        name = app["enterprise"]
        if name[:1] in ("=", "+", "-", "@"):
            name = "'" + name
        writer.writerow(
            [
                app["reference"],
                name,
                app["uscc"],
                app["measure"],
                app["year"],
                app["state"],
                app["approved_amount_cny"],
                app["paid_cny"],
                app["folder"],
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def write_dossier(
    handle,
    applications: Iterable[Application],
    *,
    scope: dict,
    built_by: str,
    progress: Callable[[int], None] | None = None,
) -> Written:
    """Write the dossier of `applications` (an iterator: one application in memory at a time)."""
    dossier = DossierZip(handle)
    try:
        return _write_all(dossier, applications, scope=scope, built_by=built_by, progress=progress)
    except BaseException:
        dossier.abort()
        raise


def _write_all(dossier: DossierZip, applications, *, scope, built_by, progress) -> Written:
    now = timezone.localtime()
    built_at = now.isoformat(timespec="seconds")
    dossier.write_bytes("说明 README.txt", README.encode())
    dossier.write_bytes("verify.py", Path(__file__).with_name("verify.py").read_bytes())
    ids: set[int] = set()
    for done, application in enumerate(applications, start=1):
        _write_application(
            dossier, application, built_at=f"{now:%Y-%m-%d %H:%M}", built_by=built_by
        )
        ids.add(application.pk)
        if progress:
            progress(done)
    span = _span(ids)
    chain = {}
    if span["first"] is not None:
        path, counts, key_ids = "audit/events.jsonl", {"full": 0, "links": 0}, set()

        def counted():
            for row, key_id in _event_rows(ids, span["first"], span["last"]):
                counts["links" if key_id is None else "full"] += 1
                if key_id:
                    key_ids.add(key_id)
                yield row

        dossier.write(path, counted())
        last = AuditEvent.objects.only("hash", "prev_hash").get(pk=span["last"])
        first = AuditEvent.objects.only("prev_hash").get(pk=span["first"])
        chain = {
            "path": path,
            "first_id": span["first"],
            "last_id": span["last"],
            "first_prev_hash": first.prev_hash,
            "last_hash": last.hash,
            "events": counts["full"],
            "links": counts["links"],
            "key_ids": sorted(key_ids),
            "hash": "HMAC-SHA256(key, key_id + '\\n' + prev_hash + '\\n' + event); "
            "events without key_id: SHA-256(prev_hash + '\\n' + event)",
        }
        dossier.written.events, dossier.written.links = counts["full"], counts["links"]
    dossier.write_bytes("index.csv", _index_csv(dossier.written.applications))
    manifest = {
        "format": FORMAT,
        "title": "衡阳市跨境电商扶持资金审计档案 Audit dossier",
        "scope": scope,
        "built_at": built_at,
        "built_by": built_by,
        "applications": dossier.written.applications,
        "audit_chain": chain,
        "files": dossier.written.files,
    }
    return dossier.close(manifest)
