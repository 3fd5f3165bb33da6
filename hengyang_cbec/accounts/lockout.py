"""Locking an account after repeated wrong passwords (SECURITY.md rows 1–3).

Failures are counted per username (lower-cased, hashed) in the shared cache, whatever the client
address, so rotating IPs do not help and a forged X-Forwarded-For changes nothing. A locked
account answers exactly like a wrong password or an unknown user, and unlocks by itself after the
cool-off period.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError

from hengyang_cbec.audit.services import client_ip, record


def _key(username: str) -> str:
    digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    return f"login-failures:{digest}"


def is_locked(username: str) -> bool:
    return (cache.get(_key(username)) or 0) >= settings.LOGIN_FAILURE_LIMIT


def register_failure(username: str) -> int:
    key = _key(username)
    cache.add(key, 0, timeout=settings.LOGIN_COOL_OFF_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.LOGIN_COOL_OFF_SECONDS)
        count = 1
    if count == settings.LOGIN_FAILURE_LIMIT:
        # The cool-off runs from the failure that locked the account.
        cache.set(key, count, timeout=settings.LOGIN_COOL_OFF_SECONDS)
    return count


def reset(username: str) -> None:
    cache.delete(_key(username))


def note_lock(username: str, ip: str | None) -> None:
    """Make the lock visible to the security administrator (the cache holds the lock itself)."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import AccountLock, User

    now = timezone.now()
    AccountLock.objects.create(
        username=username[:150],
        user=User.objects.filter(username__iexact=username.strip()).first(),
        locked_at=now,
        locked_until=now + timedelta(seconds=settings.LOGIN_COOL_OFF_SECONDS),
        ip=ip,
    )


class LockoutAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and is_locked(username):
            record(
                action="login_locked",
                ip=client_ip(self.request),
                result="refused",
                data={"username": username[:150]},
            )
            raise self.get_invalid_login_error()
        try:
            cleaned = super().clean()
        except ValidationError:
            if username and register_failure(username) == settings.LOGIN_FAILURE_LIMIT:
                note_lock(username, client_ip(self.request))
                record(
                    action="account_locked",
                    ip=client_ip(self.request),
                    result="refused",
                    data={
                        "username": username[:150],
                        "cool_off_seconds": settings.LOGIN_COOL_OFF_SECONDS,
                    },
                )
            raise
        reset(username)
        return cleaned
