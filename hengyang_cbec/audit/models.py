"""The append-only audit log with a keyed hash chain.

Every event stores an HMAC over its content and the hash of the one before it, under a key that
lives outside the database (settings.AUDIT_HMAC_KEYS; the key id is stored on each event, so keys
can be rotated). Changing or deleting a row breaks the chain, and without the key nobody can
re-hash it; `verify_chain` detects both. The application refuses updates and deletes, and
database triggers refuse them and TRUNCATE too, and let the chain head only advance to the newest
event (see the migrations). Whoever disables the triggers with the table owner's rights and rewrites
or empties the log is still caught by the signed chain heads a beat job appends outside the
database (`anchors.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit events are append-only")

    def delete(self):
        raise PermissionError("audit events are append-only")


class AuditEvent(models.Model):
    class Result(models.TextChoices):
        OK = "ok", _("succeeded")
        REFUSED = "refused", _("refused")
        FAILED = "failed", _("failed")

    created_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    actor_role = models.CharField(_("role"), max_length=40, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    # The application concerned, if any: the timeline an applicant sees reads these rows.
    application_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default="ok")
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    public_message = models.TextField(_("message to the applicant"), blank=True)
    visible_to_applicant = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The HMAC key the hash was made with; "" marks the unkeyed SHA-256 of events written before
    # the chain was keyed.
    key_id = models.CharField(max_length=20, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit events are append-only")

    def compute_hash(self) -> str:
        return event_hash(self.prev_hash, self.canonical(), key_id=self.key_id)

    def canonical(self) -> str:
        return json.dumps(
            {
                "created_at": self.created_at.isoformat(),
                "actor": self.actor_id,
                "actor_name": self.actor_name,
                "actor_role": self.actor_role,
                "ip": self.ip,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "application_id": self.application_id,
                "result": self.result,
                "data": self.data,
                "public_message": self.public_message,
                "visible_to_applicant": self.visible_to_applicant,
            },
            sort_keys=True,
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        )


GENESIS_HASH = "0" * 64


class AuditChainHead(models.Model):
    """One row whose lock serialises appends, so the chain never forks under concurrency.

    It names the newest event; a trigger refuses any other value (PostgreSQL also refuses deleting
    or truncating it).
    """

    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return self.last_hash


class UnknownAuditKey(LookupError):
    """An event or anchor names a key id that settings.AUDIT_HMAC_KEYS does not hold."""


def current_key_id() -> str:
    return next(iter(settings.AUDIT_HMAC_KEYS))


def keyed_digest(key_id: str, message: str) -> str:
    try:
        secret = settings.AUDIT_HMAC_KEYS[key_id]
    except KeyError:
        raise UnknownAuditKey(key_id) from None
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def event_hash(prev_hash: str, canonical: str, *, key_id: str) -> str:
    if not key_id:  # written before the chain was keyed
        return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
    return keyed_digest(key_id, f"{key_id}\n{prev_hash}\n{canonical}")
