"""Importing official statistics (免申即享): read, validate as a whole, preview, approve under four
eyes, supersede.

The steps take rows as dicts ({"uscc": ..., "year": ..., ...}), so an API can call the same
validation, preview and approval with a payload instead of a file: `read_statistics_file` turns a
file into such rows, `validate_rows` checks them all (a bad line stores nothing), `import_create`
stores a validated import waiting for approval, `preview` compares it with the records in use,
and `import_approve` (by another person) makes it current and starts the matching.

An import comes from a commerce reviewer (`user`) or from another system's API key (`api_key`,
scope import_statistics). A system's import is a proposal like a reviewer's file: the same checks,
and a commerce reviewer approves it, who must not be the person who issued the key.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.validators import validate_uscc
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import record

from ..models import StatisticsImport, StatisticsRecord
from .statistics_columns import COLUMNS, VALUE_FIELDS, Column, template_workbook  # noqa: F401 (re-exported)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
XLSX_MAX_UNCOMPRESSED = 100 * 1024 * 1024
XLSX_MAX_ENTRIES = 200
FIRST_YEAR = 2015
# Larger than any enterprise's yearly figure: a typo (a figure in fen, an extra digit) stops here.
ABSURD_USD = Decimal("100000000000")  # 100 billion USD
ABSURD_CNY = Decimal("10000000000")  # 10 billion CNY
_NUMBER = re.compile(r"\d{1,3}(,\d{3})+(\.\d{1,2})?|\d+(\.\d{1,2})?")


class StatisticsError(Exception):
    """A refused import action; the message is shown as it is."""


@dataclass(frozen=True)
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return _("Line %(line)s: %(message)s") % {"line": self.line, "message": self.message}


class StatisticsInvalid(StatisticsError):
    """The rows are not valid; nothing was stored. `errors` name each line."""

    def __init__(self, errors: list[LineError]):
        self.errors = errors
        super().__init__(
            _("The file was not imported: %(n)s errors. Nothing was changed.") % {"n": len(errors)}
        )


# --- Reading a file into rows ---------------------------------------------------------------------


def _header_keys(source: str) -> dict[str, str]:
    """Every header a column may have (its key, its Chinese and English label) → its key."""
    from django.utils import translation

    names: dict[str, str] = {}
    for column in COLUMNS[source]:
        names[column.key.lower()] = column.key
        names[_normal(column.header_zh)] = column.key
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names[_normal(str(column.label))] = column.key
    return names


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip().lower().replace(" ", "")


def read_statistics_file(source: str, upload) -> list[dict[str, Any]]:
    """A CSV (UTF-8, with or without BOM, or GB18030) or XLSX file as rows keyed by column, each
    with its `line` (the spreadsheet's row number; the header is line 1). Raises StatisticsError
    when the file cannot be read or its first row does not name the columns."""
    head = upload.read(4)
    upload.seek(0)
    rows = _xlsx_rows(upload) if head.startswith(b"PK") else _csv_rows(upload)
    if not rows:
        raise StatisticsError(_("The file is empty."))
    names = _header_keys(source)
    header = [names.get(_normal(cell), "") for cell in rows[0]]
    missing = [str(c.label) for c in COLUMNS[source] if c.required and c.key not in header]
    if missing:
        raise StatisticsError(
            _("Line 1 must name the columns of the template; missing: %(columns)s.")
            % {"columns": "、".join(missing)}
        )
    result = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell for cell in row):
            continue
        item: dict[str, Any] = {"line": number}
        for index, key in enumerate(header):
            if key and index < len(row):
                item[key] = row[index]
        result.append(item)
    return result


def _csv_rows(upload) -> list[list[str]]:
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise StatisticsError(_("The file is larger than 10 MB."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise StatisticsError(_("The file is neither an XLSX file nor a CSV file in UTF-8."))
    rows = []
    try:
        for row in csv.reader(io.StringIO(text)):
            rows.append([cell.strip() for cell in row])
            if len(rows) > MAX_ROWS + 1:
                raise StatisticsError(_("The file has more than 100,000 lines."))
    except csv.Error:
        raise StatisticsError(
            _("The file is neither an XLSX file nor a CSV file in UTF-8.")
        ) from None
    return rows


def _xlsx_rows(upload) -> list[list[str]]:
    import openpyxl

    bad = StatisticsError(_("The file is neither an XLSX file nor a CSV file in UTF-8."))
    try:
        with zipfile.ZipFile(upload) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise bad from None
    if (
        len(infos) > XLSX_MAX_ENTRIES
        or sum(info.file_size for info in infos) > XLSX_MAX_UNCOMPRESSED
    ):
        raise StatisticsError(_("The XLSX file expands to more than 100 MB."))
    upload.seek(0)
    try:
        workbook = openpyxl.load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # any parser failure on an untrusted file is a refusal, not a 500
        raise bad from None
    rows = []
    try:
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append([_cell_text(cell) for cell in row])
            if len(rows) > MAX_ROWS + 1:
                raise StatisticsError(_("The file has more than 100,000 lines."))
    except StatisticsError:
        raise
    except Exception:
        raise bad from None
    finally:
        workbook.close()
    return rows


def _cell_text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        # Spreadsheets keep numbers as floats: read the shortest text that round-trips.
        return repr(cell).removesuffix(".0")
    return str(cell).strip()


# --- Validating -----------------------------------------------------------------------------------


def validate_rows(source: str, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check every row; return them cleaned, or raise StatisticsInvalid naming every bad line.

    Rows without a `line` are numbered as a file would number them (the first is line 2).
    """
    if source not in COLUMNS:
        raise StatisticsError(_("Unknown statistics source."))
    this_year = timezone.localdate().year
    cleaned: list[dict[str, Any]] = []
    errors: list[LineError] = []
    seen: dict[tuple[str, int], int] = {}
    for position, row in enumerate(rows, start=2):
        line = int(row.get("line") or position)
        item: dict[str, Any] = {"line": line}
        for column in COLUMNS[source]:
            raw = row.get(column.key)
            text = "" if raw is None else _text_of(raw)
            if not text:
                if column.required:
                    errors.append(LineError(line, _("%(column)s is missing.") % _named(column)))
                else:
                    item[column.key] = None if column.kind in ("usd", "cny") else ""
                continue
            try:
                item[column.key] = _clean(column, text, this_year)
            except ValidationError as exc:
                errors.append(LineError(line, f"{column.label}{_colon()}{' '.join(exc.messages)}"))
        key = (item.get("uscc"), item.get("year"))
        if None not in key and all(k in item for k in ("uscc", "year")):
            if key in seen:
                errors.append(
                    LineError(
                        line,
                        _("the same credit code and year as line %(other)s.")
                        % {"other": seen[key]},
                    )
                )
            else:
                seen[key] = line
        cleaned.append(item)
    if not cleaned and not errors:
        raise StatisticsInvalid([LineError(2, _("the file has no data lines."))])
    if errors:
        raise StatisticsInvalid(sorted(errors, key=lambda e: e.line))
    return cleaned


def _text_of(raw: Any) -> str:
    """A cell as text; an API payload may send Decimals (Decimal("0E-10") is written 0.00)."""
    if isinstance(raw, Decimal) and raw.is_finite():
        cents = raw.quantize(Decimal("0.01"))
        return format(cents if cents == raw else raw, "f")
    return str(raw).strip()


def _named(column: Column) -> dict[str, str]:
    return {"column": str(column.label)}


def _colon() -> str:
    from hengyang_cbec.i18n import english_active

    return ": " if english_active() else "："


def _clean(column: Column, text: str, this_year: int) -> Any:
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValidationError(_("contains control characters."))
    if column.kind == "uscc":
        validate_uscc(text)
        return text
    if column.kind == "text":
        if len(text) > 200:
            raise ValidationError(_("is longer than 200 characters."))
        return text
    if column.kind == "year":
        if not re.fullmatch(r"\d{4}", text) or not FIRST_YEAR <= int(text) <= this_year:
            raise ValidationError(
                _("must be a year from %(first)s to %(last)s.")
                % {"first": FIRST_YEAR, "last": this_year}
            )
        return int(text)
    if text.startswith("-"):
        raise ValidationError(_("may not be negative."))
    if not _NUMBER.fullmatch(text):
        raise ValidationError(_("must be a number with at most two decimals, such as 1250000.00."))
    try:
        value = Decimal(text.replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError(_("must be a number.")) from None
    limit = ABSURD_USD if column.kind == "usd" else ABSURD_CNY
    if value >= limit:
        raise ValidationError(_("is implausibly large; check the unit."))
    return value


# --- Preview --------------------------------------------------------------------------------------


@dataclass
class PreviewLine:
    line: int
    uscc: str
    name: str
    year: int
    change: str  # StatisticsRecord.Change
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)  # (label, old, new)
    current: StatisticsRecord | None = None


@dataclass
class Preview:
    lines: list[PreviewLine]

    def count(self, change: str) -> int:
        return sum(1 for line in self.lines if line.change == change)

    @property
    def new(self) -> int:
        return self.count(StatisticsRecord.Change.NEW)

    @property
    def changed(self) -> int:
        return self.count(StatisticsRecord.Change.CHANGED)

    @property
    def unchanged(self) -> int:
        return self.count(StatisticsRecord.Change.UNCHANGED)


def _current_records(source: str, keys: Iterable[tuple[str, int]]) -> dict:
    keys = set(keys)
    usccs = {uscc for uscc, _year in keys}
    found = {}
    for chunk in _chunks(sorted(usccs), 500):
        for current in StatisticsRecord.objects.filter(
            source=source, current=True, uscc__in=chunk
        ).select_related("statistics_import"):
            if (current.uscc, current.year) in keys:
                found[(current.uscc, current.year)] = current
    return found


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def compare(source: str, rows: list[Mapping[str, Any]]) -> Preview:
    """New, changed (with the differences) and unchanged lines against the records in use."""
    labels = {c.key: c.label for c in COLUMNS[source]}
    current = _current_records(source, ((r["uscc"], r["year"]) for r in rows))
    lines = []
    for row in rows:
        old = current.get((row["uscc"], row["year"]))
        item = PreviewLine(
            line=row["line"],
            uscc=row["uscc"],
            name=row.get("name") or "",
            year=row["year"],
            change=StatisticsRecord.Change.NEW,
            current=old,
        )
        if old is not None:
            item.differences = [
                (str(labels[name]), getattr(old, name), row.get(name))
                for name in VALUE_FIELDS[source]
                if _value(getattr(old, name)) != _value(row.get(name))
            ]
            item.change = (
                StatisticsRecord.Change.CHANGED
                if item.differences
                else StatisticsRecord.Change.UNCHANGED
            )
        lines.append(item)
    return Preview(lines)


def _value(value: Any) -> Any:
    if value in (None, ""):
        return None
    return value.normalize() if isinstance(value, Decimal) else value


def preview(statistics_import: StatisticsImport) -> Preview:
    records = list(statistics_import.records.order_by("line"))
    rows = [
        {"line": r.line, "uscc": r.uscc, "year": r.year}
        | {name: getattr(r, name) for name in VALUE_FIELDS[statistics_import.source]}
        for r in records
    ]
    return compare(statistics_import.source, rows)


# --- Import, approve, reject ----------------------------------------------------------------------


def _require_commerce(user) -> None:
    if not has_role(user, Role.COMMERCE_REVIEWER):
        raise StatisticsError(_("Only commerce reviewers import official statistics."))


def _audit(action: str, user, statistics_import: StatisticsImport, data: dict, ip=None) -> None:
    key = statistics_import.api_key
    record(
        action=f"statistics.{action}",
        actor=user,
        actor_role=Role.COMMERCE_REVIEWER if user else "",
        ip=ip,
        obj=statistics_import,
        data={"source": statistics_import.source, **data}
        | ({"api_key": key.pk, "key": key.prefix, "system": key.name} if key else {}),
    )


def _require_importer(user, api_key) -> None:
    """A commerce reviewer, or an active key of another system with the import scope."""
    if api_key is None:
        _require_commerce(user)
        return
    from hengyang_cbec.api.models import Scope

    if (
        user is not None
        or api_key.owner_id
        or not api_key.is_active
        or Scope.IMPORT_STATISTICS not in api_key.scopes
    ):
        raise StatisticsError(_("This API key may not import statistics."))


@transaction.atomic
def import_create(
    *,
    user=None,
    api_key=None,
    source: str,
    rows: Iterable[Mapping[str, Any]] | None = None,
    upload=None,
    corrects: StatisticsImport | None = None,
    note: str = "",
    ip=None,
) -> StatisticsImport:
    """Validate the whole file (or the rows of an API payload) and store it, waiting for a second
    commerce reviewer's approval. Raises StatisticsInvalid (nothing stored) naming the lines.
    `api_key` instead of `user`: rows sent by another system, a proposal like a file."""
    _require_importer(user, api_key)
    if source not in COLUMNS:
        raise StatisticsError(_("Unknown statistics source."))
    if corrects is not None and (
        corrects.source != source or corrects.state != StatisticsImport.State.APPLIED
    ):
        raise StatisticsError(_("A correction corrects an applied import of the same source."))
    content = b""
    if upload is not None:
        content = upload.read()
        upload.seek(0)
        rows = read_statistics_file(source, upload)
    cleaned = validate_rows(source, rows or [])
    statistics_import = StatisticsImport.objects.create(
        source=source,
        original_name=(getattr(upload, "name", "") or "")[:200],
        sha256=hashlib.sha256(content).hexdigest() if upload is not None else "",
        row_count=len(cleaned),
        corrects=corrects,
        note=note.strip()[:300],
        imported_by=user,
        api_key=api_key,
    )
    if upload is not None:
        extension = "xlsx" if content.startswith(b"PK") else "csv"
        statistics_import.file.save(
            f"statistics/{source}-{statistics_import.pk}.{extension}",
            ContentFile(content),
            save=False,
        )
        statistics_import.save(update_fields=["file"])
    StatisticsRecord.objects.bulk_create(
        StatisticsRecord(
            statistics_import=statistics_import,
            source=source,
            line=row["line"],
            uscc=row["uscc"],
            year=row["year"],
            **{name: _stored(name, row.get(name)) for name in VALUE_FIELDS[source]},
        )
        for row in cleaned
    )
    _audit(
        "import",
        user,
        statistics_import,
        {
            "file": statistics_import.original_name,
            "sha256": statistics_import.sha256,
            "lines": len(cleaned),
            "corrects": corrects.pk if corrects else None,
        },
        ip,
    )
    return statistics_import


def _update(ids: list[int], **values: Any) -> None:
    for start in range(0, len(ids), 500):
        StatisticsRecord.objects.filter(pk__in=ids[start : start + 500]).update(**values)


def _stored(name: str, value: Any) -> Any:
    """A cleaned value as the record keeps it: 0 stays 0, an absent text is empty."""
    if value is None and name in ("name", "customs_office"):
        return ""
    return value


def _locked(statistics_import: StatisticsImport) -> StatisticsImport:
    return StatisticsImport.objects.select_for_update().get(pk=statistics_import.pk)


@transaction.atomic
def import_approve(*, user, statistics_import: StatisticsImport, ip=None) -> StatisticsImport:
    """Apply an import (four eyes: not by its importer). New and changed lines become the
    records in use; those they replace are kept, superseded. Matching runs after commit on the
    (credit code, year) pairs that changed."""
    _require_commerce(user)
    statistics_import = _locked(statistics_import)
    if statistics_import.state != StatisticsImport.State.PENDING:
        raise StatisticsError(_("This import was already decided."))
    if statistics_import.imported_by_id == user.pk:
        raise StatisticsError(_("The importer may not approve their own import."))
    if statistics_import.api_key and statistics_import.api_key.created_by_id == user.pk:
        raise StatisticsError(_("The person who issued the API key may not approve its imports."))
    result = preview(statistics_import)
    by_line = {r.line: r for r in statistics_import.records.all()}
    superseded, applied, unchanged = [], [], []
    for item in result.lines:
        row = by_line[item.line]
        row.change = item.change
        if item.change == StatisticsRecord.Change.UNCHANGED:
            unchanged.append(row)
            continue
        if item.current is not None:
            item.current.current = False
            item.current.superseded_by = row
            superseded.append(item.current)
        row.current = True
        applied.append(row)
    # The records replaced stop being current before their successors start.
    _update([r.pk for r in superseded], current=False)
    for change in (StatisticsRecord.Change.NEW, StatisticsRecord.Change.CHANGED):
        _update([r.pk for r in applied if r.change == change], current=True, change=change)
    _update([r.pk for r in unchanged], change=StatisticsRecord.Change.UNCHANGED)
    StatisticsRecord.objects.bulk_update(superseded, ["superseded_by"], batch_size=500)
    statistics_import.state = StatisticsImport.State.APPLIED
    statistics_import.approved_by = user
    statistics_import.approved_at = timezone.now()
    statistics_import.summary = {
        "new": result.new,
        "changed": result.changed,
        "unchanged": result.unchanged,
    }
    statistics_import.save(update_fields=["state", "approved_by", "approved_at", "summary"])
    _audit("approve", user, statistics_import, dict(statistics_import.summary), ip)
    keys = sorted({(row.uscc, row.year) for row in applied})
    if keys:
        from .entitlements import request_matching

        transaction.on_commit(lambda: request_matching(keys))
    return statistics_import


@transaction.atomic
def import_reject(
    *, user, statistics_import: StatisticsImport, reason: str, ip=None
) -> StatisticsImport:
    """Refuse an import waiting for approval: its records never become current."""
    _require_commerce(user)
    statistics_import = _locked(statistics_import)
    if statistics_import.state != StatisticsImport.State.PENDING:
        raise StatisticsError(_("This import was already decided."))
    reason = (reason or "").strip()
    if not reason:
        raise StatisticsError(_("Give the reason for rejecting the import."))
    statistics_import.state = StatisticsImport.State.REJECTED
    statistics_import.rejected_reason = reason[:300]
    statistics_import.save(update_fields=["state", "rejected_reason"])
    _audit("reject", user, statistics_import, {"reason": reason[:300]}, ip)
    return statistics_import


def audit_download(*, user, statistics_import: StatisticsImport, ip=None) -> None:
    """The stored file of an import leaves the portal: who, which import, its SHA-256."""
    readers = (Role.COMMERCE_REVIEWER, Role.FINANCE_REVIEWER, Role.AUDITOR)
    record(
        action="statistics.download",
        actor=user,
        actor_role=next((role for role in readers if has_role(user, role)), ""),
        ip=ip,
        obj=statistics_import,
        data={"source": statistics_import.source, "sha256": statistics_import.sha256},
    )
