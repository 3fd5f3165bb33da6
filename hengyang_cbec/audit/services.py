"""Writing and checking the audit log."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    GENESIS_HASH,
    AuditChainHead,
    AuditEvent,
    UnknownAuditKey,
    current_key_id,
    event_hash,
)

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
        key_id=current_key_id(),
    )
    event.hash = event.compute_hash()
    event.save()
    head.last_hash = event.hash
    head.last_id = event.pk
    head.save(update_fields=["last_hash", "last_id"])
    return event


def record_action(
    obj,
    action: str,
    user,
    role: str,
    *,
    ip: str | None = None,
    data: dict | None = None,
    application_id: int | None = None,
    public_message: str = "",
    visible: bool = False,
    result: str = AuditEvent.Result.OK,
) -> AuditEvent:
    """One action of a service on one object: the one audit wrapper of the domain services.

    `action` is the full event name ("application.submit", "review.take", "finance.pay"); the
    application is the object itself, or the one named, or the object's `application_id`.
    `visible` shows the event (and `public_message`) on the applicant's timeline.
    """
    if application_id is None:
        application_id = (
            obj.pk if obj._meta.label_lower == "applications.application" else None
        ) or getattr(obj, "application_id", None)
    return record(
        action=action,
        actor=user,
        actor_role=role,
        ip=ip,
        obj=obj,
        application_id=application_id,
        data=data,
        result=result,
        public_message=public_message,
        visible_to_applicant=visible,
    )


# What verify_chain reports (in English for commands and logs), and how the audit page says it.
CHAIN_REASONS = {
    "the link to the previous event is broken": _("the link to the previous event is broken"),
    "an unkeyed event follows keyed ones": _("an event without a key follows keyed ones"),
    "the event names an unknown key": _("the event names a key the portal does not hold"),
    "the event's content does not match its hash": _("the event's content does not match its hash"),
    "the event differs from the chain head signed outside the database": _(
        "the event differs from the chain head signed outside the database"
    ),
    "events are missing at the end": _("events are missing at the end"),
    "events signed outside the database are missing": _(
        "events signed outside the database are missing"
    ),
}


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str = ""
    anchors: int = 0  # signed chain heads outside the database the chain was compared with
    unkeyed: int = 0  # events from before the chain was keyed (plain SHA-256)
    anchor_line: int | None = None  # the line of the anchor file that is wrong, if that is it

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    @property
    def message(self) -> str:
        """The reason in the active language."""
        if self.anchor_line is not None:
            return _("the anchor file outside the database is wrong at line %(n)s") % {
                "n": self.anchor_line
            }
        return str(CHAIN_REASONS.get(self.reason, self.reason))


def verify_chain(batch_size: int = 2000, *, anchor_path: str | None = None) -> ChainReport:
    """Recompute every hash in order and compare with the anchors; report the first mismatch.

    `broken_at` is the first event that does not match, or -1 when events are missing at the end
    or an anchored event is gone. The anchors come from settings.AUDIT_ANCHOR_PATH unless given.
    """
    from .anchors import AnchorError, read_anchors

    try:
        anchors = read_anchors(anchor_path)
    except AnchorError as error:
        return ChainReport(0, -1, str(error), anchor_line=error.line)
    expected = {anchor.event_id: anchor.hash for anchor in anchors if anchor.event_id}
    prev = GENESIS_HASH
    checked = unkeyed = 0
    keyed_seen = False
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        report = ChainReport(checked, event.pk, anchors=len(anchors), unkeyed=unkeyed)
        if event.prev_hash != prev:
            report.reason = "the link to the previous event is broken"
            return report
        if event.key_id:
            keyed_seen = True
        elif keyed_seen:
            report.reason = "an unkeyed event follows keyed ones"
            return report
        else:
            unkeyed += 1
        try:
            digest = event_hash(prev, event.canonical(), key_id=event.key_id)
        except UnknownAuditKey:
            report.reason = "the event names an unknown key"
            return report
        if not hmac.compare_digest(digest, event.hash):
            report.reason = "the event's content does not match its hash"
            return report
        anchored = expected.pop(event.pk, None)
        if anchored is not None and anchored != event.hash:
            report.reason = "the event differs from the chain head signed outside the database"
            return report
        prev = event.hash
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    # Rows deleted at the end (or all of them) leave the head pointing past the last one.
    if head is not None and head.last_hash != prev:
        return ChainReport(checked, -1, "events are missing at the end", len(anchors), unkeyed)
    if expected:
        return ChainReport(
            checked,
            -1,
            "events signed outside the database are missing",
            len(anchors),
            unkeyed,
        )
    return ChainReport(checked, anchors=len(anchors), unkeyed=unkeyed)
