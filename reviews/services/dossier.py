"""The auditor's dossier: who may have one, asking for it, building it in the background, its
download and its expiry. Every step is an audit event; the built one carries the ZIP's SHA-256.

Auditors and finance supervisors only (Role.AUDITOR, Role.FINANCE_SUPERVISOR). A dossier is seen
and downloaded only by the person who asked for it, until DOSSIER_EXPIRY_HOURS after it was built;
then beat deletes the file and the page says it expired.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role, has_role
from hengyang_cbec.audit.services import record
from hengyang_cbec.formatting import person
from hengyang_cbec.queueing import publish

from ..models import DisbursementBatch, DossierJob

logger = logging.getLogger(__name__)

DOSSIER_ROLES = (Role.AUDITOR, Role.FINANCE_SUPERVISOR)
PROGRESS_EVERY = 10


class DossierError(Exception):
    """A dossier that cannot be had; the message is for the person who asked."""


def dossier_role(user) -> Role | None:
    """The role in which the user may have dossiers: the first of DOSSIER_ROLES they hold."""
    return next((role for role in DOSSIER_ROLES if has_role(user, role)), None)


def may_have_dossiers(user) -> bool:
    return dossier_role(user) is not None


def applications_for(job: DossierJob) -> QuerySet[Application]:
    """The applications a dossier covers (never drafts), in reference order."""
    applications = Application.objects.exclude(state=State.DRAFT)
    if job.scope == DossierJob.Scope.APPLICATION:
        applications = applications.filter(pk=job.application_id)
    elif job.scope == DossierJob.Scope.MEASURE_YEAR:
        applications = applications.filter(measure__code=job.measure_code, year=job.year)
    else:
        applications = applications.filter(
            pk__in=Application.objects.filter(
                awards__disbursement_line__batch_id=job.batch_id
            ).values("pk")
        )
    return applications.select_related(
        "enterprise", "enterprise__district", "measure", "measure__policy", "policy", "submitted_by"
    ).order_by("reference", "pk")


def _scope_data(job: DossierJob) -> dict:
    data = {"kind": job.scope, "label": job.label}
    if job.scope == DossierJob.Scope.APPLICATION:
        data["application_id"] = job.application_id
    elif job.scope == DossierJob.Scope.MEASURE_YEAR:
        data.update(measure=job.measure_code, year=job.year)
    else:
        data["batch"] = job.batch.number
    return data


@transaction.atomic
def dossier_request(
    *,
    user,
    scope: str,
    application: Application | None = None,
    measure_code: str = "",
    year: int | None = None,
    batch: DisbursementBatch | None = None,
    ip=None,
) -> DossierJob:
    """Ask for a dossier; it is built by a worker (in-process after commit when embedded)."""
    from ..tasks import build_dossier

    role = dossier_role(user)
    if role is None:
        raise DossierError(_("Only auditors and finance supervisors may have dossiers."))
    job = DossierJob(
        scope=scope,
        application=application if scope == DossierJob.Scope.APPLICATION else None,
        measure_code=measure_code if scope == DossierJob.Scope.MEASURE_YEAR else "",
        year=year if scope == DossierJob.Scope.MEASURE_YEAR else None,
        batch=batch if scope == DossierJob.Scope.BATCH else None,
        requested_by=user,
    )
    if scope == DossierJob.Scope.APPLICATION and (application is None or not application.reference):
        raise DossierError(_("There is no submitted application with this reference."))
    job.rows_total = applications_for(job).count()
    if not job.rows_total:
        raise DossierError(_("No submitted application falls in this scope."))
    job.save()
    record(
        action="dossier.request",
        actor=user,
        actor_role=role,
        ip=ip,
        obj=job,
        application_id=job.application_id,
        data={"scope": _scope_data(job), "applications": job.rows_total},
    )
    # A job the broker does not take stays pending: the beat sweep sends it again.
    transaction.on_commit(lambda: publish(build_dossier, job.pk))
    return job


def dossier_build(job_id: int) -> str:
    """Write the ZIP of a job into storage, one application at a time (the task's body).

    Idempotent: a ready or expired job is left as it is.
    """
    from applications.uploads import storage_name

    from ..dossier.writer import write_dossier

    job = DossierJob.objects.select_related("application", "batch", "requested_by").get(pk=job_id)
    if job.status not in (DossierJob.Status.PENDING, DossierJob.Status.RUNNING):
        return "nothing to do"
    DossierJob.objects.filter(pk=job.pk).update(status=DossierJob.Status.RUNNING, rows_done=0)

    def progress(done: int) -> None:
        if done % PROGRESS_EVERY == 0:
            DossierJob.objects.filter(pk=job.pk).update(rows_done=done)

    name = storage_name(prefix="dossiers", kind="zip")
    local = _local_path(name)
    try:
        # On disk storage the ZIP is written in place; elsewhere (S3) into a temporary file that
        # is then streamed to storage. Either way one application at a time is in memory.
        with local.open("w+b") if local else tempfile.TemporaryFile(prefix="dossier-") as handle:
            written = write_dossier(
                handle,
                applications_for(job).iterator(chunk_size=100),
                scope=_scope_data(job),
                built_by=person(job.requested_by),
                progress=progress,
            )
            size = handle.seek(0, 2)
            handle.seek(0)
            digest = hashlib.sha256()
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
            if local is None:
                handle.seek(0)
                name = default_storage.save(name, File(handle))
            elif getattr(default_storage, "file_permissions_mode", None) is not None:
                local.chmod(default_storage.file_permissions_mode)
    except BaseException:
        if local is not None:
            local.unlink(missing_ok=True)
        raise
    now = timezone.now()
    with transaction.atomic():
        DossierJob.objects.filter(pk=job.pk).update(
            status=DossierJob.Status.READY,
            rows_done=len(written.applications),
            rows_total=len(written.applications),
            events=written.events,
            file=name,
            size=size,
            sha256=digest.hexdigest(),
            finished_at=now,
            expires_at=now + timedelta(hours=settings.DOSSIER_EXPIRY_HOURS),
        )
        record(
            action="dossier.built",
            actor=job.requested_by,
            actor_role=dossier_role(job.requested_by) or "",
            obj=job,
            application_id=job.application_id,
            data={
                "scope": _scope_data(job),
                "rows": len(written.applications),
                "events": written.events,
                "files": len(written.files) + 1,
                "bytes": size,
                "sha256": digest.hexdigest(),
                "manifest_sha256": written.manifest_sha256,
            },
        )
    return "ready"


def _local_path(name: str) -> Path | None:
    """Where `name` lies on disk when storage is a local folder (parents made), else None."""
    try:
        path = Path(default_storage.path(name))
    except NotImplementedError:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def dossier_failed(job_id: int, error: str) -> None:
    DossierJob.objects.filter(pk=job_id).update(
        status=DossierJob.Status.FAILED, error=error[:300], finished_at=timezone.now()
    )


def jobs_of(user) -> QuerySet[DossierJob]:
    return DossierJob.objects.filter(requested_by=user).select_related("application", "batch")


def audit_download(*, user, job: DossierJob, ip=None) -> None:
    """The dossier leaves the portal: who, which, how many applications, its SHA-256."""
    record(
        action="dossier.download",
        actor=user,
        actor_role=dossier_role(user) or "",
        ip=ip,
        obj=job,
        application_id=job.application_id,
        data={"scope": _scope_data(job), "rows": job.rows_total, "sha256": job.sha256},
    )


def expire_dossiers() -> int:
    """Delete the files of dossiers past their time and mark them expired (beat)."""
    due = DossierJob.objects.filter(
        status=DossierJob.Status.READY, expires_at__lte=timezone.now()
    ).order_by("pk")
    expired = 0
    for job in due[:500]:
        if job.file:
            try:
                default_storage.delete(job.file.name)
            except OSError:
                logger.warning("dossier %s: could not delete %s", job.pk, job.file.name)
                continue
        DossierJob.objects.filter(pk=job.pk).update(status=DossierJob.Status.EXPIRED, file="")
        expired += 1
    return expired


def sweep_pending() -> int:
    """Send again the dossiers still pending DOSSIER_STALE_SECONDS after they were asked for."""
    from ..tasks import build_dossier

    due = DossierJob.objects.filter(
        status=DossierJob.Status.PENDING,
        created_at__lte=timezone.now() - timedelta(seconds=settings.EXPORT_STALE_SECONDS),
    )
    sent = 0
    for job_id in due.order_by("pk").values_list("pk", flat=True)[:100]:
        if not publish(build_dossier, job_id):
            break
        sent += 1
    return sent
