"""Build the auditor's dossier of a measure and year with 1,000 applications, within a memory bound.

    .venv/bin/python benchmarks/dossier_benchmark.py [--applications 1000] [--evidence-kb 200]

Self-contained: a fresh SQLite database and media folder in a temporary directory (this process
sets DATABASE_URL and MEDIA_ROOT for itself and unsets REDIS_URL, so tasks run in-process), the
policy catalogue loaded, then N submitted M05 applications for 2026, each with an evidence file of
`--evidence-kb` KB, an assessment by the rules engine (a real trace) and its audit events; `--full`
of them (default 10) go through every step to approval, so their approval notices are rendered.

The dossier is then built by a separate process, exactly as a worker would: `dossier_request` for an
auditor, whose task runs in-process after the commit and writes the ZIP into a temporary file and
then into storage. That process reports its peak resident memory (VmHWM), the time, the ZIP's
size, and verifies the ZIP offline (every SHA-256, the chain, the HMACs).

Memory bound: the building process's peak resident memory stays under 400 MB (MEMORY_BOUND_MB),
whatever N; the ZIP is bigger than that (1,000 × 200 KB of evidence alone is 195 MB), which shows
it is streamed and not held in memory. Exit status 1 when the bound is exceeded.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMORY_BOUND_MB = 400


def _setup_django(workdir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["AUDIT_ANCHOR_PATH"] = str(workdir / "anchors.jsonl")
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hengyang_cbec.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_mb() -> float:
    """This process's peak resident memory: VmHWM on Linux (ru_maxrss there keeps the parent's
    peak across exec), else ru_maxrss (KB on Linux, bytes on macOS)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def prepare(workdir: Path, count: int, evidence_kb: int, full: int) -> None:
    """The database: catalogue, N applications with evidence, assessments and audit events."""
    _setup_django(workdir)
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.db import transaction

    from applications.models import Evidence
    from applications.workflow import State
    from hengyang_cbec.accounts.roles import Role
    from hengyang_cbec.audit.services import record
    from policies.services import load_catalogue, read_catalogue_files
    from reviews.services.assessment import assess
    from reviews.tests.factories import (
        Crew,
        advance,
        make_application,
        make_enterprise,
        make_member,
        make_staff,
    )

    call_command("migrate", verbosity=0)
    load_catalogue(read_catalogue_files())
    reviewer = make_staff(Role.COMMERCE_REVIEWER, "bench_commerce")
    crew = Crew()
    make_staff(Role.AUDITOR, "bench_auditor", full_name="周立（市审计局）")
    filer = None  # one applicant account files for the enterprises (password hashing is slow)
    started = time.perf_counter()
    for n in range(count):
        enterprise = make_enterprise(f"衡阳基准测试跨境电商有限公司{n:04d}")
        if n < full or filer is None:
            filer = make_member(enterprise)
        application = make_application(enterprise=enterprise, submitter=filer, year=2026)
        body = b"%PDF-1.4\n" + os.urandom(evidence_kb * 1024)
        name = default_storage.save(f"evidence/bench/{n}.pdf", ContentFile(body))
        Evidence.objects.create(
            application=application,
            document_type="business_licence",
            file=name,
            original_name=f"营业执照-{n}.pdf",
            kind="pdf",
            content_type="application/pdf",
            size=len(body),
            sha256="0" * 64,
            scan_state=Evidence.ScanState.CLEAN,
            frozen=True,
            uploaded_by=application.created_by,
        )
        if n < full:
            advance(application, State.APPROVED, crew=crew)
        else:
            with transaction.atomic():
                assess(application, application.declared_facts, reviewer)
                pk = application.pk
                for action in ("review.submit", "review.take", "review.verify"):
                    record(action=action, actor=reviewer, obj=application, application_id=pk)
        if (n + 1) % 100 == 0:
            print(f"  prepared {n + 1} applications ({time.perf_counter() - started:.0f} s)")


def build(workdir: Path, trace: bool) -> int:
    """In a fresh process: build the dossier as the worker does, report memory, verify."""
    _setup_django(workdir)
    from django.conf import settings
    from django.core.files.storage import default_storage

    from hengyang_cbec.accounts.models import User
    from reviews.dossier.verify import verify
    from reviews.services.dossier import dossier_request

    if trace:
        import tracemalloc

        tracemalloc.start()
    before = peak_mb()
    auditor = User.objects.get(username="bench_auditor")
    started = time.perf_counter()
    job = dossier_request(user=auditor, scope="measure_year", measure_code="M05", year=2026)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    after = peak_mb()
    traced = ""
    if trace:
        traced = f", Python heap peak {tracemalloc.get_traced_memory()[1] / 1024 / 1024:.1f} MB"
    zip_mb = job.size / 1024 / 1024
    print(
        f"dossier of {job.rows_total} applications: {job.status} in {seconds:.1f} s "
        f"({seconds / max(job.rows_total, 1) * 1000:.0f} ms each), ZIP {zip_mb:.1f} MB, "
        f"{job.events} audit events"
    )
    print(
        f"peak resident memory of the building process: {after:.1f} MB "
        f"(before the build {before:.1f} MB; bound {MEMORY_BOUND_MB} MB){traced}"
    )
    local = workdir / "dossier.zip"
    with default_storage.open(job.file.name, "rb") as source, local.open("wb") as target:
        while chunk := source.read(1024 * 1024):
            target.write(chunk)
    report = verify(str(local), keys=dict(settings.AUDIT_HMAC_KEYS), sha256=job.sha256)
    print(
        f"offline verification: {'OK' if report.ok else 'FAILED'} ({report.files} files, "
        f"{report.events} events, {report.hmac_checked} HMACs, {report.links} links)"
    )
    for problem in report.problems[:10]:
        print(f"  {problem}")
    ok = job.status == "ready" and report.ok and after <= MEMORY_BOUND_MB
    print("within the bound" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--evidence-kb", type=int, default=200)
    parser.add_argument("--full", type=int, default=10, help="applications driven to approval")
    parser.add_argument("--trace", action="store_true", help="also tracemalloc (slower)")
    parser.add_argument("--build-only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        return build(Path(args.build_only), args.trace)
    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as tmp:
        workdir = Path(tmp)
        print(f"preparing {args.applications} applications in {workdir}")
        started = time.perf_counter()
        prepare(workdir, args.applications, args.evidence_kb, args.full)
        print(f"prepared in {time.perf_counter() - started:.0f} s")
        command = [sys.executable, __file__, "--build-only", str(workdir)]
        if args.trace:
            command.append("--trace")
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
