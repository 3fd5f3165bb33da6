"""Evidence uploads: is this file acceptable, and how is it named when stored and served.

SECURITY.md rows 17-21. The type of a file is decided by its content (libmagic plus a structural
check per kind), never by its name or the content type the client sent. Everything streams: the
file is read in chunks, archives are judged by their central directory before any entry is read,
images by their header before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

import defusedxml
import magic
from defusedxml.ElementTree import DefusedXMLParser
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from PIL import Image

from hengyang_cbec.errors import PortalError

ALLOWED_KINDS = {"pdf", "jpeg", "png", "xlsx", "docx", "zip"}

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}
EXTENSIONS = {
    "pdf": "pdf",
    "jpeg": "jpg",
    "png": "png",
    "xlsx": "xlsx",
    "docx": "docx",
    "zip": "zip",
}

CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 8 * 1024  # what libmagic and the polyglot checks look at
PDF_HEADER_WINDOW = 1024  # readers accept %PDF- anywhere in the first 1024 bytes

MAX_ARCHIVE_ENTRIES = 1000
MAX_ARCHIVE_TOTAL_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Below this an entry cannot hurt whatever its ratio (the total is capped anyway), and small XML
# parts of honest office files can compress better than 100:1.
RATIO_CHECK_MIN_BYTES = 64 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000

_PIL_FORMATS = {"jpeg": "JPEG", "png": "PNG"}

# libmagic's answer for the first HEAD_BYTES, mapped onto the kind the signature says.
_ZIP_FAMILY_MIMES = {
    "application/zip",
    CONTENT_TYPES["xlsx"],
    CONTENT_TYPES["docx"],
}
_MAGIC_KINDS = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"PK\x03\x04", "zip"),
    (b"%PDF-", "pdf"),
)

# Tags a browser's content sniffer takes as HTML (or SVG/XML that runs script).
_HTML_LIKE = re.compile(
    rb"<\s*(?:!doctype|html|head|body|script|iframe|frame|svg|img|object|embed|meta|style|link"
    rb"|a|title|div|table)(?=[\s/>])",
    re.IGNORECASE,
)

# PDF names that run code or carry files (a name may hide letters as #xx escapes), and the
# keywords around stream data, which is skipped.
_PDF_TOKEN = re.compile(rb"endstream|>>\s*stream\r?\n|/[^\x00\t\n\x0c\r ()<>\[\]{}/%]+")
_PDF_BANNED_NAMES = {b"JavaScript", b"JS", b"Launch", b"EmbeddedFile", b"EmbeddedFiles"}
_PDF_OVERLAP = 256

# Archive signatures that must not appear inside an archive (nesting), plus OLE compound files,
# which inside an office file are embedded objects or macro storage.
_NESTED_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!\x1a\x07",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
)
_NESTED_EXTENSIONS = (
    ".zip", ".7z", ".rar", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".jar", ".cab", ".iso",
    ".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm", ".odt", ".ods",
)  # fmt: skip

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}
_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"


class UploadRejected(PortalError):
    """An upload that may not be stored. `code` is for logs and tests, `message` for the user.

    Codes: empty, too_large, type_not_allowed, polyglot, active_content, bad_archive, xml_bomb,
    pixel_bomb, bad_file.
    """

    def __init__(self, code: str, message: str | Promise) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    content_type: str
    size: int
    sha256: str
    original_name: str  # sanitised, for display only: never a path on disk


def inspect_upload(
    uploaded_file: Any, *, allow_zip: bool, max_bytes: int | None = None
) -> CheckedFile:
    """Accept an uploaded file or raise UploadRejected; the file is left rewound for saving.

    `uploaded_file` is a Django UploadedFile or any seekable binary file. SECURITY.md 17-20.
    """
    limit = settings.UPLOAD_MAX_BYTES if max_bytes is None else max_bytes
    declared = getattr(uploaded_file, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise _too_large(limit)

    hasher = hashlib.sha256()
    size = 0
    head = bytearray()
    for chunk in read_chunks(uploaded_file):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        hasher.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
    if size == 0:
        raise UploadRejected("empty", _("The file is empty."))

    kind = _sniff(bytes(head))
    if kind == "pdf":
        _check_not_zip(uploaded_file)
        _check_pdf_names(uploaded_file)
    elif kind in _PIL_FORMATS:
        _check_not_zip(uploaded_file)
        _check_image(uploaded_file, kind)
    else:
        kind = _check_archive(uploaded_file, allow_zip=allow_zip)

    uploaded_file.seek(0)
    return CheckedFile(
        kind=kind,
        content_type=CONTENT_TYPES[kind],
        size=size,
        sha256=hasher.hexdigest(),
        original_name=safe_display_name(getattr(uploaded_file, "name", "") or ""),
    )


def read_chunks(fileobj: Any, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The file from its start, chunk by chunk, never whole."""
    fileobj.seek(0)
    if hasattr(fileobj, "chunks"):
        yield from fileobj.chunks(chunk_size)
        return
    while chunk := fileobj.read(chunk_size):
        yield chunk


