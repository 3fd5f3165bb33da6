"""Redis is a cache and a broker, not a dependency of the pages (SECURITY.md row 37).

A private redis-server serves as session store, cache and broker, and is stopped in the middle: a
signed-in reviewer, a login, an upload and the public pages keep working on the database; the
approvals made meanwhile are sent to the broker by the sweep once Redis is back and get their
notices; values written during the outage never come back stale from Redis.
"""

from __future__ import annotations

import logging
import os

import pytest
from django.core.cache import cache, caches
from django.urls import reverse

from applications.models import Evidence
from applications.tests.factories import EnterpriseFactory, draft, member_of, pdf_upload
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.cache import create_fallback_table
from reviews.models import Notice, NoticeOutbox
from reviews.services import notices
from reviews.tasks import render_notice
from reviews.tests.factories import Crew, advance, make_application
from tests.factories import PASSWORD, make_user
from tests.private_services import missing_binaries, private_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_server(tmp_path):
    reason = missing_binaries("redis-server")
    if reason:
        if os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)
    with private_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def redis_store(settings, redis_server, monkeypatch):
    """Sessions, cache and broker on the private Redis, as in production."""
    from hengyang_cbec.celery import app

    settings.REDIS_URL = redis_server.url
    settings.CACHES = {
        "default": {
            "BACKEND": "hengyang_cbec.cache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "KEY_PREFIX": "hy",
            "OPTIONS": {
                "socket_connect_timeout": 1,
                "socket_timeout": 1,
                "FALLBACK": "database",
                "RETRY_SECONDS": 30,
                "LOG_SECONDS": 60,
            },
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache_fallback",
            "KEY_PREFIX": "hy",
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    create_fallback_table()  # Django's setting_changed signal gave `caches` the new settings
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", redis_server.url)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    _reset_producer_pools()
    yield redis_server
    app.conf.task_always_eager = saved
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL")
    _reset_producer_pools()


def _reset_producer_pools() -> None:
    from hengyang_cbec.celery import app

    app._pool = None
    app.amqp._producer_pool = None


def _back_online(server) -> None:
    """Redis restarted, and the outage interval over: the next cache call goes to Redis."""
    server.start()
    cache._state.down_until = 0.0
    _reset_producer_pools()


def test_with_redis_stopped_reviewers_applicants_and_the_public_are_served(
    client, catalogue, redis_store, caplog, django_capture_on_commit_callbacks
):
    reviewer = make_user(Role.COMMERCE_REVIEWER, username="reviewer")
    enterprise = EnterpriseFactory()
    applicant = member_of(enterprise, "applicant")
    application = draft(enterprise, applicant)
    reviewer_client = client.__class__()
    assert reviewer_client.login(username=reviewer.username, password=PASSWORD)
    assert reviewer_client.get(reverse("reviews:commerce_queue")).status_code == 200

    redis_store.stop()
    with caplog.at_level(logging.WARNING, logger="hengyang_cbec.cache"):
        # The reviewer signed in before the outage stays signed in (session read from the database).
        queue = reviewer_client.get(reverse("reviews:commerce_queue"))
        assert queue.status_code == 200
        assert f">{reviewer}</button>" in queue.content.decode()  # still signed in, by name
        # A login through the real form (the lockout counts in the database meanwhile).
        wrong = client.post(reverse("login"), {"username": "applicant", "password": "wrong-one"})
        assert wrong.status_code == 200
        signed_in = client.post(reverse("login"), {"username": "applicant", "password": PASSWORD})
        assert signed_in.status_code == 302
        assert client.get(reverse("applications:dashboard")).status_code == 200
        # An upload: stored, left pending for the scanner (the broker is down too).
        with django_capture_on_commit_callbacks(execute=True):
            uploaded = client.post(
                reverse("applications:evidence_upload", args=[application.pk]),
                {"document_type": "business_licence", "file": pdf_upload()},
            )
        assert uploaded.status_code == 302
        evidence = Evidence.objects.get(application=application)
        assert evidence.scan_state == Evidence.ScanState.PENDING
        # The public pages.
        anonymous = client.__class__()
        for url in ("/policy/", "/measures/", "/measures/M05/", "/interpretations/", "/notices/"):
            assert anonymous.get(url).status_code == 200, url
        health = anonymous.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["degraded"] == ["redis"]
        assert anonymous.get("/healthz/broker").status_code == 503
    outage_warnings = [r for r in caplog.records if "cache unavailable" in r.getMessage()]
    assert len(outage_warnings) == 1, "logged once per interval, not once per cache call"

    _back_online(redis_store)
    # The signed-in applicant's session was rewritten during the outage: read from the database
    # again, never from what Redis held before.
    assert client.get(reverse("applications:dashboard")).status_code == 200
    assert not cache.degraded
    assert anonymous.get("/healthz").json()["status"] == "ok"
    assert anonymous.get("/healthz/broker").status_code == 200


def test_a_value_changed_during_the_outage_is_not_read_stale_from_redis(redis_store):
    cache.set("catalogue-version", "before", timeout=None)
    redis_store.stop()
    cache.set("catalogue-version", "during", timeout=None)
    assert cache.get("catalogue-version") == "during"  # shared through the database meanwhile
    redis_store.start()  # Redis without persistence: a restart lost everything...
    redis_store.stop()
    redis_store.start()
    cache._state.down_until = 0.0
    assert cache.get("catalogue-version") is None  # ...and the key written meanwhile is dropped
    assert caches["database"].get("catalogue-version") is None


def test_approvals_made_while_redis_is_down_get_their_notices_once_it_is_back(
    catalogue, redis_store, django_capture_on_commit_callbacks
):
    import redis

    crew = Crew()
    applications = [make_application() for _ in range(3)]
    redis_store.stop()
    for application in applications:
        with django_capture_on_commit_callbacks(execute=True):
            advance(application, State.APPROVED, crew=crew)
    assert NoticeOutbox.objects.filter(enqueued_at__isnull=True).count() == 3
    assert notices.sweep_outbox(grace_seconds=0) == 0  # still down: nothing sent, nothing lost

    _back_online(redis_store)
    assert notices.sweep_outbox(grace_seconds=0) == 3
    queued = redis.Redis.from_url(redis_store.url).llen(notices.settings.NOTICE_QUEUE)
    assert queued == 3
    # What the worker does with each message.
    for outbox in NoticeOutbox.objects.order_by("pk"):
        render_notice.apply(args=[outbox.pk])
    assert Notice.objects.filter(status=Notice.Status.READY).count() == 3
    assert NoticeOutbox.objects.filter(status=NoticeOutbox.Status.DONE).count() == 3
    assert notices.sweep_outbox(grace_seconds=0) == 0
