"""Background work of the applicant's side. Tasks take ids, are idempotent and time-limited."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from hengyang_cbec.queueing import publish

from .models import Evidence


@shared_task(
    bind=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def scan_evidence(self, evidence_id: int) -> str:
    """Scan one file; a scanner that cannot be reached leaves it pending (fail closed)."""
    from .scanning import ScanResult, get_scanner

    evidence = Evidence.objects.filter(pk=evidence_id).first()
    if evidence is None or evidence.scan_state != Evidence.ScanState.PENDING:
        return "nothing to do"
    with evidence.file.open("rb") as handle:
        result, detail = get_scanner().scan(handle)
    if result == ScanResult.PENDING:
        return "pending"
    with transaction.atomic():
        updated = Evidence.objects.filter(
            pk=evidence_id, scan_state=Evidence.ScanState.PENDING
        ).update(
            scan_state=Evidence.ScanState.CLEAN
            if result == ScanResult.CLEAN
            else Evidence.ScanState.INFECTED,
            scan_detail=str(detail)[:200],
        )
    return str(result) if updated else "already scanned"


@shared_task(soft_time_limit=300, time_limit=360)
def rescan_pending_evidence() -> int:
    """Periodic: files left pending (scanner down, broker down) are sent to be scanned again."""
    ids = list(
        Evidence.objects.filter(scan_state=Evidence.ScanState.PENDING).values_list("pk", flat=True)
    )
    return sum(publish(scan_evidence, evidence_id) for evidence_id in ids)


@shared_task(soft_time_limit=300, time_limit=360)
def lapse_overdue_returns() -> int:
    from .services import lapse_overdue_returns as lapse

    return lapse()


@shared_task(soft_time_limit=1800, time_limit=1900)
def purge_expired_personal_data() -> dict[str, int]:
    """Daily: the retention rule (retention.py); one audit event with the counts."""
    from .retention import purge_personal_data

    return purge_personal_data().counts()
