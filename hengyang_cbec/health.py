"""Health checks of the shared state the portal depends on: database, cache/broker, storage."""

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
    return settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]


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


def run_checks() -> dict:
    checks = {"database": _timed(check_database), "storage": _timed(check_storage)}
    if settings.REDIS_URL:
        checks["redis"] = _timed(check_redis)
        checks["cache"] = _timed(check_cache)
    else:
        checks["cache"] = _timed(check_cache)
        checks["broker"] = {"ok": True, "detail": "in-process (no REDIS_URL)"}
    return checks
