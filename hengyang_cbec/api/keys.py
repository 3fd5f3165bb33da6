"""API keys: created by a security administrator (shown once, stored as a SHA-256), expiring,
revocable; every call with a key, allowed or not, is an audit event naming the key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record

from .models import SYSTEM_SCOPES, ApiKey, Scope

KEY_PREFIX = "hyk"
MAX_DAYS = 366
TOKEN_MAX_DAYS = 90  # an applicant's own token
TOKENS_PER_PERSON = 3


class ApiKeyError(Exception):
    """A refused key action; the message is shown as it is."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def key_create(*, user, name: str, scopes, days: int, ip=None) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is never stored and cannot be shown again."""
    if not has_role(user, Role.SECURITY_ADMINISTRATOR):
        raise ApiKeyError(_("Only a security administrator may create API keys."))
    scopes = sorted(set(scopes))
    if not scopes or not set(scopes) <= set(SYSTEM_SCOPES):
        raise ApiKeyError(_("Choose at least one scope."))
    if not 1 <= days <= MAX_DAYS:
        raise ApiKeyError(_("A key is valid for 1 to %(n)s days.") % {"n": MAX_DAYS})
    name = name.strip()[:100]
    if not name:
        raise ApiKeyError(_("Name the system that will use the key."))
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return _store(user, name, scopes, days, prefix, secret, ip=ip), secret


def _store(
    user, name: str, scopes, days: int, prefix: str, secret: str, *, ip=None, owner=None
) -> ApiKey:
    key = ApiKey.objects.create(
        owner=owner,
        name=name,
        prefix=prefix,
        key_hash=_digest(secret),
        scopes=scopes,
        created_by=user,
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        action="api.token_create" if owner else "api.key_create",
        actor=user,
        actor_role=Role.APPLICANT if owner else Role.SECURITY_ADMINISTRATOR,
        ip=ip,
        obj=key,
        data={"key": key.prefix, "name": name, "scopes": scopes, "expires_at": key.expires_at},
    )
    return key


def demo_key(*, user, name: str, scopes, prefix: str, secret_tail: str) -> tuple[ApiKey, str]:
    """A key with a published secret, for the demo data only (seed_demo refuses production)."""
    from django.conf import settings

    if not settings.DEMO_ALLOWED:
        raise ApiKeyError("demo keys exist only in the embedded profile")
    secret = f"{KEY_PREFIX}_{prefix}_{secret_tail}"
    existing = ApiKey.objects.filter(prefix=prefix).first()
    if existing is not None:
        return existing, secret
    return _store(user, name, sorted(scopes), MAX_DAYS, prefix, secret), secret


@transaction.atomic
def token_create(*, user, days: int, ip=None) -> tuple[ApiKey, str]:
    """An applicant's own read-only token for their enterprise's applications."""
    from applications.services import active_membership

    if not has_role(user, Role.APPLICANT) or active_membership(user) is None:
        raise ApiKeyError(_("Only a member of an enterprise may create a token."))
    if not 1 <= days <= TOKEN_MAX_DAYS:
        raise ApiKeyError(_("A token is valid for 1 to %(n)s days.") % {"n": TOKEN_MAX_DAYS})
    active = ApiKey.objects.filter(
        owner=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    if active.count() >= TOKENS_PER_PERSON:
        raise ApiKeyError(
            _("You hold %(n)s valid tokens already: revoke one first.") % {"n": TOKENS_PER_PERSON}
        )
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    name = (user.full_name or user.username)[:100]
    key = _store(user, name, [Scope.READ_OWN_APPLICATIONS], days, prefix, secret, ip=ip, owner=user)
    return key, secret


@transaction.atomic
def key_revoke(*, user, key: ApiKey, reason: str, ip=None) -> ApiKey:
    own_token = key.owner_id is not None and key.owner_id == user.pk
    if not own_token and not has_role(user, Role.SECURITY_ADMINISTRATOR):
        raise ApiKeyError(_("Only a security administrator may revoke API keys."))
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        raise ApiKeyError(_("This key is revoked already."))
    reason = reason.strip()[:200]
    if not reason:
        raise ApiKeyError(_("Give the reason for revoking the key."))
    key.revoked_at = timezone.now()
    key.revoked_by = user
    key.revoke_reason = reason
    key.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record(
        action="api.token_revoke" if own_token else "api.key_revoke",
        actor=user,
        actor_role=Role.APPLICANT if own_token else Role.SECURITY_ADMINISTRATOR,
        ip=ip,
        obj=key,
        data={"key": key.prefix, "reason": reason},
    )
    return key


@dataclass(frozen=True)
class KeyCheck:
    """What a presented key is: `key` when it names one, `refusal` when it may not be used."""

    key: ApiKey | None
    refusal: str = ""  # "", "unknown", "expired", "revoked", "scope", "holder", "rate"


def check_key(secret: str, scope: str) -> KeyCheck:
    """The key a secret names and whether it may be used for `scope` (constant-time compare)."""
    parts = secret.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return KeyCheck(None, "unknown")
    key = ApiKey.objects.filter(prefix=parts[1][:12]).select_related("owner").first()
    if key is None or not hmac.compare_digest(key.key_hash, _digest(secret.strip())):
        return KeyCheck(None, "unknown")
    if key.revoked_at is not None:
        return KeyCheck(key, "revoked")
    if key.expires_at <= timezone.now():
        return KeyCheck(key, "expired")
    if scope not in key.scopes:
        return KeyCheck(key, "scope")
    if key.owner_id is not None and not _holder_may_read(key):
        return KeyCheck(key, "holder")
    return KeyCheck(key)


def _holder_may_read(key: ApiKey) -> bool:
    """An applicant's token reads while its holder is active and a member of an enterprise."""
    from applications.services import active_membership

    owner = key.owner
    return owner.is_active and has_role(owner, Role.APPLICANT) and bool(active_membership(owner))


def audit_call(check: KeyCheck, *, scope: str, method: str, path: str, ip=None) -> None:
    """One audit event per call made with a key (allowed or refused), naming the key's id."""
    key = check.key
    record(
        action="api.call",
        ip=ip,
        object_type="api.apikey",
        object_id=key.pk if key else "",
        result=AuditEvent.Result.REFUSED if check.refusal else AuditEvent.Result.OK,
        data={
            "key": key.prefix if key else "",
            "system": key.name if key else "",
            "scope": scope,
            "method": method,
            "path": path[:200],
            "refusal": check.refusal,
        },
    )
    if key is not None and not check.refusal:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
