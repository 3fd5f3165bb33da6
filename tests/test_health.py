from __future__ import annotations

import pytest

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
def test_healthz_reports_every_component_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["down"] == []
    assert {"database", "cache", "storage"} <= set(body["checks"])
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_healthz_answers_503_and_names_redis_when_redis_is_down(client, settings):
    settings.REDIS_URL = CLOSED_PORT_REDIS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    from django.core.cache import caches

    caches._settings = caches.settings = settings.CACHES  # the handler caches its settings
    try:
        response = client.get("/healthz")
    finally:
        del caches._settings
        del caches["default"]  # the next use builds the configured cache again
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert "redis" in body["down"]
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]


@pytest.mark.django_db
def test_healthz_answers_503_when_storage_fails(client, settings, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken_save)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["storage"]


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_with_real_redis_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"]["ok"] is True
