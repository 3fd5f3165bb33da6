"""The upload attack corpus of SECURITY.md 17-22, generated here (no binary fixtures)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import tracemalloc
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from PIL import Image

from applications import uploads
from applications.scanning import (
    EICAR,
    ClamdScanner,
    EicarOnlyScanner,
    ScanResult,
    get_scanner,
)
from applications.uploads import (
    UploadRejected,
    content_disposition,
    inspect_upload,
    safe_display_name,
    storage_name,
)

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"


# --- Builders -------------------------------------------------------------------------------------


def make_pdf(extra: bytes = b"", *, pad_to: int = 0) -> bytes:
    """A minimal PDF; `pad_to` grows it to that many bytes with a comment line."""
    body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n" + extra
    )
    tail = b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
    missing = pad_to - len(body) - len(tail)
    if missing >= 2:
        body += b"%" + b"x" * (missing - 2) + b"\n"
    return body + tail


def make_image(fmt: str, size: tuple[int, int] = (16, 12)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes | str], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def content_types(main_part: str, main_type: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="{main_part}" ContentType="{main_type}"/>{extra}</Types>'
    )


def rels(target: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{target}"/></Relationships>'
    )


SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>发票 2024</t></is></c></row></sheetData></worksheet>'
)


def make_xlsx(*, sheet: str = SHEET) -> bytes:
    return make_zip(
        {
            "[Content_Types].xml": content_types(
                "/xl/workbook.xml",
                XLSX_MAIN,
                '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
                'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>',
            ),
            "_rels/.rels": rels("xl/workbook.xml"),
            "xl/workbook.xml": (
                '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main"><sheets><sheet name="Sheet1" sheetId="1"/></sheets>'
                "</workbook>"
            ),
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


def make_docx(*, main_type: str = DOCX_MAIN, extra: dict[str, bytes | str] | None = None) -> bytes:
    return make_zip(
        {
            "[Content_Types].xml": content_types("/word/document.xml", main_type),
            "_rels/.rels": rels("word/document.xml"),
            "word/document.xml": (
                '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>营业执照</w:t></w:r></w:p>'
                "</w:body></w:document>"
            ),
            **(extra or {}),
        }
    )


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR is rewritten to claim width x height, with a valid CRC."""
    data = bytearray(make_image("PNG", (1, 1)))
    ihdr = 8  # after the signature: length(4) "IHDR"(4) data(13) crc(4)
    assert data[ihdr + 4 : ihdr + 8] == b"IHDR"
    data[ihdr + 8 : ihdr + 16] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr + 4 : ihdr + 21]))
    data[ihdr + 21 : ihdr + 25] = struct.pack(">I", crc)
    return bytes(data)


