"""Writing and checking the audit log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, event_hash

# Keys never written into an audit row, whatever a caller passes (SECURITY.md row 35).
_SECRET_KEYS = {"password", "password1", "password2", "otp", "token", "sessionid", "session_key"}


def _scrub(data: Any) -> Any:
    if isinstance(data, dict):
        return {
            key: ("[removed]" if key.lower() in _SECRET_KEYS else _scrub(value))
            for key, value in data.items()
        }
    if isinstance(data, list | tuple):
        return [_scrub(item) for item in data]
    return data


def client_ip(request) -> str | None:
    """The peer address. X-Forwarded-For is not trusted: a forged header must not steer logs."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


@transaction.atomic
def record(
    *,
    action: str,
    actor=None,
    actor_role: str = "",
    ip: str | None = None,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    application_id: int | None = None,
    result: str = AuditEvent.Result.OK,
    data: dict | None = None,
    public_message: str = "",
    visible_to_applicant: bool = False,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    event = AuditEvent(
        created_at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "",
        actor_role=actor_role,
        ip=ip,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        application_id=application_id,
        result=result,
        # Round-trip through JSON so the hash is computed on exactly what the database returns.
        data=json.loads(json.dumps(_scrub(data or {}), cls=DjangoJSONEncoder)),
        public_message=public_message,
        visible_to_applicant=visible_to_applicant,
        prev_hash=head.last_hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.last_hash = event.hash
    head.save(update_fields=["last_hash"])
    return event


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch_size: int = 2000) -> ChainReport:
    """Recompute every hash in order; report the first event that does not match."""
    prev = "0" * 64
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != prev:
            return ChainReport(checked, event.pk, "the link to the previous event is broken")
        if event_hash(prev, event.canonical()) != event.hash:
            return ChainReport(checked, event.pk, "the event's content does not match its hash")
        prev = event.hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    # Rows deleted at the end (or all of them) leave the head pointing past the last one.
    if head is not None and head.last_hash != prev:
        return ChainReport(checked, -1, "events are missing at the end")
    return ChainReport(checked)
