"""Approval notices with a real Celery worker on Redis and PostgreSQL (SECURITY.md rows
24-25 and 37-40): the worker renders, Redis down loses nothing, a killed worker and a render over
its time limit still end with exactly one notice.

The worker is a subprocess on the test database (pytest-django's test_… database), listening on
a queue of its own so that no other worker on the same Redis takes these jobs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from applications.workflow import State
from reviews.models import Award, Notice, NoticeOutbox
from reviews.services import notices
from reviews.tasks import render_notice

from .factories import Crew, advance, make_application
from .test_notices import pdf_text, stored

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PORT_BROKER = "redis://127.0.0.1:9/0"


def wait_for(predicate, *, timeout: float = 90, message: str = "", log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
    pytest.fail(f"timed out waiting for {message}\n--- worker log ---\n{tail}")


def _database_url() -> str:
    db = connection.settings_dict
    credentials = db["USER"] or ""
    if db["PASSWORD"]:
        credentials += f":{db['PASSWORD']}"
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{credentials}@{host}/{db['NAME']}"


def _reset_producer_pools() -> None:
    from hengyang_cbec.celery import app

    app._pool = None
    app.amqp._producer_pool = None


@contextlib.contextmanager
def broker_down(monkeypatch):
    """The test process's broker is a closed port (Redis "stopped"), then Redis again."""
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", CLOSED_PORT_BROKER)
    _reset_producer_pools()
    try:
        yield
    finally:
        monkeypatch.delenv("CELERY_BROKER_WRITE_URL")
        _reset_producer_pools()


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []


@pytest.fixture
def worker(settings, tmp_path):
    """Start a worker: `worker(pool="solo", **env)`; stopped (and its queue deleted) after."""
    import redis

    queue = f"notices-test-{uuid.uuid4().hex[:10]}"
    settings.NOTICE_QUEUE = queue
    workers: list[Worker] = []

    def start(*, pool: str = "solo", **extra_env: str) -> Worker:
        log = tmp_path / f"worker-{len(workers)}.log"
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "NOTICE_QUEUE": queue,
            "DJANGO_SETTINGS_MODULE": "hengyang_cbec.settings",
            **extra_env,
        }
        command = [
            str(ROOT / ".venv/bin/celery"),
            "-A",
            "hengyang_cbec",
            "worker",
            "-P",
            pool,
            "-c",
            "1",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-Q",
            queue,
            "-n",
            f"{queue}-{len(workers)}@%h",
            "--loglevel=INFO",
        ]
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
            )
        started = Worker(process, log)
        workers.append(started)
        wait_for(
            lambda: "ready." in log.read_text(errors="replace") or not started.alive(),
            timeout=60,
            message="the worker to start",
            log=log,
        )
        assert started.alive(), log.read_text(errors="replace")
        return started

    yield start
    for started in workers:
        if started.alive():
            started.process.send_signal(signal.SIGTERM)
            try:
                started.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                started.process.kill()
                started.process.wait(timeout=10)
    redis.Redis.from_url(settings.REDIS_URL).delete(queue)


def ready_notice(application, worker: Worker, timeout: float = 90) -> Notice:
    return wait_for(
        lambda: Notice.objects.filter(application=application, status="ready").first(),
        timeout=timeout,
        message=f"the notice of {application.reference}",
        log=worker.log,
    )


def heavy(application, crew: Crew, lines: int) -> Award:
    """An application at government approval whose stored computation is absurdly long."""
    advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    award = Award.objects.get(application=application)
    assessment = award.assessment
    for field in ("result_zh", "result_en"):
        result = getattr(assessment, field)
        result["trace"] = [
            {"clause": "I", "text": f"第 {n} 条很长的事实说明文字" * 6} for n in range(lines)
        ]
    assessment.save(update_fields=["result_zh", "result_en"])
    return award


def test_a_real_worker_renders_a_readable_chinese_notice(worker, catalogue):
    running = worker()
    application = make_application()
    advance(application, State.APPROVED, crew=Crew())  # on commit: the job goes to Redis
    notice = ready_notice(application, running)
    text = pdf_text(stored(notice, "zh")).replace("\n", "")
    assert application.enterprise.name in text
    assert notice.number in text
    assert "壹拾万元整" in text
    assert notice.outbox.status == NoticeOutbox.Status.DONE
    assert notice.outbox.enqueued_at is not None