def _too_large(limit: int) -> UploadRejected:
    return UploadRejected(
        "too_large",
        _("The file is larger than the limit of %(limit)s MB.")
        % {"limit": f"{limit / (1024 * 1024):g}"},
    )


def _not_allowed() -> UploadRejected:
    return UploadRejected(
        "type_not_allowed",
        _("This type of file is not accepted. Upload a PDF, JPEG, PNG, XLSX or DOCX file."),
    )


def _polyglot() -> UploadRejected:
    return UploadRejected(
        "polyglot", _("The file's content is ambiguous (it is more than one type of file).")
    )


def _bad_archive(message: str | Promise) -> UploadRejected:
    return UploadRejected("bad_archive", message)


def _sniff(head: bytes) -> str:
    """The kind by content: the signature and libmagic must agree, and nothing may hide HTML."""
    signature_kind = next((kind for sig, kind in _SIGNATURES if head.startswith(sig)), None)
    pdf_offset = head.find(b"%PDF-", 0, PDF_HEADER_WINDOW + 5)
    if _HTML_LIKE.search(head, 0, PDF_HEADER_WINDOW):
        raise _polyglot() if signature_kind or pdf_offset >= 0 else _not_allowed()
    if signature_kind is None:
        # Readers tolerate junk before %PDF-; markup there makes an HTML/PDF polyglot.
        if pdf_offset < 0:
            raise _not_allowed()
        if b"<" in head[:pdf_offset]:
            raise _polyglot()
        signature_kind = "pdf"
    if signature_kind != "pdf" and b"%PDF-" in head[:PDF_HEADER_WINDOW]:
        raise _polyglot()

    mime = magic.from_buffer(head, mime=True)
    if signature_kind == "zip":
        if mime not in _ZIP_FAMILY_MIMES:
            raise _not_allowed()
    elif _MAGIC_KINDS.get(mime) != signature_kind:
        raise _not_allowed()
    return signature_kind


def _check_not_zip(fileobj: IO[bytes]) -> None:
    """A PDF or image that is also a valid zip (an appended archive) is a polyglot."""
    found = zipfile.is_zipfile(fileobj)
    fileobj.seek(0)
    if found:
        raise _polyglot()


def _check_pdf_names(fileobj: IO[bytes]) -> None:
    """Refuse PDFs with script, launch or embedded-file actions, scanning in overlapping chunks.

    Names are looked for outside stream data only: compressed streams are random bytes in which a
    short name like /JS would turn up by chance. Best effort: names inside compressed object
    streams are not seen, so downloads are always attachments with nosniff (SECURITY.md 21).
    """
    in_stream = False
    carry = b""
    for chunk in read_chunks(fileobj):
        window = carry + chunk
        done = 0
        for match in _PDF_TOKEN.finditer(window):
            if match.end() == len(window):
                break  # may be cut short: judged again with the next chunk
            in_stream = _judge_pdf_token(match.group(), in_stream=in_stream)
            done = match.end()
        carry = window[max(done, len(window) - _PDF_OVERLAP) :]
    for match in _PDF_TOKEN.finditer(carry):
        in_stream = _judge_pdf_token(match.group(), in_stream=in_stream)