def upload(data: bytes, name: str = "evidence.pdf", content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def rejected(data: bytes, *, allow_zip: bool = False, name: str = "evidence.pdf", **kwargs) -> str:
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(upload(data, name), allow_zip=allow_zip, **kwargs)
    assert str(caught.value.message)  # a user-facing message is always there
    return caught.value.code


# --- Size ----------------------------------------------------------------------------------------


def test_exactly_the_limit_is_accepted_and_one_byte_more_refused():
    at_limit = make_pdf(pad_to=2048)
    assert len(at_limit) == 2048
    assert inspect_upload(upload(at_limit), allow_zip=False, max_bytes=2048).size == 2048
    assert rejected(make_pdf(pad_to=2049), max_bytes=2048) == "too_large"


def test_size_is_counted_not_taken_from_the_declared_size():
    # A plain file object declares no size; the streamed count alone must catch it.
    with pytest.raises(UploadRejected) as caught:
        inspect_upload(io.BytesIO(make_pdf(pad_to=4096)), allow_zip=False, max_bytes=4095)
    assert caught.value.code == "too_large"


def test_default_limit_comes_from_settings(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    assert rejected(make_pdf(pad_to=1025)) == "too_large"


def test_empty_file_is_refused():
    assert rejected(b"") == "empty"


# --- Type by content -----------------------------------------------------------------------------


def test_html_named_pdf_is_refused():
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    assert rejected(html, name="invoice.pdf") == "type_not_allowed"


def test_svg_named_pdf_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>'
    assert rejected(svg, name="licence.pdf") == "type_not_allowed"
    assert rejected(b'<?xml version="1.0"?>\n' + svg, name="licence.pdf") == "type_not_allowed"


def test_plain_text_and_unknown_binary_are_refused():
    assert rejected(b"just some text\n" * 10, name="a.pdf") == "type_not_allowed"
    assert rejected(b"MZ\x90\x00" + b"\x00" * 200, name="a.pdf") == "type_not_allowed"


def test_polyglot_with_html_before_the_pdf_header_is_refused():
    # libmagic alone calls this application/pdf: the prefix check is what refuses it.
    polyglot = b"<html><script>alert(1)</script></html>\n" + make_pdf()
    assert rejected(polyglot) == "polyglot"


def test_html_after_the_pdf_header_within_the_sniff_window_is_refused():
    assert rejected(make_pdf(b"% <script>alert(1)</script>\n")) == "polyglot"


def test_jpeg_with_an_appended_zip_is_refused():
    polyglot = make_image("JPEG") + make_zip({"payload.html": "<script>alert(1)</script>"})
    assert rejected(polyglot, name="photo.jpg") == "polyglot"


def test_pdf_with_an_appended_zip_is_refused():
    assert rejected(make_pdf() + make_zip({"a.txt": "x"})) == "polyglot"


def test_zip_whose_first_entry_is_a_pdf_is_refused_as_polyglot():
    data = make_zip({"doc.pdf": make_pdf()}, compression=zipfile.ZIP_STORED)
    assert rejected(data, allow_zip=True, name="a.zip") == "polyglot"


@pytest.mark.parametrize(
    "action",
    [b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/EmbeddedFiles", b"/J#61vaScript"],
    ids=["javascript", "js", "launch", "embedded-file", "embedded-files", "hex-escaped"],
)
def test_pdf_with_active_content_is_refused(action):
    extra = b"3 0 obj\n<< /Type /Action /S " + action + b" (app.alert(1)) >>\nendobj\n"
    assert rejected(make_pdf(extra)) == "active_content"


def test_pdf_action_split_across_read_chunks_is_found():
    head = b"%PDF-1.4\n"
    filler = b"%" + b"x" * (uploads.CHUNK_BYTES - 5 - len(head) - 2) + b"\n"
    data = head + filler + b"/JavaScript (x)\n%%EOF\n"
    assert data.index(b"/JavaScript") == uploads.CHUNK_BYTES - 5  # straddles the first chunk
    assert rejected(data) == "active_content"


def test_pdf_action_at_the_very_end_is_found():
    assert rejected(make_pdf() + b"/JS") == "active_content"


def test_pdf_action_names_inside_stream_data_are_not_taken_for_actions():
    # Compressed stream data is random bytes; /JS can turn up in it by chance.
    data = b"/JS /Launch (x) /JavaScript " * 10 + os.urandom(200_000)
    extra = b"3 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)
    pdf = make_pdf(extra + data + b"\nendstream\nendobj\n")
    assert inspect_upload(upload(pdf), allow_zip=False).kind == "pdf"


def test_pdf_action_after_a_stream_is_found():
    extra = b"3 0 obj\n<< /Length 4 >>\nstream\nabcd\nendstream\nendobj\n"
    extra += b"4 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj\n"
    assert rejected(make_pdf(extra)) == "active_content"


def test_pdf_without_actions_but_with_similar_names_is_accepted():
    extra = b"3 0 obj\n<< /JSON (no) /Launcher 1 /JavaScripts 2 /js 3 >>\nendobj\n"
    assert inspect_upload(upload(make_pdf(extra)), allow_zip=False).kind == "pdf"


# --- Archives ------------------------------------------------------------------------------------


def test_zip_bomb_entry_with_huge_ratio_is_refused():
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)
    with archive, archive.open("zeros.txt", "w") as entry:
        for _ in range(100):
            entry.write(bytes(1024 * 1024))
    bomb = buffer.getvalue()
    assert len(bomb) < 200_000  # 100 MB that fits in a small upload
    assert rejected(bomb, allow_zip=True, name="bomb.zip") == "bad_archive"


def test_zip_expanding_past_the_total_limit_is_refused(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ARCHIVE_TOTAL_BYTES", 100_000)
    entries = {f"part{i}.bin": os.urandom(30_000) for i in range(4)}
    assert rejected(make_zip(entries), allow_zip=True, name="a.zip") == "bad_archive"


def test_zip_with_thousands_of_entries_is_refused():
    many = make_zip({f"f{i}.txt": "x" for i in range(5000)})
    assert rejected(many, allow_zip=True, name="many.zip") == "bad_archive"


def test_zip_with_exactly_the_entry_limit_is_accepted():
    data = make_zip({f"f{i}.txt": f"row {i}" for i in range(uploads.MAX_ARCHIVE_ENTRIES)})
    assert inspect_upload(upload(data, "a.zip"), allow_zip=True).kind == "zip"


@pytest.mark.parametrize(
    "entries",
    [
        {"inner.zip": make_zip({"a.txt": "x"})},
        {"inner.dat": make_zip({"a.txt": "x"})},  # disguised by name, found by magic bytes
        {"backup.tar.gz": b"\x1f\x8b\x08\x00" + b"\x00" * 20},
        {"sheet.xlsx": b"not really"},
    ],
    ids=["zip-in-zip", "disguised-zip", "gzip", "office-in-zip"],
)
def test_nested_archives_are_refused(entries):
    assert rejected(make_zip(entries), allow_zip=True, name="a.zip") == "bad_archive"


@pytest.mark.parametrize(
    "entry_name",
    [
        "../../etc/cron.d/x",
        "/etc/passwd",
        "a/../../b.txt",
        "..\\..\\x.py",
        "C:\\x.txt",
        "a\x00.txt",
    ],
    ids=["dotdot", "absolute", "inner-dotdot", "backslash-dotdot", "drive", "nul"],
)
def test_zip_slip_entry_names_are_refused(entry_name):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("ok.txt"), "fine")
        info = zipfile.ZipInfo("placeholder.txt")
        info.filename = info.orig_filename = entry_name
        archive.writestr(info, "evil")
    assert rejected(buffer.getvalue(), allow_zip=True, name="a.zip") == "bad_archive"


def test_encrypted_entry_is_refused():
    data = bytearray(make_zip({"secret.txt": "hidden"}))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" general-purpose flag in the central directory
    assert rejected(bytes(data), allow_zip=True, name="a.zip") == "bad_archive"


def test_zip_is_refused_unless_allowed_and_accepted_when_allowed():
    data = make_zip({"invoice-1.txt": "amount 100", "scans/page1.txt": "page"})
    assert rejected(data, allow_zip=False, name="a.zip") == "type_not_allowed"
    checked = inspect_upload(upload(data, "a.zip"), allow_zip=True)
    assert (checked.kind, checked.content_type) == ("zip", "application/zip")


def test_damaged_zip_is_refused():
    assert rejected(b"PK\x03\x04" + b"\x00" * 100, allow_zip=True, name="a.zip") == "bad_archive"


# --- Office files --------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData><row><c><v>&lol9;</v></c></row></sheetData></worksheet>"
)

EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData><row><c><v>&xxe;</v></c></row></sheetData></worksheet>"
)


