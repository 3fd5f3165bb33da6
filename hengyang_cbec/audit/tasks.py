from celery import shared_task

from .anchors import write_anchor


@shared_task(name="hengyang_cbec.audit.tasks.anchor_audit_chain")
def anchor_audit_chain() -> int:
    """Append the signed chain head outside the database (beat, settings.AUDIT_ANCHOR_SECONDS)."""
    return write_anchor().event_id
