"""Settings come from the environment; nonsense stops the process at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "PORTAL_PROFILE": "production",
    "SECRET_KEY": "x7Jq-2mN_vL9pR4tW8zB1cF6hK3sD0gY5uE2aQ7iO9nM4bV8-kT3wZ6",
    "ALLOWED_HOSTS": "cbec.hengyang.gov.cn",
    "NOTICE_PUBLIC_URL": "https://cbec.hengyang.gov.cn",
    "AUDIT_HMAC_KEYS": "k2026=Qm9vdGgtY2hhaW4ta2V5LW9mLXRoZS10ZXN0LXByb2R1Y3Rpb24tcHJvZmlsZQ",
    "AUDIT_ANCHOR_PATH": "/var/log/hengyang-cbec/audit-anchors.jsonl",
}


# Variables of the test process that must not leak into the processes under test.
_TEST_ONLY = {"DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}


def clean_env(**env: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in _TEST_ONLY}, **env}


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = clean_env(**env)
    clean["DJANGO_SETTINGS_MODULE"] = "hengyang_cbec.settings"
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


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
def test_nonsense_in_a_variable_fails_at_start_naming_it(variable, value):
    result = run_django("", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_production_refuses_notices_that_would_point_at_localhost():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "NOTICE_PUBLIC_URL"}
    result = run_django("", **env)
    assert result.returncode != 0
    assert "NOTICE_PUBLIC_URL" in result.stderr.splitlines()[-1]


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_django("", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.splitlines()[-1]


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


def test_production_refuses_demo_data():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"],
        cwd=ROOT,
        env=clean_env(**PRODUCTION_ENV),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "production" in result.stderr


def test_embedded_defaults_use_sqlite_local_cache_and_in_process_tasks():
    result = run_django(
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER, s.EMAIL_BACKEND, s.LANGUAGE_CODE)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "django.core.cache.backends.locmem.LocMemCache",
        "True",
        "django.core.mail.backends.console.EmailBackend",
        "zh-hans",
    ]


def test_redis_url_makes_redis_the_broker_and_the_cache():
    result = run_django(
        "from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CACHES['default']['BACKEND'], s.CELERY_TASK_ALWAYS_EAGER)",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "redis://127.0.0.1:6379/3",
        "django.core.cache.backends.redis.RedisCache",
        "False",
    ]


def test_secret_key_file_is_read(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s" * 60 + "\n")
    result = run_django(
        "from django.conf import settings as s; print(len(s.SECRET_KEY))",
        SECRET_KEY_FILE=str(secret),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "60"


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