def test_xlsx_with_billion_laughs_is_refused():
    assert rejected(make_xlsx(sheet=BILLION_LAUGHS), name="a.xlsx") == "xml_bomb"


def test_xlsx_with_an_external_entity_is_refused():
    assert rejected(make_xlsx(sheet=EXTERNAL_ENTITY), name="a.xlsx") == "xml_bomb"


def test_xlsx_with_malformed_xml_is_refused():
    assert rejected(make_xlsx(sheet="<worksheet><unclosed>"), name="a.xlsx") == "bad_file"


def test_macro_enabled_docx_is_refused():
    docm = make_docx(main_type=DOCM_MAIN, extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"})
    assert rejected(docm, name="a.docx") == "active_content"


def test_docx_hiding_a_vba_project_under_a_plain_content_type_is_refused():
    sneaky = make_docx(extra={"word/vbaProject.bin": b"Attribute VB_Name"})
    assert rejected(sneaky, name="a.docx") == "active_content"


def test_office_file_of_another_kind_is_refused_even_when_zips_are_allowed():
    pptx = make_zip(
        {
            "[Content_Types].xml": content_types(
                "/ppt/presentation.xml",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
            ),
            "ppt/presentation.xml": "<p/>",
        }
    )
    assert rejected(pptx, allow_zip=True, name="a.pptx") == "type_not_allowed"


def test_docx_whose_main_part_is_missing_is_refused():
    data = make_zip({"[Content_Types].xml": content_types("/word/document.xml", DOCX_MAIN)})
    assert rejected(data, name="a.docx") == "type_not_allowed"


# --- Images --------------------------------------------------------------------------------------


def test_pixel_bomb_png_is_refused_without_decoding():
    bomb = png_claiming(30000, 30000)
    assert len(bomb) < 200
    assert rejected(bomb, name="a.png") == "pixel_bomb"


def test_image_over_40_megapixels_but_under_pillows_limit_is_refused():
    assert rejected(png_claiming(8000, 6000), name="a.png") == "pixel_bomb"


def test_damaged_png_is_refused():
    data = bytearray(make_image("PNG"))
    data[30] ^= 0xFF  # inside IHDR: the CRC no longer matches
    assert rejected(bytes(data), name="a.png") == "bad_file"


def test_jpeg_named_png_is_judged_by_content():
    assert inspect_upload(upload(make_image("JPEG"), "a.png"), allow_zip=False).kind == "jpeg"


# --- Accepted files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind", "content_type"),
    [
        (make_pdf(), "pdf", "application/pdf"),
        (make_image("JPEG"), "jpeg", "image/jpeg"),
        (make_image("PNG"), "png", "image/png"),
        (make_xlsx(), "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (
            make_docx(),
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
    ids=["pdf", "jpeg", "png", "xlsx", "docx"],
)
def test_valid_files_are_accepted_with_kind_and_sha256(data, kind, content_type):
    uploaded = SimpleUploadedFile("../../证据 file.bin", data, content_type="text/html")
    checked = inspect_upload(uploaded, allow_zip=False)
    assert checked.kind == kind
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    assert checked.original_name == "证据 file.bin"
    assert uploaded.tell() == 0  # rewound, ready to be saved


class ReadSpy:
    """Wraps a file and records how many bytes each read() returned."""

    def __init__(self, wrapped):
        self._wrapped = wrapped
        self.reads: list[int] = []

    def read(self, *args):
        data = self._wrapped.read(*args)
        self.reads.append(len(data))
        return data

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


def test_large_temporary_upload_is_read_in_chunks():
    size = 6 * 1024 * 1024
    data = make_pdf(pad_to=size)
    uploaded = TemporaryUploadedFile("big.pdf", "application/pdf", size, None)
    for start in range(0, size, 1024 * 1024):
        uploaded.write(data[start : start + 1024 * 1024])
    uploaded.seek(0)
    spy = ReadSpy(uploaded.file)
    uploaded.file = spy
    del data

    tracemalloc.start()
    try:
        checked = inspect_upload(uploaded, allow_zip=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        uploaded.close()

    assert checked.size == size
    # Never the whole file in one read: chunks, and the zip probe's last 64 KiB + 22 bytes.
    assert max(spy.reads) <= 2 * uploads.CHUNK_BYTES
    assert sum(spy.reads) <= 3 * size  # hash pass + PDF name scan + zip-tail probe
    assert peak < 2 * 1024 * 1024


# --- Names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.py", "x.py"),
        ("..\\..\\windows\\x.py", "x.py"),
        ("a\x00.pdf", "a.pdf"),
        ("invoice\r\nSet-Cookie: x=1.pdf", "invoiceSet-Cookie_ x=1.pdf"),
        ('say "hi".pdf', "say _hi_.pdf"),
        ("cafe\u0301.pdf", "café.pdf"),  # NFC
        ("evil\u202egpj.exe", "evilgpj.exe"),  # bidi override stripped
        ("", "file"),
        ("..", "file"),
        ("/", "file"),
        (".pdf", "pdf"),
    ],
    ids=[
        "dotdot",
        "backslashes",
        "nul",
        "newline-header-injection",
        "quotes",
        "nfc",
        "bidi",
        "empty",
        "dots",
        "slash",
        "only-extension",
    ],
)
def test_safe_display_name(name, expected):
    assert safe_display_name(name) == expected


def test_long_chinese_name_is_cut_to_120_characters_keeping_the_extension():
    name = safe_display_name("营" * 300 + ".pdf")
    assert len(name) == 120
    assert name.endswith(".pdf")
    assert name.startswith("营营")


@pytest.mark.parametrize(
    "name",
    ["../../x.py", "a\x00.pdf", "营" * 300 + ".pdf", 'a"b\r\nc.pdf', "résumé;\\ x.pdf"],
    ids=["dotdot", "nul", "chinese-300", "quote-newline", "accents-semicolon"],
)
def test_content_disposition_is_safe_for_hostile_names(name):
    header = content_disposition(name)
    assert header.startswith('attachment; filename="')
    assert re.fullmatch(r"[\x20-\x7e]+", header)  # ASCII only, no CR/LF
    match = re.fullmatch(r'attachment; filename="([^"\\]+)"; filename\*=UTF-8\'\'(\S+)', header)
    assert match, header
    assert unquote(match.group(2)) == safe_display_name(name)


def test_content_disposition_examples():
    assert content_disposition("营业执照.pdf") == (
        'attachment; filename="file.pdf"; '
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7.pdf"
    )
    assert content_disposition("résumé.pdf", inline=True) == (
        "inline; filename=\"resume.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    )


def test_storage_name_is_generated_and_never_contains_the_users_name():
    first = storage_name(prefix="evidence", kind="pdf")
    second = storage_name(prefix="evidence", kind="jpeg")
    assert re.fullmatch(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", first)
    assert re.fullmatch(r"evidence/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", second)
    assert first.rsplit("/", 1)[1][:32] != second.rsplit("/", 1)[1][:32]


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [("../evidence", "pdf"), ("/abs", "pdf"), ("evidence", "exe"), ("evidence", "html")],
)
def test_storage_name_refuses_odd_prefixes_and_kinds(prefix, kind):
    with pytest.raises(ValueError):
        storage_name(prefix=prefix, kind=kind)


# --- Virus scanning ------------------------------------------------------------------------------

# Two halves, so this test file is not itself flagged by a virus scanner.
EICAR_FIRST, EICAR_SECOND = (
    rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$",
    b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*",
)


def test_eicar_halves_make_the_standard_68_byte_string():
    assert EICAR_FIRST + EICAR_SECOND == EICAR
    assert len(EICAR) == 68


def test_eicar_is_flagged_infected():
    scanned = upload(EICAR_FIRST + EICAR_SECOND, "eicar.com")
    assert EicarOnlyScanner().scan(scanned) == (ScanResult.INFECTED, "Eicar-Test-Signature")


def test_eicar_split_across_chunks_is_flagged():
    data = b"a" * (uploads.CHUNK_BYTES - 30) + EICAR_FIRST + EICAR_SECOND + b"tail"
    assert EicarOnlyScanner().scan(io.BytesIO(data))[0] == ScanResult.INFECTED


def test_clean_file_passes_the_eicar_stand_in():
    assert EicarOnlyScanner().scan(upload(make_pdf())) == (ScanResult.CLEAN, "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_clamd_leaves_the_file_pending():
    scanner = ClamdScanner(f"tcp://127.0.0.1:{_free_port()}", timeout=2)
    result, error = scanner.scan(upload(make_pdf()))
    assert result == ScanResult.PENDING
    assert error


def test_missing_clamd_socket_leaves_the_file_pending(tmp_path):
    scanner = ClamdScanner(f"unix://{tmp_path / 'clamd.ctl'}", timeout=2)
    assert scanner.scan(upload(make_pdf()))[0] == ScanResult.PENDING


def _fake_clamd(answer: bytes, *, silent: bool = False) -> tuple[str, threading.Thread]:
    """A one-connection clamd on loopback that reads an INSTREAM and gives a fixed answer."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)

    def serve():
        with server:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(5)
                stream = connection.makefile("rb")
                assert stream.read(10) == b"zINSTREAM\0"
                while length := struct.unpack("!L", stream.read(4))[0]:
                    stream.read(length)
                if not silent:
                    connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}", thread


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"stream: OK\0", (ScanResult.CLEAN, "")),
        (b"stream: Win.Test.EICAR_HDB-1 FOUND\0", (ScanResult.INFECTED, "Win.Test.EICAR_HDB-1")),
        (b"INSTREAM size limit exceeded. ERROR\0", (ScanResult.PENDING, None)),
        (b"stream: something odd\0", (ScanResult.PENDING, None)),
    ],
    ids=["clean", "found", "error", "unexpected"],
)
def test_clamd_answers_are_mapped(answer, expected):
    url, thread = _fake_clamd(answer)
    result, detail = ClamdScanner(url, timeout=5).scan(upload(make_pdf()))
    assert result == expected[0]
    if expected[1] is not None:
        assert detail == expected[1]
    else:
        assert url in detail  # pending, with the reason for the staff page
    thread.join(5)


def test_clamd_that_hangs_leaves_the_file_pending():
    url, thread = _fake_clamd(b"", silent=True)
    result, _error = ClamdScanner(url, timeout=0.5).scan(upload(make_pdf()))
    assert result == ScanResult.PENDING
    thread.join(5)


def test_get_scanner_follows_settings(settings):
    settings.VIRUS_SCANNER = "eicar"
    assert isinstance(get_scanner(), EicarOnlyScanner)
    settings.VIRUS_SCANNER = "clamd"
    settings.CLAMD_URL = "unix:///run/clamav/clamd.ctl"
    assert isinstance(get_scanner(), ClamdScanner)
    settings.CLAMD_URL = "http://clamd:3310"
    with pytest.raises(ImproperlyConfigured, match="CLAMD_URL"):
        get_scanner()
    settings.VIRUS_SCANNER = "none"
    with pytest.raises(ImproperlyConfigured, match="VIRUS_SCANNER"):
        get_scanner()


@pytest.mark.parametrize(
    ("environment", "named"),
    [({"VIRUS_SCANNER": "off"}, "VIRUS_SCANNER"), ({"VIRUS_SCANNER": "clamd"}, "CLAMD_URL")],
    ids=["unknown-scanner", "clamd-without-url"],
)
def test_settings_refuse_a_bad_scanner_configuration(environment, named):
    env = {key: value for key, value in os.environ.items() if key != "CLAMD_URL"}
    env.update(DJANGO_SETTINGS_MODULE="hengyang_cbec.settings", **environment)
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert named in result.stderr


# --- Against a real clamd (Debian's clamav-daemon, scripts/test-clamd) ------------------------


@pytest.mark.clamd
def test_a_real_clamd_answers_ping_and_passes_a_clean_pdf(real_clamd):
    from applications.clamav import ClamdClient

    assert ClamdClient(real_clamd, timeout=10).ping() is True
    assert ClamdScanner(real_clamd, timeout=30).scan(upload(make_pdf())) == (ScanResult.CLEAN, "")


@pytest.mark.clamd
def test_a_real_clamd_flags_the_eicar_file_even_inside_a_larger_stream(real_clamd):
    scanner = ClamdScanner(real_clamd, timeout=30)
    # clamd marks signatures from a local (non-official) database `.UNOFFICIAL`.
    assert scanner.scan(upload(EICAR_FIRST + EICAR_SECOND, "eicar.com")) == (
        ScanResult.INFECTED,
        "Eicar-Test-Signature.UNOFFICIAL",
    )
    # Split across the client's 64 KiB chunks.
    data = b"a" * (uploads.CHUNK_BYTES - 30) + EICAR_FIRST + EICAR_SECOND + b"tail"
    assert scanner.scan(io.BytesIO(data))[0] == ScanResult.INFECTED


@pytest.mark.clamd
def test_a_stream_over_clamds_limit_stays_pending(tmp_path):
    """clamd answers `INSTREAM size limit exceeded. ERROR`: not clean, so pending (fail closed)."""
    import time

    from applications.clamav import ClamdClient, ClamdError

    script = Path(__file__).resolve().parents[2] / "scripts" / "test-clamd"
    env = {**os.environ, "CLAMD_STREAM_MAX": "1M"}
    process = subprocess.Popen([str(script), str(tmp_path)], env=env, stderr=subprocess.DEVNULL)
    url = f"unix://{tmp_path / 'clamd.sock'}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if ClamdClient(url, timeout=2).ping():
                    break
            except ClamdError:
                time.sleep(0.2)
        result, detail = ClamdScanner(url, timeout=30).scan(io.BytesIO(b"\0" * (3 * 1024 * 1024)))
        assert result == ScanResult.PENDING
        assert "size limit exceeded" in detail
    finally:
        process.terminate()
        process.wait(10)