def test_the_job_sent_twice_to_a_worker_leaves_one_notice(worker, catalogue, monkeypatch):
    application = make_application()
    with broker_down(monkeypatch):  # the approval's own enqueue fails; we send it by hand
        advance(application, State.APPROVED, crew=Crew())
    outbox = NoticeOutbox.objects.get(notice__application=application)
    for _ in range(2):
        render_notice.apply_async(args=[outbox.pk], queue=notices.settings.NOTICE_QUEUE)
    running = worker()
    notice = ready_notice(application, running)
    wait_for(
        lambda: "'skipped'" in running.log.read_text(errors="replace"),
        message="the second run",
        log=running.log,
    )
    assert Notice.objects.filter(application=application).count() == 1
    notice.outbox.refresh_from_db()
    assert notice.outbox.attempts == 1
    assert len(list(Path(notices.settings.MEDIA_ROOT).rglob("*.pdf"))) == 2


def test_redis_down_while_twenty_awards_are_fixed_loses_and_doubles_nothing(
    worker, catalogue, monkeypatch
):
    crew = Crew()
    applications = [make_application() for _ in range(20)]
    for application in applications:
        advance(application, State.GOVERNMENT_APPROVAL, crew=crew)
    started = time.monotonic()
    with broker_down(monkeypatch):
        for application in applications:
            advance(application, State.APPROVED, crew=crew)  # each approval succeeds
    assert time.monotonic() - started < 60  # nobody waited on the dead broker
    assert Award.objects.filter(status=Award.Status.FIXED).count() == 20
    assert NoticeOutbox.objects.filter(enqueued_at__isnull=True).count() == 20
    assert not Notice.objects.filter(status="ready").exists()

    running = worker()  # Redis is back
    assert notices.sweep_outbox(grace_seconds=0) == 20
    wait_for(
        lambda: Notice.objects.filter(status="ready").count() == 20,
        timeout=180,
        message="20 notices",
        log=running.log,
    )
    assert notices.sweep_outbox(grace_seconds=0) == 0
    assert Notice.objects.count() == 20
    assert len(set(Notice.objects.values_list("number", flat=True))) == 20
    assert sorted(Notice.objects.values_list("serial", flat=True)) == list(range(1, 21))
    assert NoticeOutbox.objects.filter(status="done").count() == 20
    assert len(list(Path(notices.settings.MEDIA_ROOT).rglob("*.pdf"))) == 40


def test_a_worker_killed_mid_render_ends_with_one_notice(worker, catalogue):
    running = worker(pool="prefork")
    application = make_application()
    crew = Crew()
    heavy(application, crew, lines=1500)
    advance(application, State.APPROVED, crew=crew)
    outbox = NoticeOutbox.objects.get(notice__application=application)
    wait_for(
        lambda: NoticeOutbox.objects.filter(pk=outbox.pk, attempts=1).exists(),
        message="the first attempt",
        log=running.log,
    )
    time.sleep(1.0)  # well inside the render
    children = running.children()
    assert children, "the prefork pool has a child process"
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    notice = ready_notice(application, running, timeout=120)
    notice.outbox.refresh_from_db()
    assert notice.outbox.attempts == 2  # the message came back (reject_on_worker_lost)
    assert Notice.objects.filter(application=application).count() == 1
    assert running.alive()
    assert "SIGKILL" in running.log.read_text(errors="replace")


def test_a_render_over_its_time_limit_fails_the_worker_survives_and_retry_works(
    worker, catalogue, monkeypatch
):
    # The limits travel in the message, from the sender's task options: lower them on both sides.
    monkeypatch.setattr(render_notice, "soft_time_limit", 2)
    monkeypatch.setattr(render_notice, "time_limit", 20)
    monkeypatch.setattr(render_notice, "_exec_options", None)  # Celery caches the options
    running = worker(pool="prefork", NOTICE_SOFT_TIME_LIMIT="2", NOTICE_TIME_LIMIT="20")
    crew = Crew()
    slow = make_application()
    heavy(slow, crew, lines=4000)
    advance(slow, State.APPROVED, crew=crew)
    failed = wait_for(
        lambda: Notice.objects.filter(application=slow, status="failed").first(),
        timeout=60,
        message="the notice to fail",
        log=running.log,
    )
    assert "time limit" in failed.error
    assert running.alive()

    quick = make_application()
    advance(quick, State.APPROVED, crew=crew)
    ready_notice(quick, running)  # the same worker goes on

    # What a notice prints is frozen on it at issue: shorten that copy so the retry renders in time.
    failed.refresh_from_db()
    failed.trace_zh, failed.trace_en = failed.trace_zh[:5], failed.trace_en[:5]
    failed.save(update_fields=["trace_zh", "trace_en"])
    notices.notice_retry(user=crew.registrar, notice=failed)
    notice = ready_notice(slow, running)
    assert notice.pk == failed.pk
    assert Notice.objects.filter(application=slow).count() == 1
    text = pdf_text(stored(notice, "zh"))
    assert notice.number in text
