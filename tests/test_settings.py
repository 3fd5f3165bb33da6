"""Settings come from the environment; nonsense stops the process at start, naming the variable."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PORTAL_PROFILE": "production",
    "SECRET_KEY": "x7Jq-2mN_vL9pR4tW8zB1cF6hK3sD0gY5uE2aQ7iO9nM4bV8-kT3wZ6",
    "ALLOWED_HOSTS": "cbec.hengyang.gov.cn",
    "NOTICE_PUBLIC_URL": "https://cbec.hengyang.gov.cn",
    "EMAIL_HOST": "smtp.hengyang.gov.cn",
    # Settings only name it (no connection is made): rate limits and locks need a shared cache.
    "REDIS_URL": "redis://127.0.0.1:6379/3",
    "AUDIT_HMAC_KEYS": "k2026=Qm9vdGgtY2hhaW4ta2V5LW9mLXRoZS10ZXN0LXByb2R1Y3Rpb24tcHJvZmlsZQ",
    "AUDIT_ANCHOR_PATH": "/var/log/hengyang-cbec/audit-anchors.jsonl",
    "FIELD_ENCRYPTION_KEYS": "f2026=ZmllbGQtZW5jcnlwdGlvbi1rZXktb2YtdGhlLXRlc3QtcHJvZHVjdGlvbg",
    "FIELD_HASH_KEYS": "h2026=ZmllbGQtaGFzaC1rZXktb2YtdGhlLXRlc3QtcHJvZHVjdGlvbi1wcm9maWxl",
}


# Variables of the test process that must not leak into the settings under test.
_TEST_ONLY = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}


def clean_env(**env: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in _TEST_ONLY}, **env}


def production_without(*names: str, **extra: str) -> dict[str, str]:
    return {**{k: v for k, v in PRODUCTION_ENV.items() if k not in names}, **extra}


@pytest.fixture
def load_settings(monkeypatch):
    """Read the settings module afresh, in this process, under the given environment.

    The same code a starting process runs, without starting one per case.
    """

    def load(**env: str) -> ModuleType:
        for name in _TEST_ONLY:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        spec = importlib.util.spec_from_file_location(
            "hengyang_cbec._settings_under_test", ROOT / "hengyang_cbec" / "settings.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql//nonsense"),
        ("DATABASE_URL", "postgres://host:notaport/db"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("REDIS_URL", "redis://127.0.0.1:port/0"),
        ("DEBUG", "perhaps"),
        ("UPLOAD_MAX_BYTES", "twenty megabytes"),
        ("PORTAL_PROFILE", "staging"),
        ("LOG_LEVEL", "LOUD"),
        ("SECRET_KEY_FILE", "/nonexistent/secret"),
    ],
    ids=lambda v: v if len(v) < 25 else v[:25],
)
def test_nonsense_in_a_variable_fails_at_start_naming_it(load_settings, variable, value):
    with pytest.raises(ImproperlyConfigured) as refused:
        load_settings(**{variable: value})
    assert variable in str(refused.value)


def test_a_process_with_nonsense_in_a_variable_does_not_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean_env(DEBUG="perhaps"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG" in result.stderr.splitlines()[-1]


def test_production_refuses_notices_that_would_point_at_localhost(load_settings):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "NOTICE_PUBLIC_URL"}
    with pytest.raises(ImproperlyConfigured, match="NOTICE_PUBLIC_URL"):
        load_settings(**env)


@pytest.mark.parametrize(
    "env",
    [
        production_without("EMAIL_HOST"),
        production_without(
            "EMAIL_HOST", EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"
        ),
        production_without(
            "EMAIL_HOST", EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend"
        ),
    ],
    ids=["no mail at all", "console", "files"],
)
def test_production_refuses_to_start_without_a_real_mail_server(load_settings, monkeypatch, env):
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    monkeypatch.delenv("EMAIL_BACKEND", raising=False)
    with pytest.raises(ImproperlyConfigured, match="EMAIL_"):
        load_settings(**env)


def test_production_accepts_an_explicit_mail_backend(load_settings, monkeypatch):
    monkeypatch.delenv("EMAIL_HOST", raising=False)
    env = production_without(
        "EMAIL_HOST", EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"
    )
    assert load_settings(**env).EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"


@pytest.mark.parametrize("value", ["ten per minute", "0/m", "10/x", "10"])
def test_a_rate_limit_that_is_not_a_rate_fails_at_start_naming_it(load_settings, value):
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMIT_LOGIN_ADDRESS"):
        load_settings(RATE_LIMIT_LOGIN_ADDRESS=value)


def test_production_refuses_to_start_without_a_secret_key(load_settings, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        load_settings(**env)


@pytest.mark.parametrize(
    "variable", ["FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEYS", "AUDIT_HMAC_KEYS"]
)
def test_production_refuses_to_start_without_its_keys(load_settings, monkeypatch, variable):
    monkeypatch.delenv(variable, raising=False)
    monkeypatch.delenv(f"{variable}_FILE", raising=False)
    with pytest.raises(ImproperlyConfigured, match=variable):
        load_settings(**production_without(variable))


@pytest.mark.parametrize(
    "value", ["f1=short", "no-equals-sign", "f-1=" + "x" * 40, "f1=" + "x" * 40 + ",f1=" + "y" * 40]
)
def test_a_malformed_field_encryption_key_fails_at_start(load_settings, value):
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        load_settings(FIELD_ENCRYPTION_KEYS=value)


def test_field_keys_list_the_new_key_first(load_settings):
    s = load_settings(FIELD_ENCRYPTION_KEYS=f"f2027={'n' * 40},f2026={'o' * 40}")
    assert list(s.FIELD_ENCRYPTION_KEYS) == ["f2027", "f2026"]


def test_production_profile_passes_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean_env(**PRODUCTION_ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_demo_data(load_settings, settings):
    """The production profile turns demo data off and seed_demo then refuses, before writing."""
    production = load_settings(**PRODUCTION_ENV)
    assert production.DEMO_ALLOWED is False
    settings.DEMO_ALLOWED = production.DEMO_ALLOWED
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", verbosity=0)


def test_embedded_defaults_use_sqlite_local_cache_and_in_process_tasks(load_settings):
    s = load_settings()
    assert [
        s.DATABASES["default"]["ENGINE"],
        s.CACHES["default"]["BACKEND"],
        s.CELERY_TASK_ALWAYS_EAGER,
        s.EMAIL_BACKEND,
        s.LANGUAGE_CODE,
    ] == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        True,
        "django.core.mail.backends.filebased.EmailBackend",
        "zh-hans",
    ]


def test_redis_url_makes_redis_the_broker_and_the_cache(load_settings):
    s = load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert [
        s.CELERY_BROKER_URL,
        s.CACHES["default"]["BACKEND"],
        s.CELERY_TASK_ALWAYS_EAGER,
        s.CACHES["default"]["OPTIONS"]["FALLBACK"],
        s.CACHES["database"]["BACKEND"],
    ] == [
        "redis://127.0.0.1:6379/3",
        "hengyang_cbec.cache.ResilientRedisCache",
        False,
        "database",
        "django.core.cache.backends.db.DatabaseCache",
    ]


def test_secret_key_file_is_read(load_settings, monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    secret = tmp_path / "secret"
    secret.write_text("s" * 60 + "\n")
    assert load_settings(SECRET_KEY_FILE=str(secret)).SECRET_KEY == "s" * 60


def test_celery_is_configured_for_safe_delivery():
    from hengyang_cbec.celery import app

    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit > conf.task_soft_time_limit > 0
    assert {
        "rescan-pending-evidence",
        "lapse-overdue-returns",
        "close-public-notices",
        "sweep-notice-outbox",
    } <= set(conf.beat_schedule)


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_production_cookies_are_secure_httponly_samesite_and_hsts_is_on(load_settings):
    """SECURITY.md row 9, beyond what `check --deploy` looks at (it does not check SameSite)."""
    production = load_settings(**PRODUCTION_ENV)
    assert production.SESSION_COOKIE_SECURE and production.CSRF_COOKIE_SECURE
    assert production.LANGUAGE_COOKIE_SECURE
    assert production.SESSION_COOKIE_HTTPONLY and production.CSRF_COOKIE_HTTPONLY
    assert production.SESSION_COOKIE_SAMESITE == "Lax"
    assert production.SECURE_HSTS_SECONDS >= 31_536_000
    assert production.SECURE_HSTS_INCLUDE_SUBDOMAINS


@pytest.mark.django_db
def test_the_session_cookie_set_at_login_is_httponly_and_samesite(client, applicant, password):
    """The one login page (the admin site sends its visitors there) sets the cookie so."""
    response = client.post(
        "/accounts/login/?next=/admin/", {"username": applicant.username, "password": password}
    )
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
