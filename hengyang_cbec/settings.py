"""Settings of the Hengyang CBEC subsidy portal.

One module, driven by environment variables with embedded defaults (see README.md, "Configuration").
With no environment at all the portal runs embedded: SQLite under var/, Celery tasks in-process
after commit, files under var/media, e-mail to the console. PORTAL_PROFILE=production turns on the
hardening that `manage.py check --deploy` asks for and refuses to start without real secrets.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import (
    database_from_env,
    env_bool,
    env_int,
    env_keyring,
    env_list,
    env_secret,
    env_str,
    redis_url_from_env,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

PORTAL_PROFILE = env_str("PORTAL_PROFILE", "embedded")
if PORTAL_PROFILE not in {"embedded", "production"}:
    raise ImproperlyConfigured(
        f"PORTAL_PROFILE must be 'embedded' or 'production', got {PORTAL_PROFILE!r}"
    )
PRODUCTION = PORTAL_PROFILE == "production"

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PORTAL_PROFILE=production")


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        if PRODUCTION and len(key) < 50:
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required in production")
    # Embedded mode keeps a generated key on disk so sessions survive a restart.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required in production (comma-separated)")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications -------------------------------------------------------------------------------

INSTALLED_APPS = [
    "hengyang_cbec.accounts",
    "hengyang_cbec.audit",
    "hengyang_cbec.notifications",
    "hengyang_cbec.numbering",
    "hengyang_cbec.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "django_filters",
    "django_htmx",
    "ninja",
    "policies",
    "applications",
    "reviews",
    "hengyang_cbec.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hengyang_cbec.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hengyang_cbec.upload_limits.UploadLimitMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "hengyang_cbec.middleware.AbsoluteSessionTimeoutMiddleware",
    "hengyang_cbec.accounts.middleware.AccountGuardMiddleware",
    "hengyang_cbec.ratelimits.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "hengyang_cbec.urls"
WSGI_APPLICATION = "hengyang_cbec.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "hengyang_cbec.context_processors.portal",
            ],
            # The one formatting layer of every page (see hengyang_cbec/formatting.py).
            "libraries": {"display": "hengyang_cbec.templatetags.display"},
        },
    },
]

# --- Data ---------------------------------------------------------------------------------------

DATABASES = {"default": database_from_env("DATABASE_URL", VAR_DIR / "portal.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = redis_url_from_env("REDIS_URL")

if REDIS_URL:
    # Redis is a cache, not a dependency of the pages: on a Redis error every cache operation
    # falls back to a cache table in the database for CACHE_RETRY_SECONDS (hengyang_cbec/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "hengyang_cbec.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hy",
            "OPTIONS": {
                "socket_connect_timeout": 2,
                "socket_timeout": 2,
                "FALLBACK": "database",
                "RETRY_SECONDS": env_int("CACHE_RETRY_SECONDS", 5, minimum=1),
                "LOG_SECONDS": env_int("CACHE_LOG_SECONDS", 60, minimum=1),
            },
        },
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "portal_cache_fallback",
            "KEY_PREFIX": "hy",
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        },
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Files --------------------------------------------------------------------------------------

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# collectstatic's target; embedded mode serves straight from static/ through the finders.
STATIC_ROOT = (
    Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles")
    if PRODUCTION or env_str("STATIC_ROOT")
    else None
)
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# No MEDIA_URL route exists: evidence and notices are served only through permission-checking views.

S3_BUCKET = env_str("S3_BUCKET")
if S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            "access_key": env_secret("S3_ACCESS_KEY"),
            "secret_key": env_secret("S3_SECRET_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT, "file_permissions_mode": 0o640},
    }

STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("UPLOAD_MAX_FILES_PER_REQUEST", 20, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # bigger uploads stream to a temporary file
# A multipart request may carry one file at the limit plus 1 MB of form (upload_limits.py);
# bigger bodies are refused before they are read. The proxy's client_max_body_size matches (README).
FILE_UPLOAD_HANDLERS = [
    "hengyang_cbec.upload_limits.SizeLimitUploadHandler",  # stops at UPLOAD_MAX_BYTES
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Celery -------------------------------------------------------------------------------------

CELERY_BROKER_URL = REDIS_URL or "memory://"
# Without Redis, tasks run in-process; services enqueue them in transaction.on_commit, so they
# still run only after the transaction that asked for them has committed.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 90, minimum=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 100, minimum=1)
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 200_000)  # KiB
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE: dict = {
    "rescan-pending-evidence": {
        "task": "applications.tasks.rescan_pending_evidence",
        "schedule": 15 * 60,
    },
    "lapse-overdue-returns": {
        "task": "applications.tasks.lapse_overdue_returns",
        "schedule": 60 * 60,
    },
    "rescan-pending-objection-files": {
        "task": "reviews.tasks.rescan_pending_objection_files",
        "schedule": 15 * 60,
    },
    "purge-expired-personal-data": {
        "task": "applications.tasks.purge_expired_personal_data",
        "schedule": 24 * 60 * 60,
    },
}
# The retention rule for personal data (applications/retention.py, README "Retention").
RETENTION_CLOSED_APPLICATION_DAYS = env_int(
    "RETENTION_CLOSED_APPLICATION_DAYS", 3 * 365, minimum=30
)
RETENTION_DORMANT_ACCOUNT_DAYS = env_int("RETENTION_DORMANT_ACCOUNT_DAYS", 3 * 365, minimum=30)

# --- E-mail -------------------------------------------------------------------------------------

EMAIL_HOST = env_str("EMAIL_HOST")
# EMAIL_BACKEND names a backend explicitly (for example a provider's API backend). Without it and
# without EMAIL_HOST, the embedded profile writes each message as a file under var/mail/ (read the
# newest with `manage.py latest_mail`); production refuses to start: reset and sign-up links must
# never end up in a server log.
EMAIL_BACKEND = env_str("EMAIL_BACKEND")
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH") or VAR_DIR / "mail")
_UNDELIVERED_MAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
if EMAIL_HOST:
    EMAIL_BACKEND = EMAIL_BACKEND or "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
elif not EMAIL_BACKEND:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "EMAIL_HOST (or an EMAIL_BACKEND that is not the console) is required in production"
        )
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
if PRODUCTION and EMAIL_BACKEND in _UNDELIVERED_MAIL:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND must deliver mail in production, got {EMAIL_BACKEND!r}"
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "衡阳跨境电商补贴平台 <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Notification e-mail goes out through a Celery task (hengyang_cbec/notifications/): attempts
# with backoff (30 s, 60 s, ... 10 min); the sweep sends what the broker never took after the
# grace period, and what is still pending after the stale period (a lost message).
NOTIFICATION_EMAIL_MAX_ATTEMPTS = env_int("NOTIFICATION_EMAIL_MAX_ATTEMPTS", 5, minimum=1)
NOTIFICATION_EMAIL_GRACE_SECONDS = env_int("NOTIFICATION_EMAIL_GRACE_SECONDS", 60, minimum=1)
NOTIFICATION_EMAIL_STALE_SECONDS = env_int("NOTIFICATION_EMAIL_STALE_SECONDS", 30 * 60, minimum=60)
CELERY_BEAT_SCHEDULE["sweep-notification-emails"] = {
    "task": "hengyang_cbec.notifications.tasks.sweep_notification_emails",
    "schedule": 60,
}

# --- Authentication and sessions ----------------------------------------------------------------

LOGIN_URL = "login"
# Staff land on their workspace, applicants on their enterprise (accounts.views.landing).
LOGIN_REDIRECT_URL = "accounts:landing"
LOGOUT_REDIRECT_URL = "home"

# MLPS level 3: a minimum length, three of four character classes, no common password, nothing
# close to the user's own name or address. Long passphrases work (Django hashes the whole string).
PASSWORD_MIN_LENGTH = env_int("PASSWORD_MIN_LENGTH", 12, minimum=8)
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email", "phone")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "hengyang_cbec.accounts.passwords.CharacterClassValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "hengyang_cbec.accounts.passwords.CommonVariantValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60  # one hour
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_COOL_OFF_SECONDS = env_int("LOGIN_COOL_OFF_SECONDS", 15 * 60, minimum=1)
# Staff accounts not used for this many days are disabled by a daily job (0 turns it off).
DORMANT_STAFF_DAYS = env_int("DORMANT_STAFF_DAYS", 90, minimum=0)
CELERY_BEAT_SCHEDULE["disable-dormant-staff"] = {
    "task": "hengyang_cbec.accounts.tasks.disable_dormant_staff",
    "schedule": 24 * 3600,
}

# Second factor (TOTP, django-otp). Staff and administrators must use it; applicants may.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "衡阳跨境电商补贴平台")
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait before the next try
SECOND_FACTOR_PENDING_SECONDS = 5 * 60  # between the password and the code
RECOVERY_CODE_COUNT = 10

# Rate limits, per client address and per account, as "count/period" (s, m, h, d; "5m" is five
# minutes). Each can be set with RATE_LIMIT_<NAME>_ADDRESS / RATE_LIMIT_<NAME>_ACCOUNT; an empty
# value turns that one off.
_RATE_LIMIT_DEFAULTS = {
    "login": ("20/m", "10/m"),
    "second_factor": ("30/5m", "10/5m"),
    "registration": ("10/h", "3/h"),
    "password_reset": ("10/h", "3/h"),
    "resend_confirmation": ("10/h", "3/h"),
    "export": ("30/m", "20/m"),
    "calculator": ("30/m", ""),
    "verify_notice": ("20/m", ""),
    "upload": ("60/m", "30/m"),
    "objection": ("10/h", "5/h"),
    # The open API: public reading per address, the calculator per address, each key per key.
    "api_public": ("120/m", ""),
    "api_assess": ("30/m", ""),
    "api_key": ("300/m", "120/m"),
}
# When the shared cache cannot count, requests pass (the lockout and the second factor still hold).
RATELIMIT_FAIL_OPEN = True
RATE_LIMITS = {
    name: {
        "address": env_str(f"RATE_LIMIT_{name.upper()}_ADDRESS", address),
        "account": env_str(f"RATE_LIMIT_{name.upper()}_ACCOUNT", account),
    }
    for name, (address, account) in _RATE_LIMIT_DEFAULTS.items()
}


def _check_rates() -> None:
    import re

    for name, rates in RATE_LIMITS.items():
        for scope, rate in rates.items():
            if rate and not re.fullmatch(r"[1-9][0-9]*/[0-9]*[smhd]", rate):
                raise ImproperlyConfigured(
                    f"RATE_LIMIT_{name.upper()}_{scope.upper()} must be a rate like 10/m, 30/5m "
                    f"or 100/d, got {rate!r}"
                )


_check_rates()

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = 30 * 60  # idle timeout: renewed on every request
SESSION_SAVE_EVERY_REQUEST = True
SESSION_ABSOLUTE_SECONDS = 12 * 3600  # logged out 12 hours after login, however active
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "hengyang_cbec.views.csrf_failure"

# --- Internationalisation -----------------------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Security headers ---------------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    if env_bool("TRUST_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Forms and UI -------------------------------------------------------------------------------

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

PORTAL_NAME = _("Hengyang Cross-border E-commerce Subsidy Portal")

# --- Demo ---------------------------------------------------------------------------------------

DEMO_PASSWORD = env_secret("DEMO_PASSWORD", "demo-pass-2025")
# Demo accounts share one known password, so they never exist in production.
DEMO_ALLOWED = not PRODUCTION

# --- Logging ------------------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, got {LOG_LEVEL!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Audit log ----------------------------------------------------------------------------------


# `id=secret,id=secret` (secrets of at least 32 characters): the first key signs new events, the
# others only verify older ones. The keys live outside the database (environment, a secret file, or
# var/ in embedded mode), so someone with the database's rights alone cannot re-hash a rewritten
# chain. Rotate by putting a new `id=secret` first and keeping the old ones for as long as their
# events are kept.
AUDIT_HMAC_KEYS = env_keyring(
    "AUDIT_HMAC_KEYS", production=PRODUCTION, var_dir=VAR_DIR, file_name="audit_hmac_keys"
)
# The signed chain head is appended here by a beat job; verification compares the chain with it.
# Point it at append-only storage outside the database (a file with `chattr +a`, a mounted WORM
# volume, or a path a log shipper forwards). Its lines are also logged by the logger
# hengyang_cbec.audit.anchor.
AUDIT_ANCHOR_PATH = env_str("AUDIT_ANCHOR_PATH") or (
    "" if PRODUCTION else str(VAR_DIR / "audit-anchors.jsonl")
)
if PRODUCTION and not AUDIT_ANCHOR_PATH:
    raise ImproperlyConfigured("AUDIT_ANCHOR_PATH is required in production")
AUDIT_ANCHOR_SECONDS = env_int("AUDIT_ANCHOR_SECONDS", 5 * 60, minimum=10)
CELERY_BEAT_SCHEDULE["anchor-audit-chain"] = {
    "task": "hengyang_cbec.audit.tasks.anchor_audit_chain",
    "schedule": AUDIT_ANCHOR_SECONDS,
}

# --- Field encryption (bank accounts) -------------------------------------------------------------

# Bank accounts are stored encrypted (AES-256-GCM, hengyang_cbec/fieldcrypto.py). Each ciphertext
# names its key id: the first key encrypts new values, the others still decrypt older ones (rotate
# by putting a new key first, then `manage.py reencrypt_fields`). FIELD_HASH_KEYS key the hash that
# finds the same account elsewhere without decrypting; kept apart from the encryption keys.
FIELD_ENCRYPTION_KEYS = env_keyring(
    "FIELD_ENCRYPTION_KEYS",
    production=PRODUCTION,
    var_dir=VAR_DIR,
    file_name="field_encryption_keys",
)
FIELD_HASH_KEYS = env_keyring(
    "FIELD_HASH_KEYS", production=PRODUCTION, var_dir=VAR_DIR, file_name="field_hash_keys"
)

# --- Virus scanning -----------------------------------------------------------------------------

# "eicar" (embedded default) flags only the EICAR test file: a stand-in so the quarantine path runs,
# not a virus scanner. Production sets VIRUS_SCANNER=clamd and CLAMD_URL (tcp://host:port or
# unix:///path/to/clamd.ctl); an unreachable clamd leaves files pending (fail closed).
VIRUS_SCANNER = env_str("VIRUS_SCANNER", "eicar")
if VIRUS_SCANNER not in {"eicar", "clamd"}:
    raise ImproperlyConfigured(f"VIRUS_SCANNER must be 'eicar' or 'clamd', got {VIRUS_SCANNER!r}")
CLAMD_URL = env_str("CLAMD_URL", "")
if VIRUS_SCANNER == "clamd" and not CLAMD_URL.startswith(("tcp://", "unix://")):
    raise ImproperlyConfigured(
        "CLAMD_URL (tcp://host:port or unix:///path) is required when VIRUS_SCANNER=clamd, "
        f"got {CLAMD_URL!r}"
    )

# --- Reviews ------------------------------------------------------------------------------------

# Public notice (公示) period in days; 0 turns public notice off (a published batch closes at once).
PUBLIC_NOTICE_DAYS = env_int("PUBLIC_NOTICE_DAYS", 7, minimum=0)
# A return for correction gives the applicant this many working days unless the reviewer says so.
RETURN_DEADLINE_WORKING_DAYS = env_int("RETURN_DEADLINE_WORKING_DAYS", 10, minimum=1)
# Applications older than this (days since submission) stand out in the queues.
REVIEW_OVERDUE_DAYS = env_int("REVIEW_OVERDUE_DAYS", 20, minimum=1)
# 免申即享 applications arrive verified at the source: a shorter target time.
PROACTIVE_REVIEW_TARGET_DAYS = env_int("PROACTIVE_REVIEW_TARGET_DAYS", 5, minimum=1)
REVIEW_QUEUE_PAGE_SIZE = env_int("REVIEW_QUEUE_PAGE_SIZE", 50, minimum=10)
# Working days are Monday to Friday minus these public holidays (ISO dates, comma-separated), plus
# the weekend days declared working days (调休). A Chinese calendar can fill both lists later.
REVIEW_HOLIDAYS = env_list("REVIEW_HOLIDAYS", [])
REVIEW_EXTRA_WORKING_DAYS = env_list("REVIEW_EXTRA_WORKING_DAYS", [])
CELERY_BEAT_SCHEDULE["close-public-notices"] = {
    "task": "reviews.tasks.close_public_notices",
    "schedule": 15 * 60,
}


def _check_review_dates() -> None:
    from datetime import date

    for day in (*REVIEW_HOLIDAYS, *REVIEW_EXTRA_WORKING_DAYS):
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ImproperlyConfigured(
                f"REVIEW_HOLIDAYS and REVIEW_EXTRA_WORKING_DAYS take ISO dates, got {day!r}"
            ) from None


_check_review_dates()

# --- Approval notices --------------------------------------------------------------------------

# The issuer of approval notices: its code (in the verification URL), the number's prefix
# (衡商跨补〔2026〕0001号), its name and the bodies named at the foot of the notice.
NOTICE_ISSUER = env_str("NOTICE_ISSUER", "HSKB")
if not NOTICE_ISSUER.isascii() or not NOTICE_ISSUER.isalnum() or len(NOTICE_ISSUER) > 20:
    raise ImproperlyConfigured(
        f"NOTICE_ISSUER must be 1-20 ASCII letters or digits, got {NOTICE_ISSUER!r}"
    )
NOTICE_NUMBER_PREFIX = env_str("NOTICE_NUMBER_PREFIX", "衡商跨补")
NOTICE_ISSUER_NAME_ZH = env_str("NOTICE_ISSUER_NAME_ZH", "衡阳市商务局")
NOTICE_ISSUER_NAME_EN = env_str("NOTICE_ISSUER_NAME_EN", "Hengyang Municipal Bureau of Commerce")
NOTICE_ISSUING_BODIES_ZH = env_list("NOTICE_ISSUING_BODIES_ZH", ["衡阳市商务局", "衡阳市财政局"])
NOTICE_ISSUING_BODIES_EN = env_list(
    "NOTICE_ISSUING_BODIES_EN",
    ["Hengyang Municipal Bureau of Commerce", "Hengyang Municipal Bureau of Finance"],
)
# The portal's public address, printed in the notice and in its QR code (verification page).
NOTICE_PUBLIC_URL = env_str(
    "NOTICE_PUBLIC_URL", "" if PRODUCTION else "http://127.0.0.1:8000"
).rstrip("/")
if PRODUCTION and not NOTICE_PUBLIC_URL.startswith("https://"):
    raise ImproperlyConfigured(
        "NOTICE_PUBLIC_URL must be the portal's public https:// address in production "
        "(it is printed in every notice's QR code)"
    )
if not NOTICE_PUBLIC_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(
        f"NOTICE_PUBLIC_URL must be an http(s) URL, got {NOTICE_PUBLIC_URL!r}"
    )
# Rendering runs as a Celery task with these limits (seconds). The soft limit marks the notice
# failed (staff can retry); the hard limit kills the worker child, which the pool replaces.
# Time limits need the prefork pool (the default); the solo pool ignores them.
NOTICE_SOFT_TIME_LIMIT = env_int("NOTICE_SOFT_TIME_LIMIT", 60, minimum=1)
NOTICE_TIME_LIMIT = env_int("NOTICE_TIME_LIMIT", NOTICE_SOFT_TIME_LIMIT + 30, minimum=2)
if NOTICE_TIME_LIMIT <= NOTICE_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("NOTICE_TIME_LIMIT must be greater than NOTICE_SOFT_TIME_LIMIT")
# Attempts per render job (retries with backoff and redeliveries after a lost worker included).
NOTICE_MAX_ATTEMPTS = env_int("NOTICE_MAX_ATTEMPTS", 5, minimum=1)
# The queue render jobs go to.
NOTICE_QUEUE = env_str("NOTICE_QUEUE", "celery")
# The sweep re-enqueues jobs the broker never took, and jobs not finished this long after their
# last enqueue (longer than the hard time limit, so a running render is not doubled needlessly).
NOTICE_SWEEP_SECONDS = env_int("NOTICE_SWEEP_SECONDS", 30, minimum=5)
NOTICE_STALE_SECONDS = env_int("NOTICE_STALE_SECONDS", NOTICE_TIME_LIMIT + 30, minimum=1)
# Notice PDFs no notice refers to (a render killed after writing them) are deleted once older
# than this: longer than any render, so a file whose row is about to commit is never touched.
NOTICE_ORPHAN_GRACE_SECONDS = env_int("NOTICE_ORPHAN_GRACE_SECONDS", 3600, minimum=60)
# Without HarfBuzz's subsetter WeasyPrint falls back to fontTools: ~10x slower notices. A worker
# refuses to start without it unless this is turned off (then it only logs an error).
NOTICE_REQUIRE_HARFBUZZ_SUBSET = env_bool("NOTICE_REQUIRE_HARFBUZZ_SUBSET", True)
# The public verification page accepts PDFs up to this size (a notice is well below it).
NOTICE_VERIFY_MAX_BYTES = env_int("NOTICE_VERIFY_MAX_BYTES", 1024 * 1024, minimum=1024)
CELERY_BEAT_SCHEDULE["sweep-notice-outbox"] = {
    "task": "reviews.notice_tasks.sweep_notice_outbox",
    "schedule": NOTICE_SWEEP_SECONDS,
}

# --- Finance exports ----------------------------------------------------------------------------

# XLSX exports of batches with more lines than this are written by a worker, with progress.
EXPORT_ASYNC_ROWS = env_int("EXPORT_ASYNC_ROWS", 5000, minimum=0)
# An export job still pending this long after it was asked for is sent to a worker again.
EXPORT_STALE_SECONDS = env_int("EXPORT_STALE_SECONDS", 120, minimum=10)
# A background export holds full bank accounts: its file is deleted this long after it was written.
EXPORT_FILE_HOURS = env_int("EXPORT_FILE_HOURS", 24, minimum=1)
CELERY_BEAT_SCHEDULE["sweep-export-jobs"] = {
    "task": "reviews.tasks.sweep_export_jobs",
    "schedule": 60,
}
CELERY_BEAT_SCHEDULE["sweep-notice-files"] = {
    "task": "reviews.tasks.sweep_notice_files",
    "schedule": 3600,
}

# --- The auditor's dossier ----------------------------------------------------------------------

# A built dossier can be downloaded this long; then beat deletes its file.
DOSSIER_EXPIRY_HOURS = env_int("DOSSIER_EXPIRY_HOURS", 24, minimum=1)
# A measure-year dossier renders one summary PDF per application (0.5-3 s each): hours at most.
DOSSIER_SOFT_TIME_LIMIT = env_int("DOSSIER_SOFT_TIME_LIMIT", 14400, minimum=60)
CELERY_BEAT_SCHEDULE["sweep-dossiers"] = {
    "task": "reviews.tasks.sweep_dossiers",
    "schedule": 300,
}
