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
def test_healthz_reports_redis_down_as_degraded_and_only_the_broker_check_answers_503(
    client, settings
):
    from hengyang_cbec.cache import create_fallback_table

    settings.REDIS_URL = CLOSED_PORT_REDIS
    settings.CACHES = {  # Django's setting_changed signal rebuilds the cache handler
        "default": {
            "BACKEND": "hengyang_cbec.cache.ResilientRedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache_fallback",
        },
    }
    create_fallback_table()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["down"] == []
    assert body["degraded"] == ["redis"]
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["cache"]["ok"] is True
    assert "database fallback" in body["checks"]["cache"]["detail"]
    broker = client.get("/healthz/broker")
    assert broker.status_code == 503
    assert broker.json()["broker"]["ok"] is False


@pytest.mark.django_db
def test_healthz_answers_503_when_storage_fails(client, settings, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken_save)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["down"] == ["storage"]


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_with_real_redis_is_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["redis"]["ok"] is True
