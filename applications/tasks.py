"""Background work of the applicant's side. Tasks take ids, are idempotent and time-limited."""

from __future__ import annotations

from celery import shared_task

from hengyang_cbec.queueing import publish

from .models import EnterpriseDocument, Evidence


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
    from .scanning import scan_stored_file

    return scan_stored_file(Evidence.objects, evidence_id)


@shared_task(
    bind=True,
    autoretry_for=(ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def scan_enterprise_document(self, document_id: int) -> str:
    """Scan a business licence or authorisation letter like evidence (fail closed)."""
    from .scanning import scan_stored_file

    return scan_stored_file(EnterpriseDocument.objects, document_id)


@shared_task(soft_time_limit=300, time_limit=360)
def rescan_pending_evidence() -> int:
    """Periodic: files left pending (scanner down, broker down) are sent to be scanned again,
    evidence and enterprise documents alike."""
    pending = Evidence.ScanState.PENDING
    ids = list(Evidence.objects.filter(scan_state=pending).values_list("pk", flat=True))
    documents = list(
        EnterpriseDocument.objects.filter(scan_state=pending).values_list("pk", flat=True)
    )
    return sum(publish(scan_evidence, evidence_id) for evidence_id in ids) + sum(
        publish(scan_enterprise_document, document_id) for document_id in documents
    )


@shared_task(soft_time_limit=300, time_limit=360)
def lapse_overdue_returns() -> int:
    from .services import lapse_overdue_returns as lapse

    return lapse()


@shared_task(soft_time_limit=1800, time_limit=1900)
def purge_expired_personal_data() -> dict[str, int]:
    """Daily: the retention rule (retention.py); one audit event with the counts."""
    from .retention import purge_personal_data

    return purge_personal_data().counts()
