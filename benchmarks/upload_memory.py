"""Peak memory growth while inspect_upload checks a 20 MB PDF (goal: under 30 MB).

    DJANGO_SETTINGS_MODULE=hengyang_cbec.settings .venv/bin/python benchmarks/upload_memory.py

The file is written to disk in 1 MB pieces and wrapped as Django's TemporaryUploadedFile, as the
upload handler would leave a big upload. A warm-up on a small PDF first loads libmagic's database,
so the figures are the check's own; the warm-up's growth is printed too. Two figures: the growth
of the process's peak RSS (getrusage ru_maxrss) and tracemalloc's peak of Python allocations.
"""

from __future__ import annotations

import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import django  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile  # noqa: E402

from applications.uploads import inspect_upload  # noqa: E402

MB = 1024 * 1024
GOAL_MB = 30


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / MB


def pdf_like_upload(size: int) -> TemporaryUploadedFile:
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    tail = b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    upload = TemporaryUploadedFile("big.pdf", "application/pdf", size, None)
    upload.write(head)
    # Objects with dictionaries (names for the action scan to look at) and binary streams.
    stream = bytes(range(256)) * 16
    obj = (
        b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /BitsPerComponent 8"
        b" /ColorSpace /DeviceRGB /Filter /DCTDecode /Length 4096 >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\n"
    )
    block = obj * (MB // len(obj))
    remaining = size - len(head) - len(tail)
    while remaining > 0:
        piece = block[:remaining]
        upload.write(piece)
        remaining -= len(piece)
    upload.write(tail)
    upload.flush()
    upload.seek(0)
    return upload


def main() -> int:
    size = settings.UPLOAD_MAX_BYTES  # 20 MB by default: the largest file accepted
    upload = pdf_like_upload(size)
    try:
        before_warm_up = peak_rss_mb()
        small = SimpleUploadedFile("small.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
        inspect_upload(small, allow_zip=False)
        before = peak_rss_mb()

        tracemalloc.start()
        started = time.perf_counter()
        checked = inspect_upload(upload, allow_zip=False)
        elapsed = time.perf_counter() - started
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        after = peak_rss_mb()
    finally:
        upload.close()

    growth = after - before
    print(f"file: {checked.size / MB:.1f} MB, kind {checked.kind}, checked in {elapsed:.2f} s")
    print(f"warm-up (libmagic database, first call): +{before - before_warm_up:.1f} MB peak RSS")
    print(f"peak RSS growth (ru_maxrss): {growth:.1f} MB ({before:.1f} -> {after:.1f} MB)")
    print(f"tracemalloc peak: {traced_peak / MB:.2f} MB")
    verdict = "OK" if growth < GOAL_MB and traced_peak < GOAL_MB * MB else "OVER"
    print(f"goal < {GOAL_MB} MB: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