def _judge_pdf_token(token: bytes, *, in_stream: bool) -> bool:
    """Raise for a banned name outside a stream; return whether what follows is stream data."""
    if token == b"endstream":
        return False
    if token.startswith(b">>"):
        return True
    if not in_stream and _pdf_name(token) in _PDF_BANNED_NAMES:
        raise _active_pdf()
    return in_stream


def _active_pdf() -> UploadRejected:
    return UploadRejected(
        "active_content",
        _("PDF files with scripts, launch actions or attached files are not accepted."),
    )


def _pdf_name(token: bytes) -> bytes:
    """`/J#61vaScript` -> b"JavaScript" (PDF 1.2+ name escapes; names are case-sensitive)."""

    def unescape(match: re.Match[bytes]) -> bytes:
        return bytes([int(match.group(1), 16)])

    return re.sub(rb"#([0-9A-Fa-f]{2})", unescape, token[1:])


def _check_image(fileobj: IO[bytes], kind: str) -> None:
    """Judge the header before any pixel is decoded, then let Pillow verify the structure."""
    fileobj.seek(0)
    pixel_bomb = UploadRejected(
        "pixel_bomb",
        _("The image is too large (more than %(megapixels)s megapixels).")
        % {"megapixels": MAX_IMAGE_PIXELS // 1_000_000},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(fileobj, formats=[_PIL_FORMATS[kind]]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise pixel_bomb
                image.verify()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise pixel_bomb from None
        except UploadRejected:
            raise
        except Exception:
            # Any parser failure on untrusted input means the file is refused, not a server error.
            raise UploadRejected(
                "bad_file", _("The image is damaged or not a valid JPEG or PNG file.")
            ) from None
    fileobj.seek(0)


def _check_archive(fileobj: IO[bytes], *, allow_zip: bool) -> str:
    """zip, xlsx or docx. The central directory is judged before any entry is read."""
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError):
        raise _bad_archive(_("The archive is damaged.")) from None
    with archive:
        infos = archive.infolist()
        _check_central_directory(infos)
        names = {info.filename for info in infos}
        if "[Content_Types].xml" in names:
            kind = _ooxml_kind(archive, names)
        elif allow_zip:
            kind = "zip"
        else:
            raise _not_allowed()
        _check_entries_not_nested(archive, infos)
        if kind != "zip":
            _check_xml_parts(archive, infos)
    fileobj.seek(0)
    return kind


def _check_central_directory(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ARCHIVE_ENTRIES:
        raise _bad_archive(
            _("The archive holds more than %(count)s files.") % {"count": MAX_ARCHIVE_ENTRIES}
        )
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.orig_filename
        parts = re.split(r"[/\\]", name)
        if (
            not name
            or "\x00" in name
            or name.startswith(("/", "\\"))
            or re.match(r"^[A-Za-z]:", name)
            or ".." in parts
        ):
            raise _bad_archive(_("The archive contains an unsafe file name."))
        if info.filename in seen:
            raise _bad_archive(_("The archive contains the same file name twice."))
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            raise _bad_archive(_("Encrypted archives are not accepted."))
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad_archive(_("The archive uses an unsupported compression method."))
        if name.lower().endswith(_NESTED_EXTENSIONS):
            raise _nested()
        total += info.file_size
        ratio_limit = MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        if total > MAX_ARCHIVE_TOTAL_BYTES or (
            info.file_size > RATIO_CHECK_MIN_BYTES and info.file_size > ratio_limit
        ):
            raise _bad_archive(_("The archive expands to too much data."))


def _nested() -> UploadRejected:
    return _bad_archive(_("Archives or embedded objects inside an archive are not accepted."))


def _check_entries_not_nested(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    for info in infos:
        if info.is_dir() or info.file_size == 0:
            continue
        try:
            with archive.open(info) as entry:
                start = entry.read(8)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
            raise _bad_archive(_("The archive is damaged.")) from None
        if start.startswith(_NESTED_MAGIC):
            raise _nested()


def _ooxml_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    """docx or xlsx from [Content_Types].xml and its main part; macro-enabled files refused."""
    if any(name.rsplit("/", 1)[-1].lower() == "vbaproject.bin" for name in names):
        raise _macros()
    info = archive.getinfo("[Content_Types].xml")
    if info.file_size > MAX_CONTENT_TYPES_BYTES:
        raise _bad_archive(_("The office file is damaged."))
    with archive.open(info) as part:
        data = part.read(MAX_CONTENT_TYPES_BYTES + 1)
    try:
        root = defused_fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        raise _xml_bomb() from None
    except Exception:  # ParseError and friends: not a well-formed office file
        raise UploadRejected("bad_file", _("The office file is damaged.")) from None

    content_types = [
        (element.get("PartName", ""), element.get("ContentType", ""))
        for element in root.iter(f"{_CT_NS}Override")
    ]
    content_types += [
        ("", element.get("ContentType", "")) for element in root.iter(f"{_CT_NS}Default")
    ]
    if any("macroenabled" in ct.lower() or "vbaproject" in ct.lower() for _p, ct in content_types):
        raise _macros()
    kinds = {
        _OOXML_MAIN[ct]
        for part_name, ct in content_types
        if ct in _OOXML_MAIN and part_name.lstrip("/") in names
    }
    if len(kinds) != 1:
        raise _not_allowed()
    return kinds.pop()


def _macros() -> UploadRejected:
    return UploadRejected(
        "active_content", _("Office files with macros are not accepted. Save without macros.")
    )


def _xml_bomb() -> UploadRejected:
    return UploadRejected(
        "xml_bomb", _("The office file contains forbidden XML (entities or a DTD).")
    )


class _DiscardTarget:
    """A parser target that keeps nothing: the XML is checked, not loaded."""

    def close(self) -> None:
        return None


def _check_xml_parts(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """Parse every XML part with defusedxml, streaming; DTDs and entities are refused."""
    for info in infos:
        if not info.filename.lower().endswith((".xml", ".rels")):
            continue
        parser = DefusedXMLParser(target=_DiscardTarget(), forbid_dtd=True)
        try:
            with archive.open(info) as part:
                while chunk := part.read(CHUNK_BYTES):
                    parser.feed(chunk)
            parser.close()
        except defusedxml.DefusedXmlException:
            raise _xml_bomb() from None
        except Exception:  # ParseError, BadZipFile (CRC), zlib errors: refused, not a crash
            raise UploadRejected("bad_file", _("The office file is damaged.")) from None


# --- Names ----------------------------------------------------------------------------------------

MAX_DISPLAY_NAME = 120
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


def safe_display_name(name: str) -> str:
    """A user's file name made fit to show and to offer in Content-Disposition, never a path.

    SECURITY.md 21: directories, NUL, control and bidi-override characters go; NFC; at most 120
    characters with the extension kept; never empty.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Zl", "Zp"})
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _WINDOWS_RESERVED.sub("_", name).strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot or not 1 <= len(extension) <= 10 or not extension.isalnum():
        stem, extension = name, ""
    stem = stem.strip() or "file"
    suffix = f".{extension}" if extension else ""
    return stem[: MAX_DISPLAY_NAME - len(suffix)].rstrip() + suffix


def storage_name(*, prefix: str, kind: str) -> str:
    """`prefix/yyyy/mm/<uuid4 hex>.<ext>`: generated, never derived from the user's file name."""
    if kind not in ALLOWED_KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if not re.fullmatch(r"[a-z0-9_-]+(?:/[a-z0-9_-]+)*", prefix):
        raise ValueError(f"storage prefix must be a plain relative path, got {prefix!r}")
    now = timezone.now()
    return f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>` (RFC 6266, 5987).

    Django's content_disposition_header writes only one of the two forms; old clients need the
    ASCII fallback and the rest the UTF-8 name, so both are written.
    """
    name = safe_display_name(filename)
    disposition = "inline" if inline else "attachment"
    encoded = quote(name, safe="")
    return f"{disposition}; filename=\"{_ascii_fallback(name)}\"; filename*=UTF-8''{encoded}"


def _ascii_fallback(name: str) -> str:
    """`发票 2024.pdf` -> `2024.pdf`, `résumé.pdf` -> `resume.pdf`, all Chinese -> `file.pdf`."""
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""

    def ascii_only(text: str) -> str:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
        return re.sub(r"[^A-Za-z0-9()+.-]+", "_", text).strip("._")

    stem, extension = ascii_only(stem) or "file", ascii_only(extension)
    return f"{stem}.{extension}" if extension else stem
