"""Fault runs (SECURITY.md rows 37-40): `make faults`, or

    .venv/bin/python tests/faults/run.py [--awards 12] [--kills 4] [--rounds 20] [--only NAME]

Everything runs on PRIVATE instances started here (PostgreSQL by initdb in a temporary directory,
redis-server), on free ports: the shared services are never stopped. One Celery worker (prefork,
one child) renders the notices, as in production; this process plays beat (the sweeps).

Runs:
- worker-killed: the worker's child is SIGKILLed mid-render, `--kills` times;
- redis-stopped: Redis is stopped while the awards are approved, and started again;
- postgres-stopped: PostgreSQL is stopped for 20 s while notices render;
- payments: `--rounds` times, a line is marked paid twice and the bank's result imported twice,
  all four at the same moment.

Each notice run ends with the checks: approved = ready notices = delivered outbox rows; no
duplicate notice or number; no orphan file; budget never overspent; audit events = actions; the
audit chain verifies. The payment run checks each line paid exactly once, with no error other than
the portal's own refusals. Prints one line per run and exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.private_services import PrivatePostgres, PrivateRedis  # noqa: E402

QUEUE = "faults"


@dataclass
class Outcome:
    name: str
    counts: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            self.failures.append(message)


class Worker:
    def __init__(self, log: Path):
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                [
                    str(ROOT / ".venv/bin/celery"),
                    "-A",
                    "hengyang_cbec",
                    "worker",
                    "-P",
                    "prefork",
                    "-c",
                    "1",
                    "-Q",
                    QUEUE,
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel=INFO",
                    "-n",
                    f"faults-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        wait(lambda: "ready." in self.log.read_text(errors="replace"), 240, "worker start")

    def child(self) -> int | None:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = path.read_text().split() if path.exists() else []
        return int(pids[0]) if pids else None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def configure(workdir: Path) -> tuple[PrivatePostgres, PrivateRedis]:
    postgres = PrivatePostgres(workdir / "postgres").init().start()
    redis = PrivateRedis(workdir / "redis").start()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "hengyang_cbec.settings",
            "DATABASE_URL": postgres.createdb("portal"),
            "REDIS_URL": redis.url,
            "VAR_DIR": str(workdir / "var"),
            "MEDIA_ROOT": str(workdir / "media"),
            "NOTICE_QUEUE": QUEUE,
            "NOTICE_STALE_SECONDS": "30",
            "NOTICE_MAX_ATTEMPTS": "10",
            "PORTAL_PROFILE": "embedded",
        }
    )
    for name in ("CELERY_BROKER_WRITE_URL", "S3_BUCKET"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_policy", verbosity=0)
    return postgres, redis


def sweep() -> None:
    """What beat does: the notice outbox sweep; a database still down is tried next time."""
    from django.db import DatabaseError, close_old_connections

    from reviews.services import notices

    try:
        notices.sweep_outbox(grace_seconds=5)
    except DatabaseError:
        close_old_connections()


def approve(applications, crew) -> None:
    from applications.workflow import State
    from reviews.tests.factories import advance

    for application in applications:
        advance(application, State.APPROVED, crew=crew)


def at_government_approval(count: int, crew):
    from applications.workflow import State
    from reviews.tests.factories import advance, make_application

    applications = [make_application() for _ in range(count)]
    for application in applications:
        advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    return applications


def finished(applications) -> bool:
    from django.db import DatabaseError, close_old_connections

    from reviews.models import NoticeOutbox

    try:
        return not NoticeOutbox.objects.filter(
            notice__application__in=applications, status=NoticeOutbox.Status.PENDING
        ).exists()
    except DatabaseError:
        close_old_connections()
        return False


def settle(applications, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not finished(applications):
        sweep()
        time.sleep(2)


def check_notices(outcome: Outcome, applications, media: Path) -> None:
    from django.db.models import Count, Q

    from hengyang_cbec.audit.models import AuditEvent
    from hengyang_cbec.audit.services import verify_chain
    from reviews.models import Award, BudgetAllocation, Notice, NoticeOutbox

    ids = [a.pk for a in applications]
    approved = Award.objects.filter(application_id__in=ids, status=Award.Status.FIXED).count()
    ready = Notice.objects.filter(
        application_id__in=ids, status=Notice.Status.READY, superseded_at__isnull=True
    )
    delivered = NoticeOutbox.objects.filter(
        notice__application_id__in=ids, status=NoticeOutbox.Status.DONE
    ).count()
    outcome.counts.update(approved=approved, ready=ready.count(), delivered=delivered)
    outcome.check(
        approved == ready.count() == delivered == len(ids),
        f"approved {approved}, ready notices {ready.count()}, delivered {delivered}",
    )
    doubled = (
        Notice.objects.filter(application_id__in=ids, superseded_at__isnull=True)
        .values("award_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .count()
    )
    outcome.check(doubled == 0, f"{doubled} awards with more than one current notice")
    numbers = list(Notice.objects.values_list("number", flat=True))
    outcome.check(len(numbers) == len(set(numbers)), "notice numbers repeat")
    referenced = {
        name for pair in Notice.objects.values_list("file_zh", "file_en") for name in pair if name
    }

    def on_disk() -> set[str]:
        if not (media / "notices").exists():
            return set()
        return {str(path.relative_to(media)) for path in (media / "notices").rglob("*.pdf")}

    # Renders killed between writing a file and committing its row leave files behind; this
    # process plays beat, whose sweep removes them. Every notice is ready here, so no render is
    # in flight and the sweep may run without its grace period.
    left = on_disk() - referenced - context_orphans_before
    outcome.counts["files_left_by_kills"] = len(left)
    from reviews.services.notices import sweep_orphan_files

    outcome.counts["files_swept"] = sweep_orphan_files(grace_seconds=0)
    orphans = on_disk() - referenced - context_orphans_before
    context_orphans_before.update(orphans)  # each run reports the orphans it left itself
    outcome.counts["orphan_files"] = len(orphans)
    outcome.check(not orphans, f"{len(orphans)} PDF files no notice references")
    overspent = BudgetAllocation.objects.filter(Q(committed_cny__gt=models_f("amount_cny"))).count()
    outcome.check(overspent == 0, f"{overspent} allocations overspent")
    recorded = AuditEvent.objects.filter(
        application_id__in=ids, action="review.record_approval"
    ).count()
    ready_events = AuditEvent.objects.filter(application_id__in=ids, action="notice.ready").count()
    outcome.counts.update(approval_events=recorded, ready_events=ready_events)
    outcome.check(recorded == approved, f"{recorded} approval audit events for {approved}")
    outcome.check(
        ready_events == ready.count(), f"{ready_events} notice.ready events for {ready.count()}"
    )
    chain = verify_chain()
    outcome.check(chain.ok, f"audit chain broken at {chain.broken_at}: {chain.reason}")


# Orphan files already counted by an earlier run.
context_orphans_before: set[str] = set()


def models_f(name: str):
    from django.db.models import F

    return F(name)


# --- The runs -------------------------------------------------------------------------------------


def run_worker_killed(context, awards: int, kills: int) -> Outcome:
    from reviews.models import NoticeOutbox

    outcome = Outcome("worker killed mid-render")
    applications = at_government_approval(awards, context.crew)
    approve(applications, context.crew)
    done = 0
    deadline = time.monotonic() + 300
    while done < kills and time.monotonic() < deadline and not finished(applications):
        running = NoticeOutbox.objects.filter(
            notice__application__in=applications,
            status=NoticeOutbox.Status.PENDING,
            started_at__isnull=False,
        ).exists()
        child = context.worker.child()
        if running and child:
            time.sleep(0.3)  # inside WeasyPrint
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
                done += 1
            time.sleep(1.5)
        else:
            time.sleep(0.1)
    outcome.counts["kills"] = done
    settle(applications)
    check_notices(outcome, applications, context.media)
    return outcome


def run_redis_stopped(context, awards: int) -> Outcome:
    outcome = Outcome("Redis stopped during approvals")
    applications = at_government_approval(awards, context.crew)
    context.redis.stop()
    started = time.monotonic()
    try:
        approve(applications, context.crew)
    finally:
        context.redis.start()
    outcome.counts["approve_s"] = round(time.monotonic() - started, 1)
    settle(applications)
    check_notices(outcome, applications, context.media)
    return outcome


def run_postgres_stopped(context, awards: int, down_seconds: float = 20) -> Outcome:
    from django.db import connections

    from reviews.models import NoticeOutbox

    outcome = Outcome("PostgreSQL stopped during rendering")
    applications = at_government_approval(awards, context.crew)
    approve(applications, context.crew)
    wait(
        lambda: NoticeOutbox.objects.filter(
            notice__application__in=applications, started_at__isnull=False
        ).exists(),
        120,
        "a render to start",
    )
    connections.close_all()
    context.postgres.stop(mode="immediate")
    time.sleep(down_seconds)
    context.postgres.start()
    outcome.counts["down_s"] = down_seconds
    settle(applications)
    check_notices(outcome, applications, context.media)
    return outcome


def run_payments(context, rounds: int) -> Outcome:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.utils import timezone

    from hengyang_cbec.accounts.roles import Role
    from hengyang_cbec.audit.models import AuditEvent
    from hengyang_cbec.audit.services import verify_chain
    from reviews.models import DisbursementLine
    from reviews.services import finance
    from reviews.tests.factories import make_staff

    outcome = Outcome("concurrent payments")
    maker = make_staff(Role.DISBURSEMENT_OFFICER)
    checker = make_staff(Role.DISBURSEMENT_OFFICER)
    payable = list(finance.payable_awards().order_by("pk")[:rounds])
    if len(payable) < rounds:
        applications = at_government_approval(rounds - len(payable), context.crew)
        approve(applications, context.crew)
        payable = list(finance.payable_awards().order_by("pk")[:rounds])
    errors: list[str] = []
    refusals = 0
    lines = []
    for award in payable:
        batch = finance.batch_create(user=maker, award_ids=[award.pk])
        finance.batch_confirm(user=checker, batch=batch)
        lines.append(batch.lines.get())
    for line in lines:
        result = (
            "account,amount,reference,status\n"
            f"{line.bank_account},{line.amount_cny:.2f},BANK-{line.pk},paid\n"
        ).encode()
        barrier = threading.Barrier(4)

        def act(kind: str, line=line, result=result, barrier=barrier) -> None:
            nonlocal refusals
            try:
                barrier.wait(timeout=30)
                if kind == "pay":
                    finance.line_mark_paid(
                        user=maker,
                        line=line,
                        paid_on=timezone.localdate(),
                        reference=f"P-{line.pk}",
                    )
                else:
                    report = finance.reconcile(
                        user=maker,
                        batch=line.batch,
                        upload=SimpleUploadedFile("result.csv", result),
                    )
                    if report.errors:
                        refusals += 1
            except finance.FinanceError:
                refusals += 1
            except Exception as exc:
                errors.append(f"{kind} line {line.pk}: {type(exc).__name__}: {exc}"[:300])
            finally:
                connection.close()

        threads = [threading.Thread(target=act, args=(k,)) for k in ("pay", "bank", "pay", "bank")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    paid_events = {
        line.pk: AuditEvent.objects.filter(action="finance.pay", object_id=str(line.pk)).count()
        for line in lines
    }
    paid = DisbursementLine.objects.filter(
        pk__in=[line.pk for line in lines], state=DisbursementLine.State.PAID
    ).count()
    outcome.counts.update(rounds=len(lines), paid=paid, refusals=refusals, errors=len(errors))
    outcome.check(paid == len(lines), f"{paid} of {len(lines)} lines paid")
    twice = [pk for pk, n in paid_events.items() if n != 1]
    outcome.check(not twice, f"lines with other than one payment event: {twice[:10]}")
    outcome.check(not errors, "errors: " + "; ".join(errors[:5]))
    chain = verify_chain()
    outcome.check(chain.ok, f"audit chain broken at {chain.broken_at}: {chain.reason}")
    return outcome


@dataclass
class Context:
    postgres: PrivatePostgres
    redis: PrivateRedis
    worker: Worker
    media: Path
    crew: object


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awards", type=int, default=12)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--only", choices=["worker", "redis", "postgres", "payments"])
    options = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="hy-faults-"))
    postgres, redis = configure(workdir)
    from reviews.tests.factories import Crew

    worker = Worker(workdir / "worker.log")
    context = Context(postgres, redis, worker, workdir / "media", Crew())
    runs = {
        "worker": lambda: run_worker_killed(context, options.awards, options.kills),
        "redis": lambda: run_redis_stopped(context, options.awards),
        "postgres": lambda: run_postgres_stopped(context, options.awards),
        "payments": lambda: run_payments(context, options.rounds),
    }
    outcomes: list[Outcome] = []
    try:
        worker.start()
        for name, run in runs.items():
            if options.only and name != options.only:
                continue
            started = time.monotonic()
            try:
                outcome = run()
            except Exception as exc:
                outcome = Outcome(name, failures=[f"{type(exc).__name__}: {exc}"[:500]])
            outcome.seconds = time.monotonic() - started
            outcomes.append(outcome)
            status = "ok" if not outcome.failures else "FAILED"
            counts = ", ".join(f"{k} {v}" for k, v in outcome.counts.items())
            print(f"{outcome.name:<38} {status:<6} {outcome.seconds:5.0f} s  {counts}", flush=True)
            for failure in outcome.failures:
                print(f"    - {failure}", flush=True)
    finally:
        worker.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        redis.stop()
        postgres.stop()
    print(f"(work directory {workdir}; worker log {worker.log})")
    return 1 if any(o.failures for o in outcomes) else 0


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, line_buffering=True)
    sys.exit(main())
