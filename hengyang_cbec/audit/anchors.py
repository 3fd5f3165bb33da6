"""Signed chain heads kept outside the database (SECURITY.md 34).

A beat job appends the newest event's id and hash, signed with the audit HMAC key, as one JSON line
to settings.AUDIT_ANCHOR_PATH (and to the `hengyang_cbec.audit.anchor` logger, for a log
shipper). That place is outside the database and append-only, so someone holding the database's
rights who empties the log and resets its head, or rewrites events and re-chains them, cannot make
the anchors agree: `verify_chain` compares every anchored event with its anchor.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditChainHead, UnknownAuditKey, current_key_id, keyed_digest

logger = logging.getLogger("hengyang_cbec.audit.anchor")


class AnchorError(Exception):
    """The anchor file is damaged or an anchor's signature is wrong (at `line`)."""

    def __init__(self, message: str, *, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Anchor:
    at: str
    event_id: int
    hash: str
    key_id: str


def _message(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def write_anchor(path: str | None = None) -> Anchor:
    """Append the signed chain head; returns what was written."""
    head = AuditChainHead.objects.filter(pk=1).first()
    key_id = current_key_id()
    fields = {
        "v": 1,
        "at": timezone.now().isoformat(),
        "event_id": head.last_id if head else 0,
        "hash": head.last_hash if head else "0" * 64,
        "key_id": key_id,
    }
    line = _message({**fields, "sig": keyed_digest(key_id, _message(fields))}) + "\n"
    target = Path(path or settings.AUDIT_ANCHOR_PATH)
    target.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each line goes to the end even if the file is append-only (chattr +a) or shared.
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    logger.info("audit chain head %s", line.strip())
    return Anchor(fields["at"], fields["event_id"], fields["hash"], key_id)


def read_anchors(path: str | None = None) -> list[Anchor]:
    """Every anchor in the file, each signature checked; none when the file does not exist yet."""
    target = Path(path or settings.AUDIT_ANCHOR_PATH)
    if not target.exists():
        return []
    anchors = []
    with target.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                sig = fields.pop("sig")
                anchor = Anchor(
                    at=str(fields["at"]),
                    event_id=int(fields["event_id"]),
                    hash=str(fields["hash"]),
                    key_id=fields["key_id"],
                )
                expected = keyed_digest(anchor.key_id, _message(fields))
            except UnknownAuditKey:
                raise AnchorError(
                    f"anchor line {number} names an unknown key", line=number
                ) from None
            except (ValueError, KeyError, TypeError, AttributeError):
                raise AnchorError(
                    f"the anchor file is damaged at line {number}", line=number
                ) from None
            if not hmac.compare_digest(str(sig), expected):
                raise AnchorError(f"anchor line {number} has a wrong signature", line=number)
            anchors.append(anchor)
    return anchors
