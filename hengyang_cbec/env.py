"""Reading settings from the environment.

Every helper fails with ImproperlyConfigured naming the variable when its value is nonsense, so a
misconfigured process stops at start instead of misbehaving later.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {exc.strerror}"
            ) from None
    return os.environ.get(name, default).strip()


def database_from_env(name: str, default_sqlite_path: Path) -> dict:
    raw = env_str(name)
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default_sqlite_path),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    scheme = urlsplit(raw).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:// URL, got scheme {scheme or 'none'!r}"
        )
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid database URL: {exc}") from None
    if config.get("ENGINE", "").endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://host/portal")
    return config


def redis_url_from_env(name: str) -> str:
    raw = env_str(name)
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"{name} must be a redis://, rediss:// or unix:// URL, got {raw!r}"
        )
    if parts.scheme != "unix":
        try:
            parts.port  # noqa: B018 - raises ValueError on a non-numeric port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port: {raw!r}") from None
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} must name a host, got {raw!r}")
    return raw


def env_keyring(
    name: str, *, production: bool, var_dir: Path, file_name: str, min_length: int = 32
) -> dict[str, str]:
    """`id=secret,id=secret` from NAME or NAME_FILE: the first key is used for new data, the others
    only read older data (rotate by putting a new key first).

    Production requires the variable. The embedded profile generates one key into `var_dir /
    file_name` on first start and reads it from there afterwards (documented in the README).
    """
    import secrets

    raw = env_secret(name)
    if not raw and production:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) is required in production")
    if not raw:
        key_file = var_dir / file_name
        if not key_file.exists():
            var_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(f"k1={secrets.token_urlsafe(48)}", encoding="utf-8")
            key_file.chmod(0o600)
        raw = key_file.read_text(encoding="utf-8").strip()
    keys: dict[str, str] = {}
    for item in raw.split(","):
        key_id, sep, secret = item.strip().partition("=")
        key_id, secret = key_id.strip(), secret.strip()
        if not sep or not key_id or len(key_id) > 20 or not key_id.isalnum():
            raise ImproperlyConfigured(
                f"{name} must be comma-separated id=secret pairs with alphanumeric ids "
                "of at most 20 characters"
            )
        if len(secret) < min_length:
            raise ImproperlyConfigured(
                f"{name}: the secret of {key_id!r} is shorter than {min_length} characters"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"{name} names the key {key_id!r} twice")
        keys[key_id] = secret
    return keys
