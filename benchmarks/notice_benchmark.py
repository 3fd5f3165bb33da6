"""Approval notices: the real pipeline against bare WeasyPrint on the same HTML.

    .venv/bin/python benchmarks/notice_benchmark.py [--n 50]

Sets Django up on a throw-away SQLite database and media directory (migrated here), creates `n`
approved awards through the reviews services (their render jobs held back), then in this one
process:

- pipeline: runs the Celery task `render_notice` for each job exactly as a worker does
  (`Task.apply`): claim the job, load the notice, render the Chinese and the English HTML, the
  URL fetcher, WeasyPrint, storage, SHA-256, the ready transaction with audit and notification;
- bare: `weasyprint.HTML(string=html).write_pdf(stylesheets=[css])` on the same HTML documents
  with the same stylesheet (parsed once), nothing else.

Prints seconds per notice (one notice = a Chinese and an English one-page PDF), the ratio
(goal ≤ 1.2×), notices and PDFs per minute on one process (goal ≥ 400 one-page notices), the peak
resident memory of the process and its growth over the run, and the worker recycling settings.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

_scratch = Path(tempfile.mkdtemp(prefix="notice-bench-"))
for name in ("DATABASE_URL", "REDIS_URL", "S3_BUCKET"):
    os.environ.pop(name, None)  # embedded: SQLite, in-process tasks, files on disk
os.environ["VAR_DIR"] = str(_scratch)
os.environ["MEDIA_ROOT"] = str(_scratch / "media")
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def prepare(count: int) -> list[int]:
    """`count` approved awards with their notices issued and their render jobs not yet run."""
    from applications.workflow import State
    from policies.services import bump_catalogue_version, load_catalogue, read_catalogue_files
    from reviews.models import NoticeOutbox
    from reviews.services import notices
    from reviews.tests.factories import Crew, advance, make_allocation, make_application

    call_command("migrate", verbosity=0, interactive=False)
    load_catalogue(read_catalogue_files())
    bump_catalogue_version()
    make_allocation("100000000")
    crew = Crew()
    real_enqueue = notices.enqueue
    notices.enqueue = lambda outbox_id: False  # hold the jobs back: timed below
    try:
        for _ in range(count):
            advance(make_application(), State.APPROVED, crew=crew)
    finally:
        notices.enqueue = real_enqueue
    return list(NoticeOutbox.objects.order_by("pk").values_list("pk", flat=True))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    count = parser.parse_args().n

    import weasyprint

    from hengyang_cbec.celery import app
    from reviews import pdf
    from reviews.models import Notice
    from reviews.tasks import render_notice

    print(f"HarfBuzz subsetter: {'yes' if pdf.harfbuzz_subset_available() else 'NO'}")
    jobs = prepare(count + 1)
    warm, jobs = jobs[0], jobs[1:]

    # The same HTML documents the pipeline renders, and the same stylesheet, for bare WeasyPrint.
    documents = []
    for notice in Notice.objects.select_related(
        "award__assessment",
        "award__fund_source",
        "award__approval_batch",
        "application__measure__policy",
    ).filter(outbox__pk__in=jobs):
        documents.extend(pdf.render_html(notice, language) for language in ("zh", "en"))
    css_path = ROOT / "static" / pdf.STYLESHEET
    css = weasyprint.CSS(string=css_path.read_text(encoding="utf-8"))

    # Warm both up (fonts, caches) outside the timings.
    render_notice.apply(args=[warm]).get()
    weasyprint.HTML(string=documents[0]).write_pdf(stylesheets=[css])

    rss_before = rss_mb()
    started = time.perf_counter()
    for outbox_id in jobs:
        assert render_notice.apply(args=[outbox_id]).get() == "done"
    pipeline = time.perf_counter() - started
    rss_after = rss_mb()

    started = time.perf_counter()
    for html in documents:
        weasyprint.HTML(string=html).write_pdf(stylesheets=[css])
    bare = time.perf_counter() - started

    ready = Notice.objects.filter(status=Notice.Status.READY).count()
    per_notice, bare_per_notice = pipeline / count, bare / count
    print(f"{count} notices ({2 * count} one-page PDFs), {ready - 1} rendered by the pipeline")
    print(
        f"pipeline   {pipeline:7.2f} s   {per_notice * 1000:6.0f} ms/notice   "
        f"{per_notice * 500:6.0f} ms/PDF"
    )
    print(
        f"bare       {bare:7.2f} s   {bare_per_notice * 1000:6.0f} ms/notice   "
        f"{bare_per_notice * 500:6.0f} ms/PDF"
    )
    print(f"ratio      {pipeline / bare:7.2f}x   (goal <= 1.2x)")
    print(
        f"throughput {60 / per_notice:7.0f} notices/min = {120 / per_notice:.0f} one-page PDFs/min "
        "on one process (goal >= 400 one-page notices/min)"
    )
    print(
        f"memory     peak RSS {peak_mb():.0f} MB; RSS {rss_before:.0f} -> {rss_after:.0f} MB "
        f"over {count} pipeline notices"
    )
    print(
        "recycling  worker_max_tasks_per_child="
        f"{app.conf.worker_max_tasks_per_child}, worker_max_memory_per_child="
        f"{app.conf.worker_max_memory_per_child} KiB (prefork children are replaced past either)"
    )


if __name__ == "__main__":
    main()
