"""Health checks of the shared state the portal uses: database, storage, Redis (cache and broker).

The pages need the database and the storage: either down makes /healthz answer 503. Redis is a
cache and the task broker: the pages keep working without it (the cache falls back to the
database, jobs wait in their outboxes), so /healthz reports it as degraded and still answers 200.
Only /healthz/broker, the check of the processes that need the broker (workers, beat), answers 503
when Redis is down.
"""

from __future__ import annotations

import time
import uuid

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
    except Exception as exc:  # any failure means "down"; its type and message are reported
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result["detail"] = detail
    return result


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_cache() -> str:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("value written to the cache could not be read back")
    cache.delete(key)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    if getattr(cache, "degraded", False):
        return f"{backend}: database fallback (Redis unavailable)"
    return backend


def check_redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
    )
    try:
        client.ping()
    finally:
        client.close()
    return "broker and cache"


def check_storage() -> str:
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as handle:
            if handle.read() != b"ok":
                raise RuntimeError("file written to storage could not be read back")
    finally:
        default_storage.delete(name)
    return type(default_storage._wrapped).__name__


# Components without which the pages cannot work; the others only degrade the service.
REQUIRED = frozenset({"database", "storage", "cache"})


def run_checks() -> dict:
    checks = {
        "database": _timed(check_database),
        "storage": _timed(check_storage),
        "cache": _timed(check_cache),
    }
    if settings.REDIS_URL:
        checks["redis"] = _timed(check_redis)
    else:
        checks["broker"] = {"ok": True, "detail": "in-process (no REDIS_URL)"}
    return checks


def summary(checks: dict) -> tuple[dict, int]:
    """The /healthz body and status: 503 when a required component is down."""
    down = sorted(name for name, check in checks.items() if not check["ok"] and name in REQUIRED)
    degraded = sorted(
        name for name, check in checks.items() if not check["ok"] and name not in REQUIRED
    )
    status = "error" if down else "degraded" if degraded else "ok"
    body = {"status": status, "down": down, "degraded": degraded, "checks": checks}
    return body, 503 if down else 200


def broker_summary() -> tuple[dict, int]:
    """The broker check (workers, beat): 503 when Redis, the broker, does not answer."""
    if not settings.REDIS_URL:
        return {"status": "ok", "broker": {"ok": True, "detail": "in-process (no REDIS_URL)"}}, 200
    broker = _timed(check_redis)
    return {"status": "ok" if broker["ok"] else "error", "broker": broker}, (
        200 if broker["ok"] else 503
    )
