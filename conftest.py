"""Test-wide setup: real services when configured, skipped (or failed) when not.

Tests marked `postgres`, `redis`, `browser`, `celery_worker` or `clamd` need that service. Without
it they are skipped with the reason printed in the summary; with REQUIRE_SERVICES=1 (CI) a missing
service is a failure instead, so nothing is silently skipped there.
"""

from __future__ import annotations

import functools
import os
import shutil

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

pytest_plugins = ["tests.fixtures"]

# Property tests: 30 examples per property in everyday runs (the engine's branches are reached
# well before that); HYPOTHESIS_PROFILE=thorough searches 500 per property.
hypothesis_settings.register_profile(
    "portal", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("portal"), max_examples=500
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "portal"))

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM = "/usr/bin/chromium"

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make beside
# it are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@functools.cache
def _postgres_missing() -> str | None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if not engine.endswith("postgresql"):
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    return None


@functools.cache
def _redis_missing() -> str | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis at REDIS_URL is not reachable: {exc}"
    return None


@functools.cache
def _browser_missing() -> str | None:
    if not shutil.which(CHROMIUM):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs the playwright package (requirements-dev.txt)"
    return None


@functools.cache
def _clamd_missing() -> str | None:
    if not (shutil.which("clamd") or os.access("/usr/sbin/clamd", os.X_OK)):
        return "needs ClamAV's daemon (scripts/install-system-packages --clamav)"
    return None


_CHECKS = {
    "clamd": _clamd_missing,
    "postgres": _postgres_missing,
    "redis": _redis_missing,
    "browser": _browser_missing,
    "celery_worker": _redis_missing,
}


# PostgreSQL refuses TRUNCATE of the audit log (audit migration 0004); a transactional test's
# flush empties every table with TRUNCATE, so for the test database the flush disables the audit
# tables' triggers inside its own transaction, with the table owner's rights (as a maintainer
# would).
_AUDIT_TABLES = ("audit_auditevent", "audit_auditchainhead")


def pytest_configure(config: pytest.Config) -> None:
    try:
        from django.db.backends.postgresql.operations import DatabaseOperations
    except ImportError:  # no PostgreSQL driver: nothing to adapt
        return
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        sql = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        guarded = [table for table in _AUDIT_TABLES if table in tables]
        if not sql or not guarded:
            return sql
        disable = [f"ALTER TABLE {table} DISABLE TRIGGER USER;" for table in guarded]
        enable = [f"ALTER TABLE {table} ENABLE TRIGGER USER;" for table in guarded]
        return disable + list(sql) + enable

    DatabaseOperations.sql_flush = sql_flush


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, check in _CHECKS.items():
        if item.get_closest_marker(marker) is None:
            continue
        reason = check()
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Files written by a test land in its own directory, never in var/media."""
    if settings.STORAGES["default"]["BACKEND"].endswith("FileSystemStorage"):
        media = tmp_path / "media"
        settings.MEDIA_ROOT = media
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {"location": media}},
        }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness protects passwords, not tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_catalogue_cache():
    """A test that added a parameter value rolled it back; its cached catalogue must go too.

    Cleared before each test, while the settings (and so the cache) are still the defaults.
    """
    from django.core.cache import cache

    from policies import services

    cache.delete(services._VERSION_KEY)
    services._memo.clear()
    yield
